#include "net/deadline.h"

#include <fcntl.h>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>

namespace iotspot::net {

using Clock = std::chrono::steady_clock;

Deadline::Deadline(int seconds)
    : seconds_(seconds), at_(Clock::now() + std::chrono::seconds(seconds)) {}

bool Deadline::passed() const {
    return Clock::now() >= at_;
}

Poco::Timespan Deadline::remaining() const {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(at_ - Clock::now());
    return Poco::Timespan(std::max<Poco::Timespan::TimeDiff>(1000, left.count()));
}

Watchdog::Watchdog(const Deadline& deadline) : deadline_(deadline) {}

Watchdog::~Watchdog() {
    stop();
}

void Watchdog::arm(int fd) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (thread_.joinable() || stopping_) {
        return;
    }
    // A descriptor of its own for the same socket: the owner may close its descriptor (and
    // the number be reused) before stop(); shutdown() acts on the socket, not the number.
    fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) {
        return;
    }
    thread_ = std::thread([this] {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!wake_.wait_until(lock, deadline_.at(), [this] { return stopping_; })) {
            ::shutdown(fd_, SHUT_RDWR);
            fired_ = true;
        }
    });
}

void Watchdog::stop() {
    {
        std::lock_guard<std::mutex> guard(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

bool Watchdog::fired() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return fired_;
}

namespace {

// What a resolver thread hands back; shared, because the thread may outlive the caller.
struct Resolution {
    std::mutex mutex;
    std::condition_variable done_signal;
    bool done = false;
    std::optional<Poco::Net::SocketAddress> address;
    std::string error;
};

} // namespace

std::optional<Poco::Net::SocketAddress> resolve_within(const std::string& host, unsigned short port,
                                                       const Deadline& deadline, std::string& error,
                                                       bool& timed_out) {
    timed_out = false;
    // A numeric address needs no lookup, and no thread.
    if (Poco::Net::IPAddress numeric; Poco::Net::IPAddress::tryParse(host, numeric)) {
        return Poco::Net::SocketAddress(numeric, port);
    }
    auto shared = std::make_shared<Resolution>();
    std::thread([shared, host, port] {
        std::optional<Poco::Net::SocketAddress> address;
        std::string failure;
        try {
            address = Poco::Net::SocketAddress(host, port);
        } catch (const Poco::Net::HostNotFoundException&) {
            failure = "cannot resolve " + host + "; check token_url and your DNS";
        } catch (const Poco::Net::NoAddressFoundException&) {
            failure = "cannot resolve " + host + "; check token_url and your DNS";
        } catch (const Poco::Exception& e) {
            failure = "cannot resolve " + host + ": " + e.displayText();
        } catch (const std::exception& e) {
            failure = "cannot resolve " + host + ": " + e.what();
        }
        std::lock_guard<std::mutex> guard(shared->mutex);
        shared->address = std::move(address);
        shared->error = std::move(failure);
        shared->done = true;
        shared->done_signal.notify_all();
    }).detach();

    std::unique_lock<std::mutex> lock(shared->mutex);
    if (!shared->done_signal.wait_until(lock, deadline.at(), [&] { return shared->done; })) {
        timed_out = true;
        error = "cannot resolve " + host + " within " + std::to_string(deadline.seconds()) +
                " s; check your DNS";
        return std::nullopt;
    }
    error = shared->error;
    return shared->address;
}

} // namespace iotspot::net
