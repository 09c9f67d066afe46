#include "net/redis_shared_cache.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <thread>
#include <utility>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include "core/error.h"
#include "net/poco_tls_context.h"
#include "net/redis_reply.h"
#include "net/tls_context.h"
#include "util/result.h"
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

// The failures below end one command inside this file: run() turns each into a SharedReply
// and nothing is thrown past it. They share the one root all the same, exit 5.
class RedisFailure : public core::Error {
public:
    explicit RedisFailure(const std::string& message) : core::Error(core::Exit::network, message) {}
};

// A reply the server sent as an error (`-ERR ...`, `-WRONGPASS ...`), as it sent it.
class ServerError : public RedisFailure {
public:
    using RedisFailure::RedisFailure;
};

// A reply refused by the reader (net/redis_reply.h), or a connection closed mid-reply.
class ProtocolError : public RedisFailure {
public:
    using RedisFailure::RedisFailure;
};

// The server closed the connection before its reply was complete.
class ConnectionClosed : public RedisFailure {
public:
    ConnectionClosed() : RedisFailure("closed") {}
};

// The command's deadline passed.
class CommandTimeout : public RedisFailure {
public:
    CommandTimeout() : RedisFailure("timeout") {}
};

// The name of the Redis host did not resolve.
class ResolveError : public RedisFailure {
public:
    using RedisFailure::RedisFailure;
};

// A server the Sentinels named is not (or no longer) a primary.
class NotPrimary : public RedisFailure {
public:
    using RedisFailure::RedisFailure;
};

// The Sentinels know no primary of the URL's name.
class UnknownMaster : public RedisFailure {
public:
    UnknownMaster() : RedisFailure("unknown master") {}
};

// A Cluster sent a command on more than max_redirections times.
class TooManyRedirections : public RedisFailure {
public:
    TooManyRedirections() : RedisFailure("redirections") {}
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

using Addresses = std::vector<Poco::Net::SocketAddress>;

// getaddrinfo's addresses for `host`, with `flags`, or its reason for none.
util::Result<Addresses> look_up(const std::string& host, const std::string& service, int flags) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags | AI_NUMERICSERV;
    addrinfo* list = nullptr;
    const int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
    if (status != 0) {
        return util::Failure{std::string(::gai_strerror(status))};
    }
    Addresses found = addresses_of(list);
    ::freeaddrinfo(list);
    if (found.empty()) {
        return util::Failure{"no IPv4 or IPv6 address"};
    }
    return found;
}

// Why a name did not resolve: the deadline passed, or the resolver's `reason`.
struct ResolveFailure {
    bool timed_out = false;
    std::string reason;
};

