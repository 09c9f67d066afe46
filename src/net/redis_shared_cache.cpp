#include "net/redis_shared_cache.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <utility>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include "net/poco_tls_context.h"
#include "net/redis_reply.h"
#include "net/tls_context.h"
#include "util/strings.h"

namespace iotspot::net {

namespace {

using core::SharedFailure;
using core::SharedReply;
using Clock = std::chrono::steady_clock;

// Deletes KEYS[1] only while it holds ARGV[1]: a lock is released by its holder only.
constexpr const char* increment_and_expire =
    "local n = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return n";

constexpr const char* compare_and_delete =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
    "else return 0 end";

// The most of a server's error text that a message shows.
constexpr std::size_t error_text_limit = 200;

// A reply the server sent as an error (`-ERR ...`, `-WRONGPASS ...`), as it sent it.
class ServerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A reply refused by the reader (net/redis_reply.h), or a connection closed mid-reply.
class ProtocolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The server closed the connection before its reply was complete.
class ConnectionClosed : public std::runtime_error {
public:
    ConnectionClosed() : std::runtime_error("closed") {}
};

// The command's deadline passed.
class CommandTimeout : public std::runtime_error {
public:
    CommandTimeout() : std::runtime_error("timeout") {}
};

// The name of the Redis host did not resolve.
class ResolveError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

bool starts_with(const std::string& text, const char* prefix) {
    return text.rfind(prefix, 0) == 0;
}

// What is left until `until`, for a socket timeout: at least 1 ms (0 would mean none).
Poco::Timespan left_until(Clock::time_point until) {
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(until - Clock::now());
    return Poco::Timespan(std::max<std::int64_t>(left.count(), 1000));
}

// Shuts a socket down when `until` passes, which ends any read, write or handshake waiting
// on it, however slowly the other side sends.
class Watchdog {
public:
    Watchdog(int fd, Clock::time_point until)
        : thread_([this, fd, until] {
              std::unique_lock<std::mutex> lock(mutex_);
              if (!stopped_.wait_until(lock, until, [this] { return done_; })) {
                  ::shutdown(fd, SHUT_RDWR);
              }
          }) {}
    ~Watchdog() {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        stopped_.notify_one();
        thread_.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

private:
    std::mutex mutex_;
    std::condition_variable stopped_;
    bool done_ = false;
    std::thread thread_;
};

// Blocks SIGPIPE on this thread for one command, and discards one raised meanwhile: a write
// to a connection Redis closed fails with EPIPE instead of ending the process. (Ignoring
// SIGPIPE process-wide would pass on to the child of `exec`.)
class SigpipeBlocked {
public:
    SigpipeBlocked() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
    }
    ~SigpipeBlocked() {
        sigset_t pending;
        sigpending(&pending);
        if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
            const timespec now{0, 0};
            sigtimedwait(&pipe_, nullptr, &now);
        }
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
    SigpipeBlocked(const SigpipeBlocked&) = delete;
    SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

private:
    sigset_t pipe_{};
    sigset_t previous_{};
    bool was_pending_ = false;
};

std::vector<Poco::Net::SocketAddress> addresses_of(const addrinfo* list) {
    std::vector<Poco::Net::SocketAddress> found;
    for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
        if (entry->ai_family == AF_INET || entry->ai_family == AF_INET6) {
            found.emplace_back(entry->ai_addr, static_cast<poco_socklen_t>(entry->ai_addrlen));
        }
    }
    return found;
}

// getaddrinfo's answer for `host`, with `flags`; the status is getaddrinfo's.
int look_up(const std::string& host, const std::string& service, int flags,
            std::vector<Poco::Net::SocketAddress>& found) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags | AI_NUMERICSERV;
    addrinfo* list = nullptr;
    const int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
    if (status == 0) {
        found = addresses_of(list);
        ::freeaddrinfo(list);
    }
    return status;
}

