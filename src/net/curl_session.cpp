#include "net/curl_session.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <curl/curl.h>
#include <mutex>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

#include "core/error.h"
#include "net/tls_context.h"
#include "util/defer.h"
#include "util/strings.h"

namespace iotspot::net {

namespace {

// Why the last handshake on this thread refused a certificate for its names (the verify
// callback runs on the thread doing the handshake, as in net/tls_context.cpp).
thread_local std::string name_failure;

void init_curl_once() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (result != CURLE_OK) {
        throw core::Error(core::Exit::network,
                          std::string("cannot set up libcurl: ") + curl_easy_strerror(result));
    }
}

// host, or [host] for an IPv6 literal; escaped for a message.
std::string shown_host(const std::string& host) {
    const std::string safe = util::escape_control(host);
    return host.find(':') != std::string::npos && host.front() != '[' ? "[" + safe + "]" : safe;
}

std::string env(const char* first, const char* second) {
    for (const char* name : {first, second}) {
        if (const char* value = std::getenv(name); value && *value) {
            return value;
        }
    }
    return {};
}

// The certificate names a DNS name or an IP address in its subjectAltName.
bool has_subject_alt_name(X509* certificate) {
    auto* names = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    bool found = false;
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
        const int type = sk_GENERAL_NAME_value(names, i)->type;
        found = found || type == GEN_DNS || type == GEN_IPADD;
    }
    GENERAL_NAMES_free(names);
    return found;
}

// The verify callback of every session's TLS context: OpenSSL's verdict, and then for the
// peer's own certificate the names: the host sent as SNI (a DNS name) must be in the
// subjectAltName, never only in the common name; an IP address (sent without SNI) is
// checked by libcurl against the subjectAltName's addresses, which must exist. Keeps the
// reason of a failure (net/tls_context.h).
int verify_with_names(int ok, X509_STORE_CTX* store) {
    if (ok == 1 && X509_STORE_CTX_get_error_depth(store) == 0) {
        X509* certificate = X509_STORE_CTX_get_current_cert(store);
        auto* ssl = static_cast<SSL*>(
            X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        const char* sni = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : nullptr;
        const unsigned flags =
            X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
        if (!has_subject_alt_name(certificate)) {
            name_failure = "the certificate has no subjectAltName (a common name alone does "
                           "not name a host)";
            ok = 0;
        } else if (sni != nullptr && X509_check_host(certificate, sni, 0, flags, nullptr) != 1) {
            name_failure =
                "the certificate's subjectAltName does not name " + util::escape_control(sni);
            ok = 0;
        }
        if (ok == 0) {
            X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
        }
    }
    return remember_verify_failure(ok, store);
}

} // namespace