// getaddrinfo on a thread of its own, so that a resolver that does not answer costs the
// command's deadline and no more (getaddrinfo cannot be interrupted). An IP address is
// taken as it is.
util::Result<Addresses, ResolveFailure> resolve(const std::string& host, int port,
                                                Clock::time_point until) {
    const std::string service = std::to_string(port);
    if (auto numeric = look_up(host, service, AI_NUMERICHOST)) {
        return std::move(numeric).value();
    }
    struct Lookup {
        std::mutex mutex;
        std::condition_variable finished;
        std::optional<util::Result<Addresses>> answer;
    };
    auto lookup = std::make_shared<Lookup>();
    std::thread([lookup, host, service] {
        auto answer = look_up(host, service, 0);
        const std::lock_guard<std::mutex> lock(lookup->mutex);
        lookup->answer.emplace(std::move(answer));
        lookup->finished.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lock(lookup->mutex);
    if (!lookup->finished.wait_until(lock, until, [&] { return lookup->answer.has_value(); })) {
        return util::Failure{ResolveFailure{true, {}}};
    }
    if (!*lookup->answer) {
        return util::Failure{ResolveFailure{false, lookup->answer->error()}};
    }
    return std::move(*lookup->answer).value();
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

// A host name or address as a server names it (MOVED, Sentinel): letters, digits and . - : _
bool plain_host(const std::string& host) {
    return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' ||
               c == ':' || c == '_';
    });
}

std::optional<int> port_number(const std::string& text) {
    const auto port = util::parse_int(text);
    if (!port || *port < 1 || *port > 65535) {
        return std::nullopt;
    }
    return static_cast<int>(*port);
}

// A Cluster's redirection: `MOVED <slot> <host>:<port>` or `ASK <slot> <host>:<port>`. An
// empty host is the host of the node that answered.
struct Redirection {
    bool ask = false;
    core::SharedCacheNode node;
};

std::optional<Redirection> redirection_of(const std::string& error,
                                          const core::SharedCacheNode& from) {
    const bool ask = starts_with(error, "ASK ");
    if (!ask && !starts_with(error, "MOVED ")) {
        return std::nullopt;
    }
    const auto words = util::split(error, ' ');
    const std::string endpoint = words.size() == 3 ? std::string(words[2]) : std::string();
    const auto colon = endpoint.rfind(':');
    const auto port =
        colon == std::string::npos ? std::nullopt : port_number(endpoint.substr(colon + 1));
    std::string host = colon == std::string::npos ? "" : endpoint.substr(0, colon);
    if (host.empty()) {
        host = from.host;
    }
    if (!port || !plain_host(host)) {
        throw ProtocolError("answered with a redirection that names no valid node");
    }
    return Redirection{ask, core::SharedCacheNode{host, *port}};
}

// The primary in a Sentinel's answer to get-master-addr-by-name: [host, port], or nil.
core::SharedCacheNode primary_in(const Reply& reply) {
    if (reply.kind == ReplyKind::nil) {
        throw UnknownMaster();
    }
    const auto& fields = reply.elements;
    const auto port = fields.size() == 2 && fields[1].kind == ReplyKind::bulk
                          ? port_number(fields[1].text)
                          : std::nullopt;
    if (!port || fields[0].kind != ReplyKind::bulk || !plain_host(fields[0].text)) {
        throw ProtocolError("answered SENTINEL get-master-addr-by-name with no host and port");
    }
    return core::SharedCacheNode{fields[0].text, *port};
}

// Whether `error` may mean that the primary moved: the command is worth starting over.
bool failover_sign(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const ServerError& refused) {
        return starts_with(refused.what(), "READONLY") ||
               starts_with(refused.what(), "MASTERDOWN") || starts_with(refused.what(), "LOADING");
    } catch (const NotPrimary&) {
        return true;
    } catch (const ConnectionClosed&) {
        return true;
    } catch (const Poco::Net::ConnectionRefusedException&) {
        return true;
    } catch (const Poco::Net::ConnectionResetException&) {
        return true;
    } catch (const Poco::Net::SSLException&) {
        return false;
    } catch (const Poco::Net::NetException&) {
        return true;
    } catch (...) {
        return false;
    }
}

} // namespace

struct RedisSharedCache::Connection {
    core::SharedCacheNode node;
    std::unique_ptr<Poco::Net::StreamSocket> socket;
    bool ready = false; // TLS, AUTH and SELECT done

    // The TLS handshake, verifying the chain and the name of the node.
    void secure(const std::string& ca_file, Clock::time_point until) {
        socket->setReceiveTimeout(left_until(until));
        socket->setSendTimeout(left_until(until));
        forget_verify_failure();
        socket =
            std::make_unique<Poco::Net::SecureStreamSocket>(Poco::Net::SecureStreamSocket::attach(
                *socket, node.host, poco_client_context(ca_file)));
    }

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
    : settings_(std::move(settings)), contacted_("Redis at " + settings_.url.where()),
      contacted_host_(settings_.url.host) {}

RedisSharedCache::~RedisSharedCache() = default;

void RedisSharedCache::limit_time(double seconds) {
    // At most a day: the command's own timeout is far shorter, and no duration overflows.
    const double bounded = seconds > 0 ? std::min(seconds, 86400.0) : 0.0;
    limit_ = Clock::now() +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(bounded));
}