// getaddrinfo on a thread of its own, so that a resolver that does not answer costs the
// command's deadline and no more (getaddrinfo cannot be interrupted). An IP address is
// taken as it is.
std::vector<Poco::Net::SocketAddress> resolve(const std::string& host, int port,
                                              Clock::time_point until) {
    const std::string service = std::to_string(port);
    std::vector<Poco::Net::SocketAddress> numeric;
    if (look_up(host, service, AI_NUMERICHOST, numeric) == 0) {
        return numeric;
    }
    struct Lookup {
        std::mutex mutex;
        std::condition_variable finished;
        bool done = false;
        int status = 0;
        std::vector<Poco::Net::SocketAddress> found;
    };
    auto lookup = std::make_shared<Lookup>();
    std::thread([lookup, host, service] {
        std::vector<Poco::Net::SocketAddress> found;
        const int status = look_up(host, service, 0, found);
        const std::lock_guard<std::mutex> lock(lookup->mutex);
        lookup->status = status;
        lookup->found = std::move(found);
        lookup->done = true;
        lookup->finished.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lock(lookup->mutex);
    if (!lookup->finished.wait_until(lock, until, [&] { return lookup->done; })) {
        throw CommandTimeout();
    }
    if (lookup->status != 0 || lookup->found.empty()) {
        throw ResolveError(lookup->status != 0 ? ::gai_strerror(lookup->status)
                                               : "no IPv4 or IPv6 address");
    }
    return std::move(lookup->found);
}

// A TCP connection to the first address of `addresses` that takes one before `until`.
Poco::Net::StreamSocket connect_tcp(const std::vector<Poco::Net::SocketAddress>& addresses,
                                    Clock::time_point until) {
    std::exception_ptr last;
    for (const auto& address : addresses) {
        if (Clock::now() >= until) {
            throw CommandTimeout();
        }
        try {
            Poco::Net::StreamSocket socket;
            socket.connect(address, left_until(until));
            return socket;
        } catch (const Poco::Exception&) {
            last = std::current_exception();
        }
    }
    std::rethrow_exception(last);
}

std::optional<std::string> value_of(const Reply& reply) {
    switch (reply.kind) {
    case ReplyKind::nil:
        return std::nullopt;
    case ReplyKind::integer:
        return std::to_string(reply.integer);
    default:
        return reply.text;
    }
}

} // namespace

struct RedisSharedCache::Connection {
    std::unique_ptr<Poco::Net::StreamSocket> socket;
    bool ready = false; // TLS, AUTH and SELECT done

    int fd() const { return socket->impl()->sockfd(); }

    void send(const std::string& wire, Clock::time_point until) {
        socket->setSendTimeout(left_until(until));
        std::size_t sent = 0;
        while (sent < wire.size()) {
            const int n =
                socket->sendBytes(wire.data() + sent, static_cast<int>(wire.size() - sent));
            if (n <= 0) {
                throw ConnectionClosed();
            }
            sent += static_cast<std::size_t>(n);
        }
    }

    // Sends `command` and reads its one reply, at most as large as `shape` allows.
    Reply call(const std::vector<std::string>& command, const ReplyShape& shape,
               Clock::time_point until) {
        send(resp_command(command), until);
        ReplyReader reader(shape);
        char buffer[16 * 1024];
        while (reader.status() == ReplyStatus::more) {
            if (Clock::now() >= until) {
                throw CommandTimeout();
            }
            socket->setReceiveTimeout(left_until(until));
            const int n = socket->receiveBytes(
                buffer, static_cast<int>(std::min(sizeof buffer, reader.room())));
            if (n <= 0) {
                throw ConnectionClosed();
            }
            reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
        }
        if (reader.status() == ReplyStatus::refused) {
            throw ProtocolError("answered " + command.front() + " with " + reader.problem());
        }
        if (reader.reply().kind == ReplyKind::error) {
            throw ServerError(reader.reply().text);
        }
        return reader.reply();
    }
};

RedisSharedCache::RedisSharedCache(core::SharedCacheSettings settings)
    : settings_(std::move(settings)) {}

RedisSharedCache::~RedisSharedCache() = default;

void RedisSharedCache::limit_time(double seconds) {
    // At most a day: the command's own timeout is far shorter, and no duration overflows.
    const double bounded = seconds > 0 ? std::min(seconds, 86400.0) : 0.0;
    limit_ = Clock::now() +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(bounded));
}

