#include "net/deadline.h"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace iotspot::net {

using Clock = std::chrono::steady_clock;

Deadline::Deadline(int seconds)
    : seconds_(seconds), at_(Clock::now() + std::chrono::seconds(seconds)) {}

bool Deadline::passed() const {
    return Clock::now() >= at_;
}

std::chrono::milliseconds Deadline::remaining() const {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now());
    return std::max(std::chrono::milliseconds(1), left);
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
    std::optional<Address> address;
    std::string error;
};

// getaddrinfo for `host`:`port`, TCP; `flags` may add AI_NUMERICHOST. One address, or
// nullopt with `error` set.
std::optional<Address> lookup(const std::string& host, unsigned short port, int flags,
                              std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | flags;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
        error = rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_AGAIN || found == nullptr
                    ? "cannot resolve " + host + "; check token_url and your DNS"
                    : "cannot resolve " + host + ": " + ::gai_strerror(rc);
        return std::nullopt;
    }
    // An IPv4 address first, as Poco's resolver did: "localhost" is often ::1 first, while
    // servers on a machine listen on 127.0.0.1.
    const addrinfo* chosen = found;
    for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
        if (entry->ai_family == AF_INET) {
            chosen = entry;
            break;
        }
    }
    Address address;
    address.length =
        static_cast<socklen_t>(std::min<std::size_t>(chosen->ai_addrlen, sizeof address.storage));
    std::memcpy(&address.storage, chosen->ai_addr, address.length);
    ::freeaddrinfo(found);
    return address;
}

} // namespace

std::optional<Address> resolve_within(const std::string& host, unsigned short port,
                                      const Deadline& deadline, std::string& error,
                                      bool& timed_out) {
    timed_out = false;
    // A numeric address needs no lookup, and no thread.
    if (std::string ignored; auto numeric = lookup(host, port, AI_NUMERICHOST, ignored)) {
        return numeric;
    }
    auto shared = std::make_shared<Resolution>();
    std::thread([shared, host, port] {
        std::string failure;
        auto address = lookup(host, port, 0, failure);
        std::lock_guard<std::mutex> guard(shared->mutex);
        shared->address = address;
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