std::unique_ptr<RedisSharedCache::Connection>
RedisSharedCache::open(const core::SharedCacheNode& node, Clock::time_point until) {
    const auto addresses = resolve(node.host, node.port, until);
    if (!addresses && addresses.error().timed_out) {
        throw CommandTimeout();
    }
    if (!addresses) {
        throw ResolveError(addresses.error().reason);
    }
    auto tcp = connect_tcp(addresses.value(), until);
    tcp.setNoDelay(true);
    auto connection = std::make_unique<Connection>();
    connection->node = node;
    connection->socket = std::make_unique<Poco::Net::StreamSocket>(tcp);
    return connection;
}

// With a password: AUTH, with the URL's user if it names one.
void RedisSharedCache::authenticate(Connection& connection, Clock::time_point until) {
    if (settings_.password.empty()) {
        return;
    }
    if (settings_.url.user.empty()) {
        connection.call({"AUTH", settings_.password}, ReplyShape::status(), until);
    } else {
        connection.call({"AUTH", settings_.url.user, settings_.password}, ReplyShape::status(),
                        until);
    }
}

// The TLS handshake, AUTH and SELECT on a connection that has just been made; with
// Sentinels, ROLE too, which must say that the server is still the primary.
void RedisSharedCache::start(Clock::time_point until) {
    Connection& connection = *connection_;
    if (settings_.url.tls) {
        connection.secure(settings_.ca_file, until);
    }
    authenticate(connection, until);
    if (settings_.url.db != 0) {
        connection.call({"SELECT", std::to_string(settings_.url.db)}, ReplyShape::status(), until);
    }
    if (sentinel()) {
        const Reply role = connection.call({"ROLE"}, ReplyShape::role(), until);
        const std::string name = role.elements.empty() ? "" : role.elements.front().text;
        if (name != "master") {
            throw NotPrimary("is not the primary of " + settings_.url.master + " (ROLE " +
                             util::escape_control(name.substr(0, 20)) + ")");
        }
    }
    connection.ready = true;
}

// Asks one Sentinel where the primary is; AUTH only if the Sentinel wants it.
core::SharedCacheNode RedisSharedCache::ask_sentinel(const core::SharedCacheNode& sentinel,
                                                     Clock::time_point until) {
    contacted_ = "Redis Sentinel at " + sentinel.where();
    contacted_host_ = sentinel.host;
    const auto connection = open(sentinel, until);
    const Watchdog watchdog(connection->fd(), until);
    if (settings_.url.tls) {
        connection->secure(settings_.ca_file, until);
    }
    const std::vector<std::string> ask{"SENTINEL", "get-master-addr-by-name", settings_.url.master};
    try {
        return primary_in(connection->call(ask, ReplyShape::array(2), until));
    } catch (const ServerError& refused) {
        if (!starts_with(refused.what(), "NOAUTH") || settings_.password.empty()) {
            throw;
        }
    }
    authenticate(*connection, until);
    return primary_in(connection->call(ask, ReplyShape::array(2), until));
}

// The primary, from the first Sentinel that names it. Each Sentinel gets an equal share of
// the time left, so one that never answers leaves time for the next.
core::SharedCacheNode RedisSharedCache::find_primary(Clock::time_point until) {
    const auto& sentinels = settings_.url.sentinels;
    std::exception_ptr last;
    for (std::size_t i = 0; i < sentinels.size(); ++i) {
        const auto share = (until - Clock::now()) / static_cast<int>(sentinels.size() - i);
        try {
            return ask_sentinel(sentinels[i], Clock::now() + share);
        } catch (...) {
            last = std::current_exception();
        }
    }
    if (sentinels.size() > 1) {
        contacted_ = "Redis Sentinels at ";
        for (const auto& each : sentinels) {
            contacted_ += (each == sentinels.front() ? "" : ",") + each.where();
        }
    }
    std::rethrow_exception(last);
}