// The TLS handshake, AUTH and SELECT on a connection that has just been made.
void RedisSharedCache::start(Clock::time_point until) {
    Connection& connection = *connection_;
    if (settings_.url.tls) {
        connection.socket->setReceiveTimeout(left_until(until));
        connection.socket->setSendTimeout(left_until(until));
        forget_verify_failure();
        connection.socket =
            std::make_unique<Poco::Net::SecureStreamSocket>(Poco::Net::SecureStreamSocket::attach(
                *connection.socket, settings_.url.host, poco_client_context(settings_.ca_file)));
    }
    if (!settings_.password.empty()) {
        if (settings_.url.user.empty()) {
            connection.call({"AUTH", settings_.password}, ReplyShape::status(), until);
        } else {
            connection.call({"AUTH", settings_.url.user, settings_.password}, ReplyShape::status(),
                            until);
        }
    }
    if (settings_.url.db != 0) {
        connection.call({"SELECT", std::to_string(settings_.url.db)}, ReplyShape::status(), until);
    }
    connection.ready = true;
}

SharedReply RedisSharedCache::run(const std::vector<std::string>& command, const ReplyShape& shape,
                                  Reply* whole) {
    Clock::time_point until = Clock::now() + std::chrono::milliseconds(settings_.timeout_ms);
    limited_ = limit_ && *limit_ < until;
    if (limited_) {
        until = *limit_;
    }
    const SigpipeBlocked no_sigpipe;
    try {
        if (Clock::now() >= until) {
            throw CommandTimeout();
        }
        if (!connection_) {
            auto tcp = connect_tcp(resolve(settings_.url.host, settings_.url.port, until), until);
            tcp.setNoDelay(true);
            connection_ = std::make_unique<Connection>();
            connection_->socket = std::make_unique<Poco::Net::StreamSocket>(tcp);
        }
        const Watchdog watchdog(connection_->fd(), until);
        if (!connection_->ready) {
            start(until);
        }
        SharedReply reply;
        Reply answer = connection_->call(command, shape, until);
        reply.value = value_of(answer);
        if (whole) {
            *whole = std::move(answer);
        }
        return reply;
    } catch (...) {
        return failure(std::current_exception(), until);
    }
}

SharedReply RedisSharedCache::server_error(const std::string& text) {
    const std::string shown = util::escape_control(text.substr(0, error_text_limit));
    SharedReply reply;
    reply.failure = SharedFailure::auth;
    if (starts_with(text, "WRONGPASS") || starts_with(text, "NOAUTH") ||
        starts_with(text, "ERR AUTH") || starts_with(text, "ERR invalid password")) {
        reply.message =
            "refused the " +
            (settings_.url.user.empty() ? std::string("password")
                                        : "user \"" + settings_.url.user + "\" or its password") +
            " (" + shown.substr(0, shown.find(' ')) +
            "); set IOTSPOT_REDIS_PASSWORD, or store it with iotspot-helper "
            "configure --redis-password-stdin";
    } else if (starts_with(text, "NOPERM")) {
        reply.message = "denied a command to this ACL user (NOPERM); it needs GET, SET, EVAL, "
                        "PING, INCR, PEXPIRE and MGET on keys iotspot-helper:* (docs/fleet.md)";
    } else {
        reply.failure = SharedFailure::protocol;
        reply.message = "answered with an error: " + shown;
    }
    return reply;
}

SharedReply RedisSharedCache::failure(const std::exception_ptr& error, Clock::time_point until) {
    connection_.reset();
    SharedReply reply = describe(error);
    // The watchdog ends a late command by shutting the socket down, which the read or the
    // handshake then reports as a closed connection: past the deadline, that is a timeout.
    const bool answered =
        reply.failure == SharedFailure::auth || reply.failure == SharedFailure::protocol;
    if (reply.failure == SharedFailure::timeout || (!answered && Clock::now() >= until)) {
        reply.failure = SharedFailure::timeout;
        reply.message = limited_ ? "did not answer within the time left before the token "
                                   "request's deadline (IOTSPOT_TIMEOUT)"
                                 : "did not answer within " + std::to_string(settings_.timeout_ms) +
                                       " ms (IOTSPOT_REDIS_TIMEOUT_MS)";
    }
    reply.message = "Redis at " + settings_.url.where() + " " + reply.message;
    return reply;
}

