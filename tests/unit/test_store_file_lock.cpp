#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catch.h"
#include "core/error.h"
#include "store/file_lock.h"
#include "store/files.h"
#include "temp_dir.h"

using namespace iotspot::core;
using namespace iotspot::store;
using iotspot::test::TempDir;

namespace {

FileLock::Deadline in_ms(int ms) {
    return std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
}

// A child process that takes the lock, tells the parent through a pipe, and waits to be
// killed. Returns its pid.
pid_t child_holding(const std::string& path) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(ready[0]);
        iotspot::store::FileLock lock(path, in_ms(5000));
        const char byte = 'x';
        (void)!::write(ready[1], &byte, 1);
        for (;;) {
            ::pause();
        }
    }
    ::close(ready[1]);
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    ::close(ready[0]);
    return pid;
}

} // namespace

TEST_CASE("file lock: a second holder waits until the first lets go") {
    TempDir dir;
    const std::string path = dir / "p.lock";
    auto first = std::make_unique<iotspot::store::FileLock>(path, in_ms(1000));
    CHECK_THROWS_AS(iotspot::store::FileLock(path, in_ms(50)), LockTimeout);
    first.reset();
    CHECK_NOTHROW(iotspot::store::FileLock(path, in_ms(50)));
}

TEST_CASE("file lock: the wait ends at the deadline and names the holder") {
    TempDir dir;
    const std::string path = dir / "p.lock";
    iotspot::store::FileLock held(path, in_ms(1000));
    const auto started = std::chrono::steady_clock::now();
    try {
        iotspot::store::FileLock waiting(path, in_ms(200));
        FAIL("the second lock was granted");
    } catch (const LockTimeout& timeout) {
        CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(200));
        CHECK(timeout.code() == Exit::network);
        REQUIRE(timeout.holder());
        CHECK(timeout.holder()->pid == ::getpid());
        CHECK(std::string(timeout.what())
                  .find("process " + std::to_string(::getpid()) + " has held the lock " + path) !=
              std::string::npos);
    }
}

TEST_CASE("file lock: a deadline already passed still gets a free lock") {
    TempDir dir;
    CHECK_NOTHROW(iotspot::store::FileLock(dir / "p.lock", std::chrono::steady_clock::now()));
}

TEST_CASE("file lock: the kernel releases it when the holder dies") {
    TempDir dir;
    const std::string path = dir / "p.lock";
    const pid_t holder = child_holding(path);
    try {
        iotspot::store::FileLock waiting(path, in_ms(100));
        FAIL("the lock of a live holder was granted");
    } catch (const LockTimeout& timeout) {
        REQUIRE(timeout.holder());
        CHECK(timeout.holder()->pid == holder);
    }
    ::kill(holder, SIGKILL);
    ::waitpid(holder, nullptr, 0);
    CHECK_NOTHROW(iotspot::store::FileLock(path, in_ms(1000)));
}

TEST_CASE("file lock: a stopped holder does not block past the deadline") {
    TempDir dir;
    const std::string path = dir / "p.lock";
    const pid_t holder = child_holding(path);
    ::kill(holder, SIGSTOP);
    CHECK_THROWS_AS(iotspot::store::FileLock(path, in_ms(100)), LockTimeout);
    ::kill(holder, SIGKILL);
    ::waitpid(holder, nullptr, 0);
}

TEST_CASE("file lock: a symbolic link or a FIFO in its place is refused") {
    TempDir dir;
    const std::string target = dir / "elsewhere";
    REQUIRE(::symlink(target.c_str(), (dir / "link.lock").c_str()) == 0);
    CHECK_THROWS_AS(iotspot::store::FileLock(dir / "link.lock", in_ms(100)), StoreRefused);
    CHECK(::access(target.c_str(), F_OK) != 0); // nothing created through the link
    REQUIRE(::mkfifo((dir / "fifo.lock").c_str(), 0600) == 0);
    CHECK_THROWS_AS(iotspot::store::FileLock(dir / "fifo.lock", in_ms(100)), StoreRefused);
}

TEST_CASE("file lock: the holder line is parsed strictly") {
    CHECK(iotspot::store::parse_lock_holder("123 1700000000\n")->pid == 123);
    CHECK(iotspot::store::parse_lock_holder("123 1700000000")->since == 1700000000);
    CHECK_FALSE(iotspot::store::parse_lock_holder(""));
    CHECK_FALSE(iotspot::store::parse_lock_holder("123"));
    CHECK_FALSE(iotspot::store::parse_lock_holder("-1 5"));
    CHECK_FALSE(iotspot::store::parse_lock_holder("abc 5"));
    CHECK_FALSE(iotspot::store::parse_lock_holder("1 2 3"));
}