// One try of `command` at node_ (found first if need be), after ASKING if `asking`.
Reply RedisSharedCache::attempt(const std::vector<std::string>& command, const ReplyShape& shape,
                                bool asking, Clock::time_point until) {
    if (Clock::now() >= until) {
        throw CommandTimeout();
    }
    if (!node_) {
        node_ = sentinel() ? find_primary(until)
                           : core::SharedCacheNode{settings_.url.host, settings_.url.port};
    }
    contacted_ = "Redis at " + node_->where() +
                 (sentinel() ? " (primary of " + settings_.url.master + ")" : "");
    contacted_host_ = node_->host;
    if (!connection_) {
        connection_ = open(*node_, until);
    }
    const Watchdog watchdog(connection_->fd(), until);
    if (!connection_->ready) {
        start(until);
    }
    if (asking) {
        connection_->call({"ASKING"}, ReplyShape::status(), until);
    }
    return connection_->call(command, shape, until);
}

bool RedisSharedCache::start_over(const std::exception_ptr& error) {
    const core::SharedCacheNode seed{settings_.url.host, settings_.url.port};
    if (!failover_sign(error) || (!sentinel() && node_ == seed)) {
        return false;
    }
    connection_.reset();
    node_.reset();
    return true;
}

// `command` at the node that holds its key, following redirections and a failover.
Reply RedisSharedCache::route(const std::vector<std::string>& command, const ReplyShape& shape,
                              Clock::time_point until) {
    bool asking = false;
    bool started_over = false;
    int redirections = 0;
    for (;;) {
        try {
            return attempt(command, shape, asking, until);
        } catch (const ServerError& refused) {
            const auto redirection = redirection_of(
                refused.what(),
                node_.value_or(core::SharedCacheNode{settings_.url.host, settings_.url.port}));
            if (!redirection) {
                if (started_over || !start_over(std::current_exception())) {
                    throw;
                }
                started_over = true;
                continue;
            }
            if (++redirections > max_redirections) {
                throw TooManyRedirections();
            }
            asking = redirection->ask;
            if (node_ != redirection->node) {
                connection_.reset();
                node_ = redirection->node;
            }
        } catch (...) {
            if (started_over || !start_over(std::current_exception())) {
                throw;
            }
            started_over = true;
        }
    }
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
        SharedReply reply;
        Reply answer = route(command, shape, until);
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
                        "PING, INCR, PEXPIRE and MGET on keys iotspot-helper:*, ROLE with "
                        "Sentinel, ASKING with "
                        "Cluster (docs/fleet.md)";
    } else if (starts_with(text, "READONLY")) {
        reply.failure = SharedFailure::unreachable;
        reply.message = "is a read-only replica (READONLY); name the primary in shared_cache, "
                        "or its Sentinels with redis+sentinel://";
    } else {
        reply.failure = SharedFailure::protocol;
        reply.message = "answered with an error: " + shown;
    }
    return reply;
}

SharedReply RedisSharedCache::failure(const std::exception_ptr& error, Clock::time_point until) {
    connection_.reset();
    node_.reset(); // the next command starts from the URL again
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
    reply.message = contacted_ + " " + reply.message;
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
    } catch (const NotPrimary& replica) {
        reply.message = std::string(replica.what()) +
                        "; the Sentinels have not finished a failover, or name a stale address";
    } catch (const UnknownMaster&) {
        reply.failure = SharedFailure::protocol;
        reply.message = "knows no primary named \"" + settings_.url.master +
                        "\"; check the name after the Sentinels in shared_cache";
    } catch (const TooManyRedirections&) {
        reply.failure = SharedFailure::protocol;
        reply.message = "redirected the command more than " + std::to_string(max_redirections) +
                        " times (MOVED or ASK); check that every slot of the Cluster is served";
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
        reply.message = "presented a certificate that is not valid for " + contacted_host_ + " (" +
                        util::escape_control(invalid.message()) +
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