ProxyChoice proxy_from_environment() {
    ProxyChoice choice;
    const std::string value = env("https_proxy", "HTTPS_PROXY");
    if (value.empty()) {
        return choice;
    }
    const auto scheme_end = value.find("://");
    const std::string scheme =
        scheme_end == std::string::npos ? "http" : util::ascii_lower(value.substr(0, scheme_end));
    if (scheme != "http" && scheme != "https" && scheme != "socks5" && scheme != "socks5h") {
        choice.error = "HTTPS_PROXY uses the scheme \"" + util::escape_control(scheme) +
                       "\", which iotspot-helper does not support; use http://, https://, "
                       "socks5:// or socks5h://";
        return choice;
    }
    const std::string url = scheme_end == std::string::npos ? "http://" + value : value;
    CURLU* parsed = curl_url();
    char* host = nullptr;
    char* port = nullptr;
    const bool ok =
        parsed != nullptr &&
        curl_url_set(parsed, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK;
    if (ok) {
        const bool has_port = curl_url_get(parsed, CURLUPART_PORT, &port, 0) == CURLUE_OK;
        const std::string default_port = scheme == "https"  ? "443"
                                         : scheme == "http" ? "80"
                                                            : "1080";
        const std::string port_text = has_port ? std::string(port) : default_port;
        choice.proxy =
            ProxySetting{value, scheme, shown_host(host) + ":" + port_text, std::stol(port_text)};
    } else {
        choice.error = "HTTPS_PROXY is not a valid proxy URL; set it like "
                       "http://proxy.example:3128";
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(parsed);
    return choice;
}

struct CurlSession::State {
    CURL* handle = nullptr;
    std::optional<std::string> ca_key; ///< the CA file version the kept connection trusts
    char error[CURL_ERROR_SIZE] = {};

    // One request's progress.
    const HttpsRequest* request = nullptr;
    HttpsExchange* exchange = nullptr;
    std::size_t header_lines = 0;
    std::size_t header_bytes = 0;
    bool headers_over_bounds = false;
    bool body_over_bounds = false;
    bool conflicting_length = false;
    bool socket_opened = false;
    std::vector<curl_socket_t> sockets; ///< opened for this request
    long first_port = 0;                ///< the port the first of them was opened for
    bool connected = false;             ///< one of them was connected when it was closed
    int tls_contexts = 0;               ///< TLS set-ups begun (each after a TCP connection)
    bool request_sent = false;
    bool answer_started = false;
    std::string content_length;
    std::string setup_error; ///< why the TLS context could not be set up (the CA file)
    curl_slist* headers = nullptr;

    void start(const HttpsRequest& wanted, HttpsExchange& result) {
        curl_slist_free_all(headers);
        headers = nullptr;
        request = &wanted;
        exchange = &result;
        header_lines = header_bytes = 0;
        headers_over_bounds = body_over_bounds = conflicting_length = false;
        socket_opened = request_sent = answer_started = connected = false;
        sockets.clear();
        first_port = 0;
        tls_contexts = 0;
        content_length.clear();
        setup_error.clear();
        error[0] = '\0';
    }
};

namespace {

using State = CurlSession::State;

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& state = *static_cast<State*>(user);
    const std::size_t bytes = size * count;
    if (state.exchange->body.size() + bytes > state.request->max_body) {
        state.body_over_bounds = true;
        return 0; // ends the transfer: CURLE_WRITE_ERROR
    }
    state.exchange->body.append(data, bytes);
    return bytes;
}

// One field of a header line, or false for a line that is not "name: value".
bool add_field(State& state, const std::string& line) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
        return false;
    }
    const std::string name = util::ascii_lower(line.substr(0, colon));
    const std::string value(util::trim(std::string_view(line).substr(colon + 1)));
    if (name == "content-length") {
        // Two different lengths: the answer's framing cannot be known (RFC 9112 6.3).
        if ((!state.content_length.empty() && state.content_length != value) ||
            value.find(',') != std::string::npos) {
            state.conflicting_length = true;
            return false;
        }
        state.content_length = value;
    }
    state.exchange->headers.emplace(name, value);
    return true;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& state = *static_cast<State*>(user);
    const std::size_t bytes = size * count;
    state.answer_started = true;
    state.header_bytes += bytes;
    if (++state.header_lines > max_answer_header_lines ||
        state.header_bytes > max_answer_header_bytes) {
        state.headers_over_bounds = true;
        return 0;
    }
    std::string line(data, bytes);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.pop_back();
    }
    if (line.rfind("HTTP/", 0) == 0) {
        // A new answer (after an interim 1xx): only the final answer's fields count.
        state.exchange->headers.clear();
        state.exchange->head = line + "\r\n";
        state.content_length.clear();
        return bytes;
    }
    if (!line.empty()) {
        state.exchange->head += line + "\r\n";
    }
    if (line.empty() || add_field(state, line)) {
        return bytes;
    }
    return state.conflicting_length ? 0 : bytes;
}

int on_request_ready(void* user, char*, char*, int, int) {
    static_cast<State*>(user)->request_sent = true;
    return CURL_PREREQFUNC_OK;
}

long port_of(const sockaddr& address) {
    if (address.sa_family == AF_INET) {
        return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
    }
    if (address.sa_family == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
    }
    return 0;
}

curl_socket_t on_open_socket(void* user, curlsocktype, curl_sockaddr* address) {
    auto& state = *static_cast<State*>(user);
    if (!state.socket_opened) {
        state.first_port = port_of(address->addr);
    }
    state.socket_opened = true;
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    state.sockets.push_back(fd);
    return fd;
}

// libcurl closes a failed request's sockets before curl_easy_perform returns: whether one of
// them had connected tells a stalled connect from a stalled tunnel (curl's CONNECT_TIME is
// only set once the whole chain is up).
int on_close_socket(void* user, curl_socket_t fd) {
    auto& state = *static_cast<State*>(user);
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    if (std::find(state.sockets.begin(), state.sockets.end(), fd) != state.sockets.end() &&
        ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0) {
        state.connected = true;
    }
    // The one close() outside util::Fd: libcurl hands over a socket it owns for us to close.
    return ::close(fd);
}

