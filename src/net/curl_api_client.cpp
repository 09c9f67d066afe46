#include "net/curl_api_client.h"

#include <chrono>
#include <ctime>

#include "net/curl_session.h"
#include "net/token_reply.h"
#include "util/strings.h"

namespace iotspot::net {

namespace {

// Retry-After in seconds: delta-seconds, or an HTTP-date resolved against `now`.
std::optional<std::int64_t> retry_after(const HttpsExchange& exchange, std::int64_t now) {
    const auto it = exchange.headers.find("retry-after");
    if (it == exchange.headers.end()) {
        return std::nullopt;
    }
    if (const auto seconds = util::parse_int(it->second)) {
        return *seconds < 0 ? 0 : *seconds;
    }
    if (const auto date = parse_http_date(it->second)) {
        return *date > now ? *date - now : 0;
    }
    return std::nullopt;
}

} // namespace

CurlApiClient::CurlApiClient() : session_(std::make_unique<CurlSession>()) {}

CurlApiClient::~CurlApiClient() = default;

core::ApiResponse CurlApiClient::send(const core::ApiRequest& request, const core::Log& /*log*/) {
    HttpsRequest https;
    https.method = request.method;
    https.url = request.url;
    https.headers = request.headers;
    https.body = request.body.value_or(std::string());
    https.ca_file = request.ca_file;
    https.timeout_ms = static_cast<long>(request.timeout_seconds) * 1000L;
    https.max_body = core::max_api_response_body;
    const auto started = std::chrono::steady_clock::now();
    HttpsExchange exchange = session_->perform(https);
    core::ApiResponse response;
    response.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (exchange.failure != Failure::none) {
        response.code = core::Exit::network;
        response.message =
            describe_failure(exchange, Subject{"the API", "api_url"}, request.timeout_seconds).text;
        return response;
    }
    response.status = exchange.status;
    response.head = std::move(exchange.head);
    response.body = std::move(exchange.body);
    response.retry_after = retry_after(exchange, std::time(nullptr));
    return response;
}

} // namespace iotspot::net
