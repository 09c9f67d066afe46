#include "net/curl_api_client.h"

#include <cstdlib>
#include <ctime>
#include <curl/curl.h>
#include <memory>
#include <mutex>
#include <string_view>

#include "net/token_reply.h"
#include "util/strings.h"

namespace iotspot::net {

namespace {

using core::ApiRequest;
using core::ApiResponse;

/// The most the answer's status line and header fields may hold together.
constexpr std::size_t max_head = 64 * 1024;

struct EasyDeleter {
    void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct ListDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, ListDeleter>;

// What the callbacks collect while libcurl runs.
struct Transfer {
    ApiResponse response;
    bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (n > core::max_api_response_body - transfer.response.body.size()) {
        transfer.too_large = true;
        return 0; // libcurl stops with CURLE_WRITE_ERROR
    }
    transfer.response.body.append(data, n);
    return n;
}

// One header line at a time; a status line starts a new head (after a 1xx answer), so the
// head kept is the final answer's.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    const std::string_view line = util::trim(std::string_view(data, n));
    auto& response = transfer.response;
    if (line.rfind("HTTP/", 0) == 0) {
        response.head.clear();
        response.retry_after.reset();
    }
    if (line.empty()) {
        return n;
    }
    if (response.head.size() + line.size() + 2 > max_head) {
        transfer.too_large = true;
        return 0;
    }
    response.head.append(line).append("\r\n");
    const auto colon = line.find(':');
    if (colon != std::string_view::npos &&
        util::ascii_lower(line.substr(0, colon)) == "retry-after") {
        const std::string value(util::trim(line.substr(colon + 1)));
        if (const auto seconds = util::parse_int(value)) {
            response.retry_after = *seconds < 0 ? 0 : *seconds;
        } else if (const auto date = parse_http_date(value)) {
            const std::int64_t now = std::time(nullptr);
            response.retry_after = *date > now ? *date - now : 0;
        }
    }
    return n;
}

// The trust store: the system's CA directory, and the profile's CA file beside it (libcurl's
// CAINFO alone would replace the system bundle).
void set_trust(CURL* easy, const std::string& ca_file) {
    if (ca_file.empty()) {
        return; // libcurl's default bundle (Debian: the system store)
    }
    const char* dir = std::getenv("SSL_CERT_DIR");
    curl_easy_setopt(easy, CURLOPT_CAPATH, dir && *dir ? dir : "/etc/ssl/certs");
    curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file.c_str());
}

void set_method_and_body(CURL* easy, const ApiRequest& request) {
    if (request.body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body->size()));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body->data());
    }
    if (request.method == "HEAD") {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (request.method != (request.body ? "POST" : "GET")) {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
}

// Every option of one request; the header list must outlive the transfer.
void configure(CURL* easy, const ApiRequest& request, curl_slist* headers, Transfer& transfer,
               char* error_buffer) {
    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    set_trust(easy, request.ca_file);
    const long timeout_ms = static_cast<long>(request.timeout_seconds) * 1000L;
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "iotspot-helper");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
    set_method_and_body(easy, request);
}

std::string failure_message(CURLcode code, const char* error_buffer, const ApiRequest& request,
                            const Transfer& transfer) {
    if (transfer.too_large) {
        return "the answer from " + request.url + " is larger than " +
               std::to_string(core::max_api_response_body / (1024 * 1024)) + " MiB";
    }
    const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    const std::string what =
        code == CURLE_OPERATION_TIMEDOUT
            ? "no answer within " + std::to_string(request.timeout_seconds) + " s (IOTSPOT_TIMEOUT)"
            : util::escape_control(detail);
    return "cannot get an answer from " + util::escape_control(request.url) + ": " + what;
}

} // namespace

CurlApiClient::CurlApiClient() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

ApiResponse CurlApiClient::send(const ApiRequest& request, const core::Log& /*log*/) {
    Easy easy(curl_easy_init());
    HeaderList headers(curl_slist_append(nullptr, "Expect:"));
    for (const auto& line : request.headers) {
        if (auto* longer = curl_slist_append(headers.get(), line.c_str())) {
            headers.release();
            headers.reset(longer);
        }
    }
    Transfer transfer;
    if (!easy || !headers) {
        transfer.response.code = core::Exit::network;
        transfer.response.message = "cannot set up an HTTPS request (out of memory?)";
        return transfer.response;
    }
    char error_buffer[CURL_ERROR_SIZE] = {};
    configure(easy.get(), request, headers.get(), transfer, error_buffer);
    const CURLcode code = curl_easy_perform(easy.get());
    double seconds = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_TOTAL_TIME, &seconds);
    transfer.response.seconds = seconds;
    if (code != CURLE_OK) {
        transfer.response.code = core::Exit::network;
        transfer.response.message = failure_message(code, error_buffer, request, transfer);
        return transfer.response;
    }
    long status = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = status;
    return transfer.response;
}

} // namespace iotspot::net
