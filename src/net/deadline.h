#pragma once
// A wall-clock bound on a whole exchange, not on each read: a Deadline, a Watchdog that
// shuts a socket down when the deadline passes (which ends any blocking call on it, however
// slowly the peer drips), and name resolution that gives up at the deadline.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <thread>

namespace iotspot::net {

/// A point in time on the monotonic clock, `seconds` from its construction.
class Deadline {
public:
    explicit Deadline(int seconds);

    /// The bound it was made with, for messages.
    int seconds() const { return seconds_; }
    std::chrono::steady_clock::time_point at() const { return at_; }
    bool passed() const;
    /// The time left, at least one millisecond (a zero socket timeout means "none").
    std::chrono::milliseconds remaining() const;

private:
    int seconds_;
    std::chrono::steady_clock::time_point at_;
};

/// Shuts the socket `fd` down (both directions) when `deadline` passes, unless stopped
/// first, so that whatever blocks on it returns. It watches a duplicate of `fd`, so the owner
/// may close its own descriptor at any time. A watchdog that is never armed does nothing.
class Watchdog {
public:
    explicit Watchdog(const Deadline& deadline);
    ~Watchdog();
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    /// Starts watching `fd` (once).
    void arm(int fd);
    /// Stops watching; waits for the watchdog thread.
    void stop();
    /// Whether it shut the socket down because the deadline passed.
    bool fired() const;

private:
    const Deadline deadline_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    int fd_ = -1;
    bool stopping_ = false;
    bool fired_ = false;
    std::thread thread_;
};

/// A socket address, IPv4 or IPv6.
struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;

    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

/// An address of `host`:`port` (IPv4 preferred), or nullopt with `error` set when the name does not
/// resolve or resolution has not finished by `deadline` (getaddrinfo cannot be interrupted,
/// so it runs on a thread of its own that is left to finish alone).
std::optional<Address> resolve_within(const std::string& host, unsigned short port,
                                      const Deadline& deadline, std::string& error,
                                      bool& timed_out);

} // namespace iotspot::net
