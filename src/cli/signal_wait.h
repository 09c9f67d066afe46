#pragma once
// Waiting for a wall-clock time or a signal, whichever comes first, without polling: the
// signals are blocked and read from a signalfd, the time is a timerfd on CLOCK_REALTIME
// (it fires at the right time after a suspend, and early when the clock is set, so the
// caller looks at the clock again). `sink` and `exec --keep-fresh` sleep here until their
// token's next refresh is due.

#include <csignal>
#include <initializer_list>

#include "util/fd.h"

namespace iotspot::cli {

class SignalWait {
public:
    /// Blocks `signals` (and keeps them blocked until destruction) and opens the descriptors,
    /// both close-on-exec. Throws Error(failure) when the kernel refuses.
    explicit SignalWait(std::initializer_list<int> signals);
    ~SignalWait();
    SignalWait(const SignalWait&) = delete;
    SignalWait& operator=(const SignalWait&) = delete;

    /// Waits until Unix time `when` (seconds, fractional) or a signal. Returns the signal's
    /// number, or 0 when the time came or the clock was set.
    int wait_until(double when);

    /// The signal mask before construction: what a child gets back before it runs a program.
    const sigset_t& original_mask() const { return original_; }

private:
    util::Fd signal_fd_;
    util::Fd timer_fd_;
    sigset_t original_{};
};

/// Now, in Unix seconds with a fraction.
double unix_now();

} // namespace iotspot::cli