// Every TLS context libcurl makes (for the server, and for an https:// proxy) gets the
// project's client policy, in a store of its own, and the name check above.
CURLcode on_tls_context(CURL*, void* context, void* user) {
    auto& state = *static_cast<State*>(user);
    auto* ssl_context = static_cast<SSL_CTX*>(context);
    ++state.tls_contexts;
    X509_STORE* store = X509_STORE_new();
    if (store == nullptr) {
        state.setup_error = "cannot set up TLS (out of memory)";
        return CURLE_OUT_OF_MEMORY;
    }
    SSL_CTX_set_cert_store(ssl_context, store);
    if (const auto applied = apply_client_policy(ssl_context, state.request->ca_file); !applied) {
        state.setup_error = applied.error();
        return CURLE_SSL_CACERT_BADFILE;
    }
    SSL_CTX_set_verify(ssl_context, SSL_VERIFY_PEER, verify_with_names);
    return CURLE_OK;
}

template <typename Value> void set(CURL* handle, CURLoption option, Value value) {
    if (curl_easy_setopt(handle, option, value) != CURLE_OK) {
        throw core::Error(core::Exit::network,
                          "cannot set up libcurl (option " + std::to_string(option) + ")");
    }
}

// The options every request of a session shares (the guarantees in curl_session.h).
void set_fixed_options(CURL* handle, State& state) {
    char* const none = nullptr;
    set(handle, CURLOPT_NOSIGNAL, 1L);
    set(handle, CURLOPT_PROTOCOLS_STR, "https");
    set(handle, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    set(handle, CURLOPT_FOLLOWLOCATION, 0L);
    set(handle, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    set(handle, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    set(handle, CURLOPT_PROXY_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    set(handle, CURLOPT_SSL_VERIFYPEER, 1L);
    set(handle, CURLOPT_SSL_VERIFYHOST, 2L);
    set(handle, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
    set(handle, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
    // Trust comes from on_tls_context alone: not libcurl's bundle, which it would parse whole.
    set(handle, CURLOPT_CAINFO, none);
    set(handle, CURLOPT_CAPATH, none);
    set(handle, CURLOPT_PROXY_CAINFO, none);
    set(handle, CURLOPT_PROXY_CAPATH, none);
    set(handle, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    set(handle, CURLOPT_SSL_CTX_FUNCTION, on_tls_context);
    set(handle, CURLOPT_SSL_CTX_DATA, &state);
    set(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    set(handle, CURLOPT_WRITEFUNCTION, on_body);
    set(handle, CURLOPT_WRITEDATA, &state);
    set(handle, CURLOPT_HEADERFUNCTION, on_header);
    set(handle, CURLOPT_HEADERDATA, &state);
    set(handle, CURLOPT_PREREQFUNCTION, on_request_ready);
    set(handle, CURLOPT_PREREQDATA, &state);
    set(handle, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    set(handle, CURLOPT_OPENSOCKETDATA, &state);
    set(handle, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    set(handle, CURLOPT_CLOSESOCKETDATA, &state);
    set(handle, CURLOPT_ERRORBUFFER, state.error);
    set(handle, CURLOPT_USERAGENT, "iotspot-helper");
}

} // namespace

CurlSession::CurlSession() : state_(std::make_unique<State>()) {
    init_curl_once();
    state_->handle = curl_easy_init();
    if (state_->handle == nullptr) {
        throw core::Error(core::Exit::network, "cannot set up libcurl");
    }
    util::Defer clean_up([this] { curl_easy_cleanup(state_->handle); });
    set_fixed_options(state_->handle, *state_);
    clean_up.dismiss();
}

CurlSession::~CurlSession() {
    curl_easy_cleanup(state_->handle);
    curl_slist_free_all(state_->headers);
}

namespace {

// The URL to request (without its fragment, which is never sent), and its parts.
struct Target {
    std::string url;
    std::string host;   ///< escaped
    std::string server; ///< host:port, IPv6 in brackets, escaped
};

std::optional<Target> parse_target(const std::string& url) {
    CURLU* parsed = curl_url();
    char* parts[4] = {nullptr, nullptr, nullptr, nullptr}; // scheme, host, port, url
    bool ok =
        parsed != nullptr &&
        curl_url_set(parsed, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_set(parsed, CURLUPART_FRAGMENT, nullptr, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_SCHEME, &parts[0], 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_HOST, &parts[1], 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_PORT, &parts[2], CURLU_DEFAULT_PORT) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_URL, &parts[3], 0) == CURLUE_OK;
    std::optional<Target> target;
    if (ok && util::ascii_lower(parts[0]) == "https") {
        target = Target{parts[3], shown_host(parts[1]), shown_host(parts[1]) + ":" + parts[2]};
    }
    for (char* part : parts) {
        curl_free(part);
    }
    curl_url_cleanup(parsed);
    return target;
}

void set_method(CURL* handle, const HttpsRequest& request) {
    char* const none = nullptr;
    set(handle, CURLOPT_CUSTOMREQUEST, none);
    set(handle, CURLOPT_NOBODY, request.method == "HEAD" ? 1L : 0L);
    if (request.method == "HEAD") {
        return;
    }
    if (request.method == "GET" && request.body.empty()) {
        set(handle, CURLOPT_HTTPGET, 1L);
        return;
    }
    set(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(handle, CURLOPT_POSTFIELDS, request.body.c_str());
    if (request.method != "POST") {
        set(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
}

// Sets up one request; false (with the exchange's failure filled in) when it cannot be made.
bool prepare(State& state, const HttpsRequest& request, HttpsExchange& exchange) {
    exchange.failure = Failure::setup;
    const auto target = parse_target(request.url);
    if (!target) {
        exchange.detail = "the URL is not a valid https:// URL";
        return false;
    }
    exchange.host = target->host;
    exchange.server = target->server;
    auto choice = proxy_from_environment();
    if (!choice.error.empty()) {
        exchange.detail = choice.error;
        return false;
    }
    exchange.proxy = choice.proxy;
    auto ca_key = ca_file_key(request.ca_file);
    if (!ca_key) {
        exchange.detail = ca_key.error();
        return false;
    }
    for (const auto& line : request.headers) {
        state.headers = curl_slist_append(state.headers, line.c_str());
    }
    state.headers = curl_slist_append(state.headers, "Expect:");
    CURL* handle = state.handle;
    set(handle, CURLOPT_URL, target->url.c_str());
    set(handle, CURLOPT_TIMEOUT_MS, request.timeout_ms);
    set(handle, CURLOPT_PROXY, exchange.proxy ? exchange.proxy->url.c_str() : "");
    set(handle, CURLOPT_HTTPHEADER, state.headers);
    set(handle, CURLOPT_FRESH_CONNECT, state.ca_key == ca_key.value() ? 0L : 1L);
    set_method(handle, request);
    state.ca_key = std::move(ca_key).value();
    exchange.failure = Failure::none;
    return true;
}

// The TLS set-ups that come before the server's: an https:// proxy's.
int proxy_tls_contexts(const HttpsExchange& exchange) {
    return exchange.proxy && exchange.proxy->scheme == "https" ? 1 : 0;
}

Stage stage_reached(const State& state, const HttpsExchange& exchange) {
    if (state.answer_started) {
        return Stage::reading_answer;
    }
    if (state.request_sent) {
        return Stage::awaiting_answer;
    }
    if (!state.socket_opened) {
        return Stage::resolving;
    }
    if (state.tls_contexts > proxy_tls_contexts(exchange)) {
        return Stage::handshaking;
    }
    if (state.connected || state.tls_contexts > 0) {
        return exchange.proxy ? Stage::tunnelling : Stage::handshaking;
    }
    return Stage::connecting;
}

bool mentions(const char* text, const char* word) {
    return std::string(text).find(word) != std::string::npos;
}

// A receive or send error: bad chunked framing, a closed tunnel, or a closed connection.
Failure broken_transfer(const State& state, Stage stage) {
    if (mentions(state.error, "chunk")) {
        return Failure::malformed;
    }
    if (stage == Stage::tunnelling) {
        return Failure::proxy_failed;
    }
    return state.answer_started ? Failure::cut_short : Failure::closed_early;
}

Failure classify(CURLcode code, const State& state, const HttpsExchange& exchange) {
    const long proxy_status = exchange.proxy_status;
    if (state.body_over_bounds || state.headers_over_bounds) {
        return Failure::too_large;
    }
    if (state.conflicting_length) {
        return Failure::malformed;
    }
    if (!state.setup_error.empty()) {
        return Failure::setup;
    }
    if (code != CURLE_OK && proxy_status != 0 && (proxy_status < 200 || proxy_status > 299)) {
        return Failure::proxy_refused;
    }
    switch (code) {
    case CURLE_OK:
        return Failure::none;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
        return Failure::resolve;
    case CURLE_COULDNT_CONNECT: {
        long os_error = 0;
        curl_easy_getinfo(state.handle, CURLINFO_OS_ERRNO, &os_error);
        return os_error == ECONNREFUSED ? Failure::refused : Failure::unreachable;
    }
    case CURLE_OPERATION_TIMEDOUT:
        return Failure::timed_out;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_USE_SSL_FAILED:
        return Failure::tls;
    case CURLE_PROXY:
        return Failure::proxy_failed;
    case CURLE_GOT_NOTHING:
        return Failure::closed_early;
    case CURLE_PARTIAL_FILE:
        return Failure::cut_short;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return Failure::malformed;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return broken_transfer(state, exchange.stage);
    default:
        return Failure::other;
    }
}

// The failure happened before the tunnel to the server was open: the proxy's.
bool proxy_fault(CURLcode code, const HttpsExchange& exchange) {
    if (!exchange.proxy || code == CURLE_COULDNT_RESOLVE_HOST) {
        return false;
    }
    return code == CURLE_COULDNT_RESOLVE_PROXY || exchange.stage == Stage::resolving ||
           exchange.stage == Stage::connecting || exchange.stage == Stage::tunnelling;
}

// Why a transfer failed, in words: the certificate check's reason, the CA file's, or curl's.
std::string reason(const State& state) {
    if (!name_failure.empty()) {
        return std::exchange(name_failure, {});
    }
    if (std::string verify = take_verify_failure(); !verify.empty()) {
        return verify;
    }
    if (!state.setup_error.empty()) {
        return state.setup_error;
    }
    return util::escape_control(state.error[0] != '\0' ? state.error : "");
}

// Whether the request went to the proxy, or NO_PROXY (which libcurl reads) let it bypass it:
// the first socket was opened for the proxy's port (when the server listens on the same port,
// the proxy is assumed), or the proxy's name did not resolve.
bool through_proxy(const State& state, CURLcode code, const ProxySetting& proxy) {
    if (!state.socket_opened) {
        return code != CURLE_COULDNT_RESOLVE_HOST;
    }
    return state.first_port == proxy.port;
}

void conclude(State& state, CURLcode code, HttpsExchange& exchange) {
    CURL* handle = state.handle;
    long status = 0;
    long connects = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(handle, CURLINFO_HTTP_CONNECTCODE, &exchange.proxy_status);
    curl_easy_getinfo(handle, CURLINFO_NUM_CONNECTS, &connects);
    exchange.reused = connects == 0;
    if (exchange.proxy && !through_proxy(state, code, *exchange.proxy)) {
        exchange.proxy.reset();
    }
    exchange.stage = stage_reached(state, exchange);
    exchange.failure = classify(code, state, exchange);
    if (exchange.failure == Failure::none) {
        exchange.stage = Stage::complete;
        exchange.status = static_cast<int>(status);
        return;
    }
    exchange.at_proxy = proxy_fault(code, exchange);
    exchange.detail = reason(state);
    if (exchange.failure == Failure::too_large) {
        exchange.detail =
            state.body_over_bounds
                ? "larger than " + std::to_string(state.request->max_body / (1024 * 1024)) + " MiB"
                : "too large (over 100 header lines or 64 KiB of header)";
    } else if (exchange.failure == Failure::malformed && state.conflicting_length) {
        exchange.detail = "conflicting Content-Length fields";
    }
}

} // namespace

HttpsExchange CurlSession::perform(const HttpsRequest& request) {
    HttpsExchange exchange;
    state_->start(request, exchange);
    name_failure.clear();
    forget_verify_failure();
    try {
        if (!prepare(*state_, request, exchange)) {
            return exchange;
        }
    } catch (const std::exception& failure) {
        exchange.failure = Failure::setup;
        exchange.detail = failure.what();
        return exchange;
    }
    const CURLcode code = curl_easy_perform(state_->handle);
    conclude(*state_, code, exchange);
    return exchange;
}

} // namespace iotspot::net
