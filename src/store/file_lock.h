#pragma once
// An exclusive advisory lock (flock) on a file, held for the lifetime of the object.
// The kernel drops it when the process dies, so a crashed holder never blocks others; a
// holder that is stopped (SIGSTOP) or hangs keeps it, so every wait has a deadline.
//
// The holder writes "PID START" (its process id and the Unix time it took the lock) into
// the file, so that a caller that gives up can say who held the lock, and for how long.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "util/fd.h"

namespace iotspot::store {

/// Who holds a lock, as the holder wrote it into the lock file.
struct LockHolder {
    std::int64_t pid = 0;
    std::int64_t since = 0; ///< Unix seconds when it took the lock
};

/// The lock was still held by another process when the deadline passed. Exit 5: the
/// refresh the caller waited for did not finish in time.
class LockTimeout : public core::Error {
public:
    LockTimeout(const std::string& message, std::optional<LockHolder> holder)
        : core::Error(core::Exit::network, message), holder_(holder) {}
    /// The holder, when the lock file names one.
    const std::optional<LockHolder>& holder() const { return holder_; }

private:
    std::optional<LockHolder> holder_;
};

class FileLock {
public:
    using Deadline = std::chrono::steady_clock::time_point;

    /// Opens (creating, 0600, never through a symbolic link) and locks `path`, waiting while
    /// another process holds it, until `deadline`. Throws LockTimeout when the deadline
    /// passes, StoreRefused when `path` is a link or not a regular file, and Error(store)
    /// when it cannot be opened.
    FileLock(const std::string& path, Deadline deadline);
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    /// True when another process held the lock and this one had to wait for it.
    bool waited() const { return waited_; }

private:
    util::Fd fd_;
    bool waited_ = false;
};

/// Parses the "PID START" a holder wrote into a lock file; nullopt when it is not that.
std::optional<LockHolder> parse_lock_holder(const std::string& content);

} // namespace iotspot::store