SharedReply RedisSharedCache::describe(const std::exception_ptr& error) {
    SharedReply reply;
    reply.failure = SharedFailure::unreachable;
    try {
        std::rethrow_exception(error);
    } catch (const ServerError& refused) {
        return server_error(refused.what());
    } catch (const ProtocolError& broken) {
        reply.failure = SharedFailure::protocol;
        reply.message = std::string(broken.what()) +
                        "; check that shared_cache names a Redis or Valkey server, and that "
                        "only iotspot-helper writes keys iotspot-helper:*";
    } catch (const CommandTimeout&) {
        reply.failure = SharedFailure::timeout;
    } catch (const Poco::TimeoutException&) {
        reply.failure = SharedFailure::timeout;
    } catch (const ConnectionClosed&) {
        reply.message = "closed the connection";
    } catch (const ResolveError& unknown) {
        reply.message = "cannot be reached (" + util::escape_control(unknown.what()) + ")";
    } catch (const Poco::Net::ConnectionRefusedException&) {
        reply.message = "refused the connection (is it running?)";
    } catch (const Poco::Net::CertificateValidationException& invalid) {
        reply.failure = SharedFailure::tls;
        reply.message = "presented a certificate that is not valid for " + settings_.url.host +
                        " (" + util::escape_control(invalid.message()) +
                        "); check the host name in shared_cache";
    } catch (const TlsSetupError& setup) {
        reply.failure = SharedFailure::tls;
        reply.message = std::string("cannot be reached over TLS: ") + setup.what();
    } catch (const Poco::Net::SSLException& tls) {
        const std::string reason = take_verify_failure();
        reply.failure = SharedFailure::tls;
        reply.message = "failed the TLS handshake (" +
                        util::escape_control(reason.empty() ? tls.message() : reason) +
                        "); check that the profile's ca_file holds the CA of Redis's "
                        "certificate, and that the port speaks TLS";
    } catch (const Poco::Exception& other) {
        reply.message = "cannot be reached (" + util::escape_control(other.displayText()) + ")";
    } catch (const std::exception& other) {
        reply.failure = SharedFailure::protocol;
        reply.message = "failed (" + util::escape_control(other.what()) + ")";
    }
    return reply;
}

SharedReply RedisSharedCache::get(const std::string& key) {
    return run({"GET", key}, ReplyShape::value());
}

SharedReply RedisSharedCache::set(const std::string& key, const std::string& value,
                                  std::int64_t ttl_ms, bool only_if_absent) {
    std::vector<std::string> command{"SET", key, value, "PX", std::to_string(ttl_ms)};
    if (only_if_absent) {
        command.emplace_back("NX");
    }
    return run(command, ReplyShape::status());
}

SharedReply RedisSharedCache::delete_if_equal(const std::string& key, const std::string& expected) {
    SharedReply reply =
        run({"EVAL", compare_and_delete, "1", key, expected}, ReplyShape::integer());
    if (reply.ok() && reply.value != std::optional<std::string>("1")) {
        reply.value.reset();
    }
    return reply;
}

SharedReply RedisSharedCache::ping() {
    return run({"PING"}, ReplyShape::status());
}

// Fleet counters (core/shared_tier.h): INCR with an expiry, and MGET of counts.

SharedReply RedisSharedCache::increment(const std::string& key, std::int64_t ttl_ms) {
    return run({"EVAL", increment_and_expire, "1", key, std::to_string(ttl_ms)},
               ReplyShape::integer());
}

core::SharedCounts RedisSharedCache::read_counts(const std::vector<std::string>& keys) {
    core::SharedCounts counts;
    if (keys.empty() || keys.size() > core::shared_counts_limit) {
        counts.failure = SharedFailure::protocol;
        counts.message = "a count read of " + std::to_string(keys.size()) + " keys";
        return counts;
    }
    std::vector<std::string> command{"MGET"};
    command.insert(command.end(), keys.begin(), keys.end());
    ReplyShape shape = ReplyShape::array(keys.size());
    shape.max_bulk = 20; // a count: at most 20 digits
    shape.max_bytes = 64 + keys.size() * 32;
    Reply whole;
    const SharedReply reply = run(command, shape, &whole);
    counts.failure = reply.failure;
    counts.message = reply.message;
    if (!reply.ok()) {
        return counts;
    }
    for (const Reply& element : whole.elements) {
        const auto number = element.kind == ReplyKind::integer
                                ? std::optional<std::int64_t>(element.integer)
                            : element.kind == ReplyKind::bulk ? util::parse_int(element.text)
                                                              : std::optional<std::int64_t>(0);
        if (!number || *number < 0) {
            counts.failure = SharedFailure::protocol;
            counts.message = "Redis at " + settings_.url.where() +
                             " holds a fleet count that is not a number; check that only "
                             "iotspot-helper writes keys iotspot-helper:*";
            counts.values.clear();
            return counts;
        }
        counts.values.push_back(*number);
    }
    return counts;
}

} // namespace iotspot::net
