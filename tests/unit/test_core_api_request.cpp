#include "catch.h"
#include "core/api_request.h"
#include "core/error.h"

using namespace iotspot::core;

namespace {

const std::string pattern = "https://*.iotspot.co";

// The exit code of the Error that `call` throws; ok when it throws none.
template <typename Call> Exit thrown(Call call) {
    try {
        call();
    } catch (const Error& error) {
        return error.code();
    }
    return Exit::ok;
}

} // namespace

TEST_CASE("api request: a PATH goes to the profile's api_url, or to api.iotspot.co") {
    CHECK(api_request_url("/v1/ping", pattern) == "https://api.iotspot.co/v1/ping");
    CHECK(api_request_url("/v1/ping?x=1", "https://127.0.0.1:8443/") ==
          "https://127.0.0.1:8443/v1/ping?x=1");
    CHECK(api_request_url("/ping", "https://api.example.test/base") ==
          "https://api.example.test/base/ping");
    CHECK(thrown([] { api_request_url("/v1/ping", "http://api.example.test"); }) == Exit::usage);
}

TEST_CASE("api request: a full URL must be https and match the profile's api_url") {
    CHECK(api_request_url("https://api.iotspot.co/v1/ping", pattern) ==
          "https://api.iotspot.co/v1/ping");
    CHECK(api_request_url("https://eu.api.iotspot.co/v1/x#frag", pattern) ==
          "https://eu.api.iotspot.co/v1/x");
    CHECK(api_request_url("https://127.0.0.1:8443/v1/ping", "https://127.0.0.1:8443/") ==
          "https://127.0.0.1:8443/v1/ping");
    for (const char* refused :
         {"http://api.iotspot.co/v1/ping", "HTTP://api.iotspot.co/", "ftp://api.iotspot.co/",
          "https://api.iotspot.co.evil.test/v1", "https://evil.test/v1/ping",
          "https://user:pw@api.iotspot.co/v1", "https://127.0.0.1:9999/v1/ping", "v1/ping",
          "/v1/a b", "/v1/\x1b[2J", ""}) {
        CAPTURE(refused);
        CHECK(thrown([&] { api_request_url(refused, pattern); }) == Exit::usage);
    }
    CHECK(thrown([] { api_request_url("https://127.0.0.1:9999/v1", "https://127.0.0.1:8443"); }) ==
          Exit::usage);
    CHECK(thrown([] {
              api_request_url("https://api.iotspot.co/v2/x", "https://api.iotspot.co/v1");
          }) == Exit::usage);
}

TEST_CASE("api request: headers and methods are checked") {
    CHECK(checked_header("X-Trace:  abc ") == "X-Trace: abc");
    CHECK(checked_header("Content-Type: text/plain") == "Content-Type: text/plain");
    for (const char* refused :
         {"no colon", ": empty name", "Bad Name: x", "Authorization: Bearer x", "host: evil.test",
          "Content-Length: 3", "X-Split: a\r\nInjected: b"}) {
        CAPTURE(refused);
        CHECK(thrown([&] { checked_header(refused); }) == Exit::usage);
    }
    CHECK(checked_method("post") == "POST");
    CHECK(thrown([] { checked_method("GET /x"); }) == Exit::usage);
    CHECK(thrown([] { checked_method(""); }) == Exit::usage);
}

TEST_CASE("api request: a 401 renews the token once") {
    CHECK(decide_api_step(401, std::nullopt, false, 20).step == ApiStep::renew_token);
    CHECK(decide_api_step(401, std::nullopt, true, 20).step == ApiStep::done);
    CHECK(decide_api_step(200, std::nullopt, false, 20).step == ApiStep::done);
    CHECK(decide_api_step(404, std::nullopt, false, 20).step == ApiStep::done);
}

TEST_CASE("api request: 429, and 503 with Retry-After, wait within the time left") {
    const auto throttled = decide_api_step(429, 1, false, 20);
    CHECK(throttled.step == ApiStep::wait_and_send);
    CHECK(throttled.wait == 1);
    CHECK(decide_api_step(429, std::nullopt, true, 20).wait == 1);
    CHECK(decide_api_step(503, 2, false, 20).step == ApiStep::wait_and_send);
    CHECK(decide_api_step(503, std::nullopt, false, 20).step == ApiStep::done);
    CHECK(decide_api_step(429, 30, false, 20).step == ApiStep::out_of_time);
    CHECK(decide_api_step(429, 1, false, 0.5).step == ApiStep::out_of_time);
}

TEST_CASE("api request: 4xx and 5xx are API errors") {
    CHECK(is_api_error(400));
    CHECK(is_api_error(503));
    CHECK_FALSE(is_api_error(200));
    CHECK_FALSE(is_api_error(304));
}
