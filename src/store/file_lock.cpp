#include "store/file_lock.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>
#include <utility>

#include "store/files.h"
#include "util/strings.h"

namespace iotspot::store {

namespace {

// Polling, not a blocking flock: a blocking flock can only be interrupted by a signal, and
// prefetch's threads wait on locks at the same time.
constexpr std::chrono::milliseconds first_poll(2);
constexpr std::chrono::milliseconds longest_poll(50);

std::string read_holder_text(int fd) {
    char buffer[64];
    const auto n = ::pread(fd, buffer, sizeof buffer - 1, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

void write_holder(int fd) {
    const std::string text = std::to_string(::getpid()) + " " +
                             std::to_string(static_cast<std::int64_t>(std::time(nullptr))) + "\n";
    // Best effort: the lock works without it, only the message of a waiter that gives up
    // would name no holder.
    if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, text.data(), text.size(), 0) < 0) {
        return;
    }
}

[[noreturn]] void time_out(int fd, const std::string& path) {
    const auto holder = parse_lock_holder(read_holder_text(fd));
    std::string message = "another process still holds the lock " + path;
    if (holder) {
        const auto held = static_cast<std::int64_t>(std::time(nullptr)) - holder->since;
        message = "process " + std::to_string(holder->pid) + " has held the lock " + path +
                  " for " + std::to_string(held < 0 ? 0 : held) + " s";
    }
    throw LockTimeout(message, holder);
}

// Why a lock could not be taken: another process held it past the deadline, or the system
// refused (`reason`).
struct LockFailure {
    bool timed_out = false;
    std::string reason;
};

// Takes the exclusive lock on `fd`, polling while another process holds it, until `deadline`.
// Returns whether it had to wait.
util::Result<bool, LockFailure> lock_within(int fd, FileLock::Deadline deadline) {
    bool waited = false;
    std::chrono::milliseconds pause = first_poll;
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) {
            continue;
        }
        if (errno != EWOULDBLOCK) {
            return util::Failure{LockFailure{false, std::strerror(errno)}};
        }
        waited = true;
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            return util::Failure{LockFailure{true, {}}};
        }
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
        pause = std::min<std::chrono::milliseconds>(pause * 2, longest_poll);
    }
    return waited;
}

} // namespace

std::optional<LockHolder> parse_lock_holder(const std::string& content) {
    const auto fields = util::split(util::trim(content), ' ');
    if (fields.size() != 2) {
        return std::nullopt;
    }
    const auto pid = util::parse_int(fields[0]);
    const auto since = util::parse_int(fields[1]);
    if (!pid || !since || *pid <= 0 || *since < 0) {
        return std::nullopt;
    }
    return LockHolder{*pid, *since};
}

FileLock::FileLock(const std::string& path, Deadline deadline) {
    auto opened = open_regular_file(path, O_RDWR | O_CREAT, "lock file");
    if (!opened) {
        throw_problem(opened.error());
    }
    fd_ = std::move(opened).value();
    const auto locked = lock_within(fd_.get(), deadline);
    if (!locked && locked.error().timed_out) {
        time_out(fd_.get(), path);
    }
    if (!locked) {
        throw core::Error(core::Exit::store, "cannot lock " + path + ": " + locked.error().reason);
    }
    waited_ = locked.value();
    write_holder(fd_.get());
}

} // namespace iotspot::store
