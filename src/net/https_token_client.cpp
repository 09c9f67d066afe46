#include "net/https_token_client.h"

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <curl/curl.h>
#include <new>
#include <openssl/evp.h>
#include <string>
#include <vector>

#include "net/curl_session.h"
#include "net/token_reply.h"

namespace iotspot::net {

namespace {

// A form value, percent-encoded: everything but letters, digits and "-._~".
std::string form_encode(const std::string& value) {
    char* encoded = curl_easy_escape(nullptr, value.c_str(), static_cast<int>(value.size()));
    if (encoded == nullptr) {
        throw std::bad_alloc();
    }
    std::string out(encoded);
    curl_free(encoded);
    return out;
}

// "Basic <base64 of user:password>" (RFC 7617), on one line.
std::string basic_credentials(const std::string& user, const std::string& password) {
    const std::string pair = user + ":" + password;
    std::vector<unsigned char> out((pair.size() + 2) / 3 * 4 + 1);
    const int length =
        EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(pair.data()),
                        static_cast<int>(pair.size()));
    return "Basic " + std::string(out.begin(), out.begin() + length);
}

// The request for a token (RFC 6749 4.4), its client authenticated with HTTP Basic.
HttpsRequest token_request(const core::TokenRequest& request) {
    HttpsRequest http;
    http.method = "POST";
    http.url = request.token_url;
    http.headers = {
        "Authorization: " + basic_credentials(request.client_id, request.client_secret),
        "Content-Type: application/x-www-form-urlencoded",
        "Accept: application/json",
    };
    http.body = "grant_type=client_credentials&client_id=" + form_encode(request.client_id) +
                "&scope=" + form_encode(request.scope);
    http.ca_file = request.ca_file;
    http.timeout_ms = 1000L * std::max(1, request.timeout_seconds);
    return http;
}

core::FetchResult failure(const HttpsExchange& exchange, long seconds) {
    const auto described =
        describe_failure(exchange, Subject{"the token server", "token_url"}, seconds);
    core::FetchResult result;
    result.code = core::Exit::network;
    result.message = described.text;
    result.retryable = described.retryable;
    return result;
}

} // namespace

HttpsTokenClient::HttpsTokenClient() : session_(std::make_unique<CurlSession>()) {}

HttpsTokenClient::~HttpsTokenClient() = default;

core::FetchResult HttpsTokenClient::fetch(const core::TokenRequest& request, const core::Log& log) {
    HttpsRequest http;
    try {
        http = token_request(request);
    } catch (const std::exception&) {
        HttpsExchange unmade;
        unmade.failure = Failure::setup;
        unmade.detail = "cannot build the token request (out of memory)";
        return failure(unmade, 0);
    }
    const HttpsExchange exchange = session_->perform(http);
    if (exchange.proxy && exchange.failure != Failure::setup) {
        log.note("using proxy " + exchange.proxy->where);
    }
    if (exchange.reused) {
        log.note("reused the connection to " + exchange.server);
    }
    if (exchange.failure != Failure::none) {
        return failure(exchange, http.timeout_ms / 1000);
    }
    log.note("token server " + exchange.server + " answered HTTP " +
             std::to_string(exchange.status));
    HttpAnswer answer;
    answer.status = exchange.status;
    answer.headers = exchange.headers;
    answer.body = exchange.body;
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    core::FetchResult result = interpret_answer(answer, request.scope, now);
    if (const auto date = answer.headers.find("date"); date != answer.headers.end()) {
        result.server_date = parse_http_date(date->second);
    }
    return result;
}

} // namespace iotspot::net
