#include "cli/signal_wait.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <string>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/error.h"

namespace iotspot::cli {

namespace {

[[noreturn]] void fail(const char* what) {
    throw core::Error(core::Exit::failure,
                      std::string("cannot ") + what + ": " + std::strerror(errno));
}

// Catches nothing: a handler only so that, as PID 1 in a PID namespace, the kernel does not
// drop these signals (it drops signals to init that have the default action).
void ignore_signal(int /*signal*/) {}

// Arms `fd` to fire at Unix time `when`, or at once when that has passed.
void arm(int fd, double when) {
    itimerspec spec{};
    const double whole = std::floor(when);
    spec.it_value.tv_sec = static_cast<time_t>(whole);
    spec.it_value.tv_nsec = static_cast<long>((when - whole) * 1e9);
    if (spec.it_value.tv_sec <= 0) {
        spec.it_value.tv_nsec = 1;
    }
    if (::timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, nullptr) != 0) {
        fail("set a timer");
    }
}

} // namespace

double unix_now() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

SignalWait::SignalWait(std::initializer_list<int> signals) {
    sigset_t mask;
    sigemptyset(&mask);
    for (const int signal : signals) {
        sigaddset(&mask, signal);
        struct sigaction action {};
        action.sa_handler = ignore_signal;
        ::sigaction(signal, &action, nullptr);
    }
    if (::sigprocmask(SIG_BLOCK, &mask, &original_) != 0) {
        fail("block signals");
    }
    signal_fd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    timer_fd_.reset(::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!signal_fd_ || !timer_fd_) {
        const int error = errno;
        ::sigprocmask(SIG_SETMASK, &original_, nullptr); // no destructor after a throw
        errno = error;
        fail("wait for signals");
    }
}

SignalWait::~SignalWait() {
    ::sigprocmask(SIG_SETMASK, &original_, nullptr);
}

int SignalWait::wait_until(double when) {
    arm(timer_fd_.get(), when);
    pollfd fds[2] = {{signal_fd_.get(), POLLIN, 0}, {timer_fd_.get(), POLLIN, 0}};
    for (;;) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("wait");
        }
        signalfd_siginfo info{};
        if ((fds[0].revents & POLLIN) != 0 &&
            ::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            return static_cast<int>(info.ssi_signo);
        }
        if ((fds[1].revents & POLLIN) != 0) {
            std::uint64_t expirations = 0;
            // ECANCELED: the clock was set; the caller looks at it again.
            (void)!::read(timer_fd_.get(), &expirations, sizeof expirations);
            return 0;
        }
    }
}

} // namespace iotspot::cli
