#include "net/https_token_client.h"

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <istream>
#include <memory>
#include <pthread.h>
#include <sstream>
#include <unistd.h>

#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketStream.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>

#include "net/deadline.h"
#include "net/tls_context.h"
#include "net/token_reply.h"
#include "util/strings.h"

namespace iotspot::net {

namespace {

using core::Exit;
using core::FetchResult;

constexpr std::size_t max_answer_bytes = 1 << 20;
constexpr std::size_t max_proxy_head_bytes = 16 * 1024;

std::string env(const char* upper, const char* lower) {
    if (const char* value = std::getenv(upper); value && *value) {
        return value;
    }
    if (const char* value = std::getenv(lower); value && *value) {
        return value;
    }
    return {};
}

std::string form_encode(const std::string& value) {
    std::string out;
    Poco::URI::encode(value, "!'()*+,;=:/?#[]@$&", out);
    return out;
}

FetchResult network_failure(std::string message, bool retryable) {
    FetchResult result;
    result.code = Exit::network;
    result.message = std::move(message);
    result.retryable = retryable;
    return result;
}

// Blocks SIGPIPE on this thread while it lives and discards one raised meanwhile (as libpq
// does): a write to a socket that the server or the watchdog has shut down must fail with
// EPIPE, not end the process. Ignoring SIGPIPE process-wide would pass on to exec's child.
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
        if (!was_pending_) {
            const timespec none{0, 0};
            while (sigtimedwait(&pipe_, nullptr, &none) > 0) {
            }
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

// How far a fetch got, for the message when it fails or runs out of time.
enum class Phase { connecting, tunnelling, handshaking, awaiting_answer, reading_answer };

// Where a fetch goes: the token server, and the proxy on the way when there is one.
struct Route {
    std::string host;
    unsigned short port = 0;
    std::optional<Proxy> proxy;

    std::string server() const { return host + ":" + std::to_string(port); }
    std::string via() const {
        return proxy ? proxy->host + ":" + std::to_string(proxy->port) : std::string();
    }
};

FetchResult too_slow(Phase phase, const Route& route, const Deadline& deadline) {
    const std::string within = " within " + std::to_string(deadline.seconds()) + " s";
    const std::string server = "the token server " + route.server() + " was too slow: ";
    switch (phase) {
    case Phase::connecting:
        return network_failure(
            (route.proxy ? "the proxy " + route.via() + " was too slow: " : server) +
                "no connection" + within,
            true);
    case Phase::tunnelling:
        return network_failure("the proxy " + route.via() +
                                   " was too slow: no tunnel to the token server" + within,
                               true);
    case Phase::handshaking:
        return network_failure(server + "the TLS handshake did not finish" + within, true);
    case Phase::awaiting_answer:
        return network_failure(server + "it did not answer" + within, true);
    case Phase::reading_answer:
        return network_failure(server + "its answer did not arrive completely" + within, true);
    }
    return network_failure(server + "no answer" + within, true);
}

FetchResult tls_failure(const Route& route, const std::string& reason) {
    return network_failure("TLS with " + route.server() + " failed: " + reason +
                               "; if the server uses a private CA, pass it with configure "
                               "--ca-file",
                           false);
}

// Sends all of `data` on `socket`.
void send_all(Poco::Net::StreamSocket& socket, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const int n = socket.sendBytes(data.data() + sent, static_cast<int>(data.size() - sent));
        if (n <= 0) {
            throw Poco::Net::ConnectionResetException("send");
        }
        sent += static_cast<std::size_t>(n);
    }
}

// Asks the proxy at the other end of `socket` for a tunnel to the token server (HTTP
// CONNECT). Returns what went wrong, or nothing when the tunnel is open.
std::optional<FetchResult> open_tunnel(Poco::Net::StreamSocket& socket, const Route& route) {
    Poco::Net::HTTPRequest connect(Poco::Net::HTTPRequest::HTTP_CONNECT, route.server(),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    connect.setHost(route.host, route.port);
    if (!route.proxy->username.empty()) {
        Poco::Net::HTTPBasicCredentials(route.proxy->username, route.proxy->password)
            .proxyAuthenticate(connect);
    }
    std::ostringstream request;
    connect.write(request);
    send_all(socket, request.str());

    // The proxy sends nothing after its answer until the TLS handshake starts, so reading
    // in blocks cannot swallow any of the server's bytes.
    std::string head;
    char buffer[1024];
    while (head.find("\r\n\r\n") == std::string::npos) {
        const int n = socket.receiveBytes(buffer, sizeof buffer);
        if (n <= 0) {
            return network_failure("the proxy " + route.via() +
                                       " closed the connection instead of opening a tunnel to " +
                                       route.server() + "; check HTTPS_PROXY",
                                   true);
        }
        head.append(buffer, static_cast<std::size_t>(n));
        if (head.size() > max_proxy_head_bytes) {
            return network_failure("the proxy " + route.via() +
                                       " sent an answer too long to be HTTP; check HTTPS_PROXY",
                                   false);
        }
    }
    Poco::Net::HTTPResponse answer;
    try {
        std::istringstream in(head);
        answer.read(in);
    } catch (const Poco::Exception&) {
        return network_failure(
            "the proxy " + route.via() + " did not answer in HTTP; check HTTPS_PROXY", false);
    }
    const int status = static_cast<int>(answer.getStatus());
    if (status < 200 || status > 299) {
        return network_failure("the proxy " + route.via() + " refused the tunnel to " +
                                   route.server() + " (HTTP " + std::to_string(status) +
                                   "); check HTTPS_PROXY and the proxy's credentials",
                               status >= 500);
    }
    return std::nullopt;
}

} // namespace

std::optional<Proxy> proxy_for(const std::string& host) {
    const std::string proxy = env("HTTPS_PROXY", "https_proxy");
    if (proxy.empty()) {
        return std::nullopt;
    }
    const std::string no_proxy = env("NO_PROXY", "no_proxy");
    for (auto entry : util::split(no_proxy, ',')) {
        entry = util::trim(entry);
        if (entry == "*") {
            return std::nullopt;
        }
        if (!entry.empty() && entry.front() == '.') {
            entry.remove_prefix(1);
        }
        if (entry.empty()) {
            continue;
        }
        const std::string name = util::ascii_lower(host);
        const std::string suffix = util::ascii_lower(entry);
        if (name == suffix ||
            (name.size() > suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
             name[name.size() - suffix.size() - 1] == '.')) {
            return std::nullopt;
        }
    }
    try {
        const Poco::URI uri(proxy.find("://") == std::string::npos ? "http://" + proxy : proxy);
        Proxy result;
        result.host = uri.getHost();
        result.port = uri.getPort() != 0 ? uri.getPort() : 80;
        const auto user_info = uri.getUserInfo();
        const auto colon = user_info.find(':');
        if (!user_info.empty()) {
            Poco::URI::decode(user_info.substr(0, colon), result.username);
            if (colon != std::string::npos) {
                Poco::URI::decode(user_info.substr(colon + 1), result.password);
            }
        }
        return result;
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

struct HttpsTokenClient::Connection {
    Route route;
    std::string ca_file;
    /// Never default-constructed: that would build Poco's default context (the CA bundle).
    std::optional<Poco::Net::SecureStreamSocket> socket;
    std::unique_ptr<Poco::Net::SocketStream> stream; ///< reads and writes `socket`

    bool serves(const Route& wanted, const std::string& ca) const {
        const auto same_proxy = [&] {
            if (!route.proxy || !wanted.proxy) {
                return !route.proxy && !wanted.proxy;
            }
            return route.proxy->host == wanted.proxy->host &&
                   route.proxy->port == wanted.proxy->port &&
                   route.proxy->username == wanted.proxy->username &&
                   route.proxy->password == wanted.proxy->password;
        };
        return route.host == wanted.host && route.port == wanted.port && ca_file == ca &&
               same_proxy();
    }

    int fd() const { return socket->impl()->sockfd(); }

    // An idle kept-alive connection has nothing to read; if it has, the server closed it
    // (or sent something unasked for) and it must not be used.
    bool still_open() const {
        try {
            return stream->rdbuf()->in_avail() == 0 &&
                   !socket->poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ);
        } catch (const Poco::Exception&) {
            return false;
        }
    }
};

HttpsTokenClient::HttpsTokenClient() = default;

HttpsTokenClient::~HttpsTokenClient() = default;

namespace {

// What one attempt at an exchange came to.
struct Outcome {
    FetchResult result;
    bool complete = false;     ///< the answer was read to its end: the connection may be reused
    bool closed_early = false; ///< the server closed the connection before any answer
};

// Connects to the token server (through the proxy, if any) and completes the TLS handshake,
// all before `deadline`; `watchdog` watches the socket from the TCP connection on. Fills
// `socket` or returns why not.
std::optional<FetchResult> open_session(const Route& route, const std::string& ca_file,
                                        const Deadline& deadline, Watchdog& watchdog,
                                        std::optional<Poco::Net::SecureStreamSocket>& socket) {
    Poco::Net::Context::Ptr context;
    try {
        context = client_context(ca_file);
    } catch (const TlsSetupError& error) {
        return network_failure(error.what(), false);
    } catch (const Poco::Exception& error) {
        return network_failure("cannot set up TLS: " + error.displayText(), false);
    }

    const std::string connect_host = route.proxy ? route.proxy->host : route.host;
    const unsigned short connect_port = route.proxy ? route.proxy->port : route.port;
    std::string error;
    bool timed_out = false;
    const auto address = resolve_within(connect_host, connect_port, deadline, error, timed_out);
    if (!address) {
        return network_failure(route.proxy ? error + " (the proxy in HTTPS_PROXY)" : error, true);
    }

    Phase phase = Phase::connecting;
    try {
        Poco::Net::StreamSocket tcp;
        tcp.connect(*address, deadline.remaining());
        watchdog.arm(tcp.impl()->sockfd());
        // The request follows the handshake's last flight at once; with Nagle's algorithm it
        // would wait for the server's delayed ACK (up to 40 ms), as curl knows.
        tcp.setNoDelay(true);
        tcp.setReceiveTimeout(deadline.remaining());
        tcp.setSendTimeout(deadline.remaining());
        if (route.proxy) {
            phase = Phase::tunnelling;
            if (auto failure = open_tunnel(tcp, route)) {
                return watchdog.fired() ? too_slow(phase, route, deadline) : *failure;
            }
        }
        phase = Phase::handshaking;
        forget_verify_failure();
        socket.emplace(Poco::Net::SecureStreamSocket::attach(tcp, route.host, context));
        return std::nullopt;
    } catch (const Poco::Exception& failure) {
        if (watchdog.fired() || dynamic_cast<const Poco::TimeoutException*>(&failure)) {
            return too_slow(phase, route, deadline);
        }
        if (phase == Phase::handshaking &&
            dynamic_cast<const Poco::Net::SSLException*>(&failure) != nullptr) {
            std::string reason = take_verify_failure();
            if (reason.empty()) {
                reason = failure.message().empty() ? failure.displayText() : failure.message();
            }
            return tls_failure(route, reason);
        }
        if (dynamic_cast<const Poco::Net::ConnectionRefusedException*>(&failure)) {
            if (phase == Phase::connecting && route.proxy) {
                return network_failure("the proxy " + route.via() +
                                           " refused the connection; check HTTPS_PROXY",
                                       true);
            }
            return network_failure("connection to the token server " + route.server() +
                                       " was refused; check token_url",
                                   true);
        }
        if (dynamic_cast<const Poco::Net::ConnectionResetException*>(&failure) ||
            dynamic_cast<const Poco::Net::SSLConnectionUnexpectedlyClosedException*>(&failure)) {
            const std::string who =
                phase == Phase::tunnelling || (phase == Phase::connecting && route.proxy)
                    ? "the proxy " + route.via()
                    : "the token server " + route.server();
            return network_failure(who + " closed the connection", true);
        }
        const std::string who = route.proxy && phase <= Phase::tunnelling
                                    ? "the proxy " + route.via()
                                    : "the token server " + route.server();
        return network_failure("cannot reach " + who + ": " + failure.displayText(), true);
    }
}

enum class Body { complete, too_large, cut_short };

// A line of at most `limit` characters, without its CRLF; nullopt at the end of the stream.
std::optional<std::string> read_line(std::istream& in, std::size_t limit) {
    std::string line;
    for (int c = in.get(); c != std::char_traits<char>::eof(); c = in.get()) {
        if (c == '\n') {
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            return line;
        }
        if (line.size() >= limit) {
            return std::nullopt;
        }
        line.push_back(static_cast<char>(c));
    }
    return std::nullopt;
}

// Appends up to `count` bytes from `in` to `body`; false when fewer arrived.
bool read_exactly(std::istream& in, std::size_t count, std::string& body) {
    char buffer[8192];
    while (count > 0) {
        in.read(buffer, static_cast<std::streamsize>(std::min(count, sizeof buffer)));
        const auto got = static_cast<std::size_t>(in.gcount());
        body.append(buffer, got);
        if (got == 0) {
            return false;
        }
        count -= got;
    }
    return true;
}

// A chunked body (RFC 9112 7.1), trailers skipped.
Body read_chunked(std::istream& in, std::string& body) {
    for (;;) {
        const auto line = read_line(in, 1024);
        if (!line) {
            return Body::cut_short;
        }
        std::size_t size = 0;
        std::size_t digits = 0;
        for (const char c : *line) {
            const int value = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
            if (value < 0) {
                break;
            }
            if (++digits > 8) {
                return Body::too_large;
            }
            size = size * 16 + static_cast<std::size_t>(value);
        }
        if (digits == 0) {
            return Body::cut_short;
        }
        if (size == 0) {
            while (const auto trailer = read_line(in, 8192)) {
                if (trailer->empty()) {
                    return Body::complete;
                }
            }
            return Body::cut_short;
        }
        if (body.size() + size > max_answer_bytes) {
            return Body::too_large;
        }
        if (!read_exactly(in, size, body) || !read_line(in, 2)) {
            return Body::cut_short;
        }
    }
}

// The answer's body, as its headers describe it, at most max_answer_bytes.
Body read_body(std::istream& in, const Poco::Net::HTTPResponse& response, std::string& body) {
    if (response.getChunkedTransferEncoding()) {
        return read_chunked(in, body);
    }
    if (response.hasContentLength()) {
        const auto length = response.getContentLength64();
        if (length < 0 || static_cast<std::uint64_t>(length) > max_answer_bytes) {
            return Body::too_large;
        }
        return read_exactly(in, static_cast<std::size_t>(length), body) ? Body::complete
                                                                        : Body::cut_short;
    }
    // Neither: the body ends when the server closes the connection.
    char buffer[8192];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        body.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (body.size() > max_answer_bytes) {
            return Body::too_large;
        }
    }
    return Body::complete;
}

// One request and its answer on `connection`, before `deadline` (the watchdog is already
// watching the socket).
Outcome exchange(HttpsTokenClient::Connection& connection, const core::TokenRequest& request,
                 const Poco::URI& uri, const Route& route, const Deadline& deadline,
                 const Watchdog& watchdog, const core::Log& log) {
    Outcome outcome;
    Phase phase = Phase::awaiting_answer;
    const auto went_away = [&] {
        if (phase == Phase::reading_answer) {
            return network_failure(
                "the token server's answer was cut short (connection closed early)", true);
        }
        outcome.closed_early = true;
        return network_failure("the token server " + route.server() +
                                   " closed the connection without an answer",
                               true);
    };
    try {
        connection.socket->setReceiveTimeout(deadline.remaining());
        connection.socket->setSendTimeout(deadline.remaining());

        Poco::Net::HTTPRequest http(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathEtc(),
                                    Poco::Net::HTTPMessage::HTTP_1_1);
        http.setHost(route.host, route.port);
        Poco::Net::HTTPBasicCredentials(request.client_id, request.client_secret)
            .authenticate(http);
        http.setContentType("application/x-www-form-urlencoded");
        http.set("Accept", "application/json");
        http.set("User-Agent", "iotspot-helper");
        const std::string body =
            "grant_type=client_credentials&client_id=" + form_encode(request.client_id) +
            "&scope=" + form_encode(request.scope);
        http.setContentLength(static_cast<std::streamsize>(body.size()));
        http.setKeepAlive(true);
        std::iostream& stream = *connection.stream;
        http.write(stream);
        stream << body << std::flush;

        Poco::Net::HTTPResponse response;
        do {
            response.clear();
            response.read(stream);
            phase = Phase::reading_answer;
        } while (response.getStatus() == Poco::Net::HTTPResponse::HTTP_CONTINUE);
        HttpAnswer answer;
        answer.status = static_cast<int>(response.getStatus());
        for (const auto& [name, value] : response) {
            answer.headers[util::ascii_lower(name)] = value;
        }
        const Body read = read_body(stream, response, answer.body);
        if (watchdog.fired()) {
            outcome.result = too_slow(phase, route, deadline);
            return outcome;
        }
        if (read == Body::too_large) {
            outcome.result = network_failure(
                "the token server's answer is larger than 1 MiB; check token_url", false);
            return outcome;
        }
        answer.truncated = read == Body::cut_short;
        outcome.complete = !answer.truncated && response.getKeepAlive() &&
                           (response.hasContentLength() || response.getChunkedTransferEncoding());
        log.note("token server " + route.server() + " answered HTTP " +
                 std::to_string(answer.status));
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        outcome.result = interpret_answer(answer, request.scope, now);
        if (const auto date = answer.headers.find("date"); date != answer.headers.end()) {
            outcome.result.server_date = parse_http_date(date->second);
        }
        return outcome;
    } catch (const Poco::Exception& failure) {
        if (watchdog.fired() || dynamic_cast<const Poco::TimeoutException*>(&failure)) {
            outcome.result = too_slow(phase, route, deadline);
        } else if (dynamic_cast<const Poco::Net::SSLException*>(&failure) ||
                   dynamic_cast<const Poco::Net::NoMessageException*>(&failure) ||
                   dynamic_cast<const Poco::Net::ConnectionResetException*>(&failure)) {
            outcome.result = went_away();
        } else {
            outcome.result = network_failure("cannot reach the token server " + route.server() +
                                                 ": " + failure.displayText(),
                                             true);
        }
    } catch (const std::exception& failure) {
        outcome.result =
            network_failure(std::string("token request failed: ") + failure.what(), false);
    }
    return outcome;
}

} // namespace

FetchResult HttpsTokenClient::fetch(const core::TokenRequest& request, const core::Log& log) {
    const Deadline deadline(std::max(1, request.timeout_seconds));
    const SigpipeBlocked no_sigpipe;
    Poco::URI uri;
    try {
        uri = Poco::URI(request.token_url);
    } catch (const Poco::Exception&) {
        return network_failure("token_url is not a valid URL; run iotspot-helper configure", false);
    }
    if (uri.getScheme() != "https") {
        return network_failure("token_url must be https://", false);
    }
    Route route{uri.getHost(), uri.getPort(), proxy_for(uri.getHost())};

    if (connection_ && connection_->serves(route, request.ca_file) && connection_->still_open()) {
        log.note("reusing the connection to " + route.server());
        Watchdog watchdog(deadline);
        watchdog.arm(connection_->fd());
        Outcome outcome = exchange(*connection_, request, uri, route, deadline, watchdog, log);
        watchdog.stop();
        if (!outcome.closed_early || watchdog.fired()) {
            if (!outcome.complete || watchdog.fired()) {
                connection_.reset();
            }
            return outcome.result;
        }
        // The server closed the idle connection just as the request went out: the request
        // never got an answer, so it is sent again on a new connection, as browsers do.
        log.note("the token server closed the kept-alive connection; reconnecting");
    }
    connection_.reset();

    if (route.proxy) {
        log.note("using proxy " + route.via());
    }
    Watchdog watchdog(deadline);
    auto connection = std::make_unique<Connection>();
    connection->route = route;
    connection->ca_file = request.ca_file;
    if (auto failure =
            open_session(route, request.ca_file, deadline, watchdog, connection->socket)) {
        watchdog.stop();
        return *failure;
    }
    connection->stream = std::make_unique<Poco::Net::SocketStream>(*connection->socket);
    // Errors of the socket reach the catch blocks of exchange() as they were thrown.
    connection->stream->exceptions(std::ios::badbit);
    Outcome outcome = exchange(*connection, request, uri, route, deadline, watchdog, log);
    watchdog.stop();
    if (outcome.complete && !watchdog.fired()) {
        connection_ = std::move(connection);
    }
    return outcome.result;
}

} // namespace iotspot::net
