// describe_failure (net/curl_session.h): one line for each way a request can fail, as
// specific as docs/unattended.md's failure table promises.

#include <string>

#include "net/curl_session.h"

namespace iotspot::net {

namespace {

FailureMessage message(std::string text, bool retryable) {
    return FailureMessage{std::move(text), retryable};
}

std::string proxy_name(const HttpsExchange& exchange) {
    return "the proxy " + (exchange.proxy ? exchange.proxy->where : std::string("in HTTPS_PROXY"));
}

std::string with_detail(const std::string& text, const std::string& detail) {
    return detail.empty() ? text : text + " (" + detail + ")";
}

FailureMessage too_slow(const HttpsExchange& exchange, const Subject& subject, long seconds) {
    const std::string within = " within " + std::to_string(seconds) + " s";
    const std::string server = subject.who + " " + exchange.server + " was too slow: ";
    const std::string proxy = proxy_name(exchange) + " was too slow: ";
    switch (exchange.stage) {
    case Stage::resolving:
        if (exchange.at_proxy) {
            return message("cannot resolve " + proxy_name(exchange) + within +
                               "; check HTTPS_PROXY and your DNS",
                           true);
        }
        return message("cannot resolve " + exchange.host + within + "; check your DNS", true);
    case Stage::connecting:
        return message((exchange.at_proxy ? proxy : server) + "no connection" + within, true);
    case Stage::tunnelling:
        return message(proxy + "no tunnel to " + subject.who + within, true);
    case Stage::handshaking:
        return message(server + "the TLS handshake did not finish" + within, true);
    case Stage::awaiting_answer:
        return message(server + "it did not answer" + within, true);
    case Stage::reading_answer:
    case Stage::complete:
        break;
    }
    return message(server + "its answer did not arrive completely" + within, true);
}

FailureMessage tls_failure(const HttpsExchange& exchange) {
    const std::string& why =
        exchange.detail.empty() ? std::string("handshake failed") : exchange.detail;
    // A connection closed during the handshake is a network failure, not a certificate's.
    const bool closed = why.find("SSL_ERROR_SYSCALL") != std::string::npos ||
                        why.find("unexpected eof") != std::string::npos;
    if (exchange.at_proxy) {
        return message("TLS with " + proxy_name(exchange) + " failed: " + why +
                           "; check HTTPS_PROXY; if the proxy uses a private CA, pass it with "
                           "configure --ca-file",
                       closed);
    }
    return message("TLS with " + exchange.server + " failed: " + why +
                       "; if the server uses a private CA, pass it with configure --ca-file",
                   closed);
}

FailureMessage connection_failure(const HttpsExchange& exchange, const Subject& subject) {
    const std::string check = "; check " + subject.setting;
    switch (exchange.failure) {
    case Failure::resolve:
        if (exchange.at_proxy) {
            return message("cannot resolve " + proxy_name(exchange) +
                               "; check HTTPS_PROXY and your DNS",
                           true);
        }
        return message("cannot resolve " + exchange.host + check + " and your DNS", true);
    case Failure::refused:
        if (exchange.at_proxy) {
            return message(proxy_name(exchange) + " refused the connection; check HTTPS_PROXY",
                           true);
        }
        return message(
            "connection to " + subject.who + " " + exchange.server + " was refused" + check, true);
    default:
        break;
    }
    const std::string whom =
        exchange.at_proxy ? proxy_name(exchange) : subject.who + " " + exchange.server;
    return message(with_detail("cannot reach " + whom, exchange.detail), true);
}

FailureMessage proxy_failure(const HttpsExchange& exchange, const Subject& subject) {
    const std::string target = subject.who + " " + exchange.server;
    if (exchange.failure == Failure::proxy_refused) {
        const long status = exchange.proxy_status;
        return message(proxy_name(exchange) + " refused the tunnel to " + target + " (HTTP " +
                           std::to_string(status) +
                           "); check HTTPS_PROXY and the proxy's credentials",
                       status >= 500);
    }
    return message(
        with_detail(proxy_name(exchange) + " did not open a tunnel to " + target, exchange.detail) +
            "; check HTTPS_PROXY",
        true);
}

FailureMessage answer_failure(const HttpsExchange& exchange, const Subject& subject) {
    const std::string check = "; check " + subject.setting;
    switch (exchange.failure) {
    case Failure::closed_early:
        return message(
            subject.who + " " + exchange.server + " closed the connection without an answer", true);
    case Failure::cut_short:
        return message(subject.who + "'s answer was cut short (connection closed early)", true);
    case Failure::malformed:
        return message(with_detail(subject.who + "'s answer is malformed HTTP", exchange.detail) +
                           check,
                       false);
    case Failure::too_large:
        return message(subject.who + "'s answer is " + exchange.detail + check, false);
    default:
        break;
    }
    return message(with_detail("the request to " + subject.who + " " + exchange.server + " failed",
                               exchange.detail),
                   false);
}

} // namespace

FailureMessage describe_failure(const HttpsExchange& exchange, const Subject& subject,
                                long seconds) {
    switch (exchange.failure) {
    case Failure::setup:
        if (exchange.server.empty() && exchange.proxy == std::nullopt &&
            exchange.detail.rfind("the URL", 0) == 0) {
            return message(
                subject.setting + " is not a valid https:// URL; check " + subject.setting, false);
        }
        return message(exchange.detail, false);
    case Failure::timed_out:
        return too_slow(exchange, subject, seconds);
    case Failure::tls:
        return tls_failure(exchange);
    case Failure::resolve:
    case Failure::refused:
    case Failure::unreachable:
        return connection_failure(exchange, subject);
    case Failure::proxy_refused:
    case Failure::proxy_failed:
        return proxy_failure(exchange, subject);
    default:
        return answer_failure(exchange, subject);
    }
}

} // namespace iotspot::net
