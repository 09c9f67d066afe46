#pragma once
// The one libcurl set-up of the network module, as git's http_init: every HTTPS request the
// module makes goes through a CurlSession, so these guarantees hold for all of them,
// whatever the caller asks for:
//
// - Only https, for the request and for any redirect (CURLOPT_PROTOCOLS_STR and
//   CURLOPT_REDIR_PROTOCOLS_STR), and no redirect is followed: credentials in a request
//   never go to another host.
// - TLS 1.2 or later, the peer and its host name always verified (VERIFYPEER and VERIFYHOST
//   are never turned off). Trust is the system store, read lazily from OpenSSL's hashed
//   directory, plus the request's ca_file: net/tls_context.h's apply_client_policy, applied
//   in CURLOPT_SSL_CTX_FUNCTION, so the token client, an https:// proxy and the shared cache
//   all follow one policy. A certificate must name the host in its subjectAltName: one
//   with only a common name is refused for a DNS name, as browsers and Go do.
// - One wall-clock deadline for the whole request (CURLOPT_TIMEOUT_MS): name resolution on
//   curl's threaded resolver, connecting to every address of the name (Happy Eyeballs,
//   RFC 8305), the proxy, the TLS handshake, the request and the whole answer. No signals
//   (CURLOPT_NOSIGNAL).
// - The proxy from https_proxy or HTTPS_PROXY (in that order, as curl reads them):
//   http://, https:// (TLS to the proxy, verified with the same trust), socks5:// and
//   socks5h://; a value without a scheme is http://, as in curl. Any other scheme is refused
//   before connecting. NO_PROXY/no_proxy are read by libcurl itself, so a host bypasses the
//   proxy exactly as it does for curl (suffix matches on name boundaries, CIDR ranges, "*").
//   ALL_PROXY is not used.
// - The answer is bounded before it is stored: at most 1 MiB of body, 100 header lines
//   (interim 1xx answers included), 64 KiB of header bytes; beyond that the transfer stops.
// - Connections are kept alive across requests of one session (one easy handle), and never
//   reused for a request with another CA file.
//
// One session serves one thread at a time. Nothing here throws once constructed, and no
// message contains the request's headers or body (where credentials travel).

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iotspot::net {

/// One HTTPS request.
struct HttpsRequest {
    std::string method = "GET";
    std::string url;                    ///< https://...; a #fragment is never sent
    std::vector<std::string> headers;   ///< "Name: value" lines; never logged
    std::string body;                   ///< sent as is, with Content-Length, when not empty
    std::string ca_file;                ///< trusted in addition to the system store; may be empty
    long timeout_ms = 10000;            ///< the deadline for the whole request
    std::size_t max_body = 1024 * 1024; ///< the most of the answer's body kept (max_answer_body)
};

/// How far a request got before it ended.
enum class Stage {
    resolving,       ///< the name (of the server, or of the proxy) was not resolved yet
    connecting,      ///< no TCP connection yet (to the server, or to the proxy)
    tunnelling,      ///< connected to the proxy, no tunnel to the server yet
    handshaking,     ///< the TLS handshake with the server had not finished
    awaiting_answer, ///< the request was being sent or answered; no byte of answer yet
    reading_answer,  ///< part of the answer arrived
    complete,        ///< the whole answer arrived
};

/// What kind of failure ended a request; `none` when an answer arrived whole.
enum class Failure {
    none,
    setup,         ///< the request could not be set up (bad URL, proxy scheme, CA file)
    resolve,       ///< a name does not resolve
    refused,       ///< the connection was refused
    unreachable,   ///< another connect failure (no route, reset while connecting)
    timed_out,     ///< the deadline passed; `stage` says where
    proxy_refused, ///< the proxy answered CONNECT with a non-2xx status
    proxy_failed,  ///< the proxy broke the protocol or the tunnel (SOCKS, HTTP)
    tls,           ///< TLS failed: the certificate, its name, or the handshake
    closed_early,  ///< the connection closed before any answer
    cut_short,     ///< the connection closed in the middle of the answer
    malformed,     ///< the answer arrived but breaks HTTP (framing, chunks, headers)
    too_large,     ///< the answer is over the size bounds
    other,         ///< anything else (curl's text in `detail`)
};

/// The proxy a request would use, from https_proxy/HTTPS_PROXY.
struct ProxySetting {
    std::string url;    ///< as given (may hold credentials: never print it)
    std::string scheme; ///< http, https, socks5 or socks5h
    std::string where;  ///< host:port, IPv6 in brackets, escaped: for messages
    long port = 0;
};

/// The proxy in the environment, nothing when none is set, or an error message naming the
/// variable when its scheme is not one of http, https, socks5, socks5h or it cannot be parsed.
struct ProxyChoice {
    std::optional<ProxySetting> proxy;
    std::string error;
};
ProxyChoice proxy_from_environment();

/// What came of one request.
struct HttpsExchange {
    Failure failure = Failure::none;
    Stage stage = Stage::resolving;
    std::string detail; ///< curl's or OpenSSL's reason, escaped, for messages; may be empty
    std::string server; ///< host:port of the URL, IPv6 in brackets, escaped
    std::string host;   ///< the URL's host, escaped (for "cannot resolve HOST")
    std::optional<ProxySetting> proxy; ///< the proxy used, when one was (not when NO_PROXY
                                       ///< let the request bypass it)
    bool at_proxy = false; ///< the failure was the proxy's (resolving, connecting, its TLS)
    long proxy_status = 0; ///< the proxy's answer to CONNECT, when it refused
    bool reused = false;   ///< the request went over a kept-alive connection

    int status = 0;                             ///< the HTTP status of the final answer
    std::map<std::string, std::string> headers; ///< its fields, names lower-cased, first kept
    std::string head; ///< its status line and fields as received, each ending in CRLF
    std::string body;
};

/// Bounds on what a session stores of an answer.
inline constexpr std::size_t max_answer_body = 1024 * 1024;
inline constexpr std::size_t max_answer_header_lines = 100;
inline constexpr std::size_t max_answer_header_bytes = 64 * 1024;

class CurlSession {
public:
    /// Throws core::Error (network) when libcurl cannot make a handle.
    CurlSession();
    ~CurlSession();
    CurlSession(const CurlSession&) = delete;
    CurlSession& operator=(const CurlSession&) = delete;

    /// Makes one request within its deadline. Never throws.
    HttpsExchange perform(const HttpsRequest& request);

    struct State;

private:
    std::unique_ptr<State> state_;
};

/// Whom a message names: `who` ("the token server") and the setting to check ("token_url").
struct Subject {
    std::string who;
    std::string setting;
};

/// A message for a failed exchange (failure != none), one line naming what failed and what
/// to check; `seconds` is the deadline, for "within N s". `retryable` says whether asking
/// again can help: connection failures, early closes and timeouts yes; setup, TLS
/// verification, malformed or too large answers no.
struct FailureMessage {
    std::string text;
    bool retryable = false;
};
FailureMessage describe_failure(const HttpsExchange& exchange, const Subject& subject,
                                long seconds);

} // namespace iotspot::net
