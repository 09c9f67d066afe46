#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

#include "catch.h"
#include "util/fd.h"

using iotspot::util::Fd;

namespace {

bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

int open_null() {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return fd;
}

} // namespace

TEST_CASE("fd: the descriptor is closed when its owner leaves the scope") {
    const int raw = open_null();
    {
        const Fd owner(raw);
        CHECK(owner);
        CHECK(owner.get() == raw);
        CHECK(is_open(raw));
    }
    CHECK_FALSE(is_open(raw));
}

TEST_CASE("fd: a failed open owns nothing") {
    const Fd none(::open("/nonexistent/file", O_RDONLY | O_CLOEXEC));
    CHECK_FALSE(none);
    CHECK(none.get() == -1);
    CHECK_FALSE(Fd());
}

TEST_CASE("fd: a move hands the descriptor on without closing it") {
    const int raw = open_null();
    Fd first(raw);
    {
        const Fd second(std::move(first));
        CHECK_FALSE(first); // NOLINT(bugprone-use-after-move): the moved-from state is specified
        CHECK(second.get() == raw);
        CHECK(is_open(raw));
    }
    CHECK_FALSE(is_open(raw));
}

TEST_CASE("fd: assigning over an owner closes what it held") {
    const int old_raw = open_null();
    const int new_raw = open_null();
    Fd owner(old_raw);
    owner = Fd(new_raw);
    CHECK_FALSE(is_open(old_raw));
    CHECK(is_open(new_raw));
    CHECK(owner.get() == new_raw);
    owner.reset();
    CHECK_FALSE(owner);
    CHECK_FALSE(is_open(new_raw));
}

TEST_CASE("fd: a released descriptor stays open") {
    const int raw = open_null();
    {
        Fd owner(raw);
        CHECK(owner.release() == raw);
        CHECK_FALSE(owner);
    }
    CHECK(is_open(raw));
    ::close(raw);
}
