#include "net/https_token_client.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <sstream>

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "net/deadline.h"
#include "net/http_response.h"
#include "net/tls_context.h"
#include "net/tls_socket.h"
#include "net/token_reply.h"
#include "util/strings.h"

namespace iotspot::net {

namespace {

using core::Exit;
using core::FetchResult;

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

// "Basic <base64 of user:password>" (RFC 7617), on one line.
std::string basic_credentials(const std::string& user, const std::string& password) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << user << ':' << password;
    encoder.close();
    return "Basic " + out.str();
}

// host, or [host] for an IPv6 literal.
std::string bracketed(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// host:port, for the Host field and CONNECT's target.
std::string authority(const std::string& host, unsigned short port) {
    return bracketed(host) + ":" + std::to_string(port);
}

FetchResult network_failure(std::string message, bool retryable) {
    FetchResult result;
    result.code = Exit::network;
    result.message = std::move(message);
    result.retryable = retryable;
    return result;
}

// How far a fetch got, for the message when it fails or runs out of time.
enum class Phase { connecting, tunnelling, handshaking, awaiting_answer, reading_answer };

// host:port for messages, an IPv6 address in brackets ([::1]:443).
std::string host_and_port(const std::string& host, unsigned short port) {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Where a fetch goes: the token server, and the proxy on the way when there is one.
struct Route {
    std::string host;
    unsigned short port = 0;
    std::optional<Proxy> proxy;

    std::string server() const { return host_and_port(host, port); }
    std::string via() const {
        return proxy ? host_and_port(proxy->host, proxy->port) : std::string();
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

// Asks the proxy at the other end of `socket` for a tunnel to the token server (HTTP
// CONNECT). Returns what went wrong, or nothing when the tunnel is open.
std::optional<FetchResult> open_tunnel(TlsSocket& socket, const Route& route) {
    const std::string target = authority(route.host, route.port);
    std::string request = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
    if (!route.proxy->username.empty()) {
        request += "Proxy-Authorization: " +
                   basic_credentials(route.proxy->username, route.proxy->password) + "\r\n";
    }
    socket.send(request + "\r\n");

    // The proxy sends nothing after its answer until the TLS handshake starts, so nothing
    // of the server's can be left in the reader's buffer; if something is, the answer was
    // not what a proxy sends.
    BufferedReader in(socket);
    const auto answer = read_response_head(in);
    if (!answer && in.ended()) {
        return network_failure("the proxy " + route.via() +
                                   " closed the connection instead of opening a tunnel to " +
                                   route.server() + "; check HTTPS_PROXY",
                               true);
    }
    if (!answer || in.buffered()) {
        return network_failure(
            "the proxy " + route.via() + " did not answer in HTTP; check HTTPS_PROXY", false);
    }
    const int status = answer->status;
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
    std::unique_ptr<TlsSocket> socket;
    std::unique_ptr<BufferedReader> reader; ///< reads `socket`

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

    // An idle kept-alive connection has nothing to read; if it has, the server closed it
    // (or sent something unasked for) and it must not be used.
    bool still_open() const { return !reader->buffered() && socket->idle(); }
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
                                        std::unique_ptr<TlsSocket>& socket) {
    SSL_CTX* context = nullptr;
    try {
        context = client_context(ca_file);
    } catch (const TlsSetupError& error) {
        return network_failure(error.what(), false);
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
        socket = std::make_unique<TlsSocket>(*address, deadline);
        watchdog.arm(socket->fd());
        if (route.proxy) {
            phase = Phase::tunnelling;
            if (auto failure = open_tunnel(*socket, route)) {
                return watchdog.fired() ? too_slow(phase, route, deadline) : *failure;
            }
        }
        phase = Phase::handshaking;
        forget_verify_failure();
        socket->handshake(context, route.host);
        return std::nullopt;
    } catch (const SocketError& failure) {
        using Kind = SocketError::Kind;
        if (watchdog.fired() || failure.kind() == Kind::timed_out) {
            return too_slow(phase, route, deadline);
        }
        if (phase == Phase::handshaking && failure.kind() == Kind::tls) {
            std::string reason = take_verify_failure();
            return tls_failure(route, reason.empty() ? failure.what() : reason);
        }
        if (failure.kind() == Kind::refused) {
            if (phase == Phase::connecting && route.proxy) {
                return network_failure("the proxy " + route.via() +
                                           " refused the connection; check HTTPS_PROXY",
                                       true);
            }
            return network_failure("connection to the token server " + route.server() +
                                       " was refused; check token_url",
                                   true);
        }
        const std::string who = route.proxy && phase <= Phase::tunnelling
                                    ? "the proxy " + route.via()
                                    : "the token server " + route.server();
        if (failure.kind() == Kind::closed) {
            return network_failure(who + " closed the connection", true);
        }
        return network_failure("cannot reach " + who + ": " + failure.what(), true);
    }
}

// The request for a token (RFC 6749 4.4), its client authenticated with HTTP Basic.
std::string token_request(const core::TokenRequest& request, const Poco::URI& uri,
                          const Route& route) {
    const std::string body =
        "grant_type=client_credentials&client_id=" + form_encode(request.client_id) +
        "&scope=" + form_encode(request.scope);
    // The port is left out when it is https' own, as curl and browsers do.
    const std::string host =
        route.port == 443 ? bracketed(route.host) : authority(route.host, route.port);
    return "POST " + uri.getPathEtc() + " HTTP/1.1\r\nHost: " + host +
           "\r\nAuthorization: " + basic_credentials(request.client_id, request.client_secret) +
           "\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n"
           "User-Agent: iotspot-helper\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

// One request and its answer on `connection`, before `deadline` (the watchdog is already
// watching the socket).
Outcome exchange(HttpsTokenClient::Connection& connection, const core::TokenRequest& request,
                 const Poco::URI& uri, const Route& route, const Deadline& deadline,
                 const Watchdog& watchdog, const core::Log& log) {
    Outcome outcome;
    Phase phase = Phase::awaiting_answer;
    const std::size_t received_before = connection.reader->received();
    const auto answered = [&] { return connection.reader->received() > received_before; };
    try {
        connection.socket->set_timeouts(deadline);
        connection.socket->send(token_request(request, uri, route));
        const auto response = read_response(*connection.reader, "POST");
        if (answered()) {
            phase = Phase::reading_answer;
        }
        if (watchdog.fired()) {
            // The watchdog's shutdown reads as an end of stream.
            outcome.result = too_slow(phase, route, deadline);
            return outcome;
        }
        if (!response) {
            if (connection.reader->ended() && !answered()) {
                outcome.closed_early = true;
                outcome.result = network_failure("the token server " + route.server() +
                                                     " closed the connection without an answer",
                                                 true);
            } else {
                outcome.result = network_failure("the token server " + route.server() +
                                                     " did not answer in HTTP; check token_url",
                                                 true);
            }
            return outcome;
        }
        if (response->state == Body::too_large) {
            outcome.result = network_failure(
                "the token server's answer is larger than 1 MiB; check token_url", false);
            return outcome;
        }
        HttpAnswer answer;
        answer.status = response->head.status;
        answer.headers = response->head.headers;
        answer.body = response->body;
        answer.truncated = response->state == Body::cut_short;
        outcome.complete = response->reusable;
        log.note("token server " + route.server() + " answered HTTP " +
                 std::to_string(answer.status));
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        outcome.result = interpret_answer(answer, request.scope, now);
        if (const auto date = answer.headers.find("date"); date != answer.headers.end()) {
            outcome.result.server_date = parse_http_date(date->second);
        }
        return outcome;
    } catch (const SocketError& failure) {
        using Kind = SocketError::Kind;
        if (answered()) {
            phase = Phase::reading_answer;
        }
        if (watchdog.fired() || failure.kind() == Kind::timed_out) {
            outcome.result = too_slow(phase, route, deadline);
        } else if (failure.kind() == Kind::closed && phase == Phase::awaiting_answer) {
            // The request could not be sent: the server had closed the connection.
            outcome.closed_early = true;
            outcome.result = network_failure("the token server " + route.server() +
                                                 " closed the connection without an answer",
                                             true);
        } else if (failure.kind() == Kind::closed || failure.kind() == Kind::tls) {
            outcome.result = network_failure(
                "the token server's answer was cut short (connection closed early)", true);
        } else {
            outcome.result = network_failure(
                "cannot reach the token server " + route.server() + ": " + failure.what(), true);
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
        watchdog.arm(connection_->socket->fd());
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
    connection->reader = std::make_unique<BufferedReader>(*connection->socket);
    Outcome outcome = exchange(*connection, request, uri, route, deadline, watchdog, log);
    watchdog.stop();
    if (outcome.complete && !watchdog.fired()) {
        connection_ = std::move(connection);
    }
    return outcome.result;
}

} // namespace iotspot::net
