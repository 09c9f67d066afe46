#pragma once
// An owned file descriptor: closed when its owner goes, handed on by move, never copied.

#include <unistd.h>
#include <utility>

namespace iotspot::util {

class Fd {
public:
    /// Owns nothing.
    Fd() noexcept = default;
    /// Owns `fd` (a negative value: nothing, as open() reports a failure).
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    /// The descriptor, still owned; -1 when none.
    int get() const noexcept { return fd_; }
    /// True when a descriptor is owned.
    explicit operator bool() const noexcept { return fd_ >= 0; }
    /// Gives the descriptor up without closing it; the caller owns it now.
    int release() noexcept { return std::exchange(fd_, -1); }
    /// Closes the owned descriptor, if any, and owns `fd` instead. The close is never
    /// retried: Linux frees the descriptor even when close() reports EINTR, and a retry could
    /// close one that another thread has just opened.
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

} // namespace iotspot::util
