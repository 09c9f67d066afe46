#include "catch.h"
#include "net/token_reply.h"

using namespace iotspot;
using net::HttpAnswer;
using net::interpret_answer;

namespace {
HttpAnswer answer(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    HttpAnswer a;
    a.status = status;
    a.body = std::move(body);
    a.headers = std::move(headers);
    return a;
}
// {"iat":1000,"exp":4600} as a JWT payload.
const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpYXQiOjEwMDAsImV4cCI6NDYwMH0.c2ln";
} // namespace

TEST_CASE("token reply: Cognito's success answer") {
    const auto r = interpret_answer(
        answer(200, R"({"access_token":")" + jwt + R"(","expires_in":3600,"token_type":"Bearer"})"),
        "iotspot/openapi", 0);
    CHECK(r.code == core::Exit::ok);
    CHECK(r.access_token == jwt);
    CHECK(r.expires_in == 3600);
    CHECK(r.jwt_issued_at == 1000);
    CHECK(r.jwt_expires_at == 4600);
}

TEST_CASE("token reply: OAuth errors are rejections (exit 4) that say what to do") {
    const auto r = interpret_answer(answer(400, R"({"error":"invalid_client"})"), "s", 0);
    CHECK(r.code == core::Exit::rejected);
    CHECK_FALSE(r.retryable);
    CHECK_THAT(r.message, iotspot::test::Contains("invalid_client") &&
                              iotspot::test::Contains("Control Center"));
    for (const char* error : {"invalid_request", "unauthorized_client", "unsupported_grant_type",
                              "invalid_scope", "something_new"}) {
        const auto e =
            interpret_answer(answer(400, std::string(R"({"error":")") + error + "\"}"), "s", 0);
        CHECK(e.code == core::Exit::rejected);
        CHECK_THAT(e.message, iotspot::test::Contains(error));
    }
}

TEST_CASE("token reply: throttling is retryable, not bad credentials") {
    const auto aws = interpret_answer(
        answer(400, R"({"__type":"TooManyRequestsException","message":"Rate exceeded"})"), "s", 0);
    CHECK(aws.code == core::Exit::network);
    CHECK(aws.retryable);
    const auto r429 = interpret_answer(answer(429, "slow down", {{"retry-after", "7"}}), "s", 0);
    CHECK(r429.retryable);
    CHECK(r429.retry_after == 7);
    const auto dated = interpret_answer(
        answer(429, "", {{"retry-after", "Thu, 01 Jan 1970 00:01:40 GMT"}}), "s", 40);
    CHECK(dated.retry_after == 60);
}

TEST_CASE("token reply: 5xx is retryable and other statuses are not") {
    CHECK(interpret_answer(answer(503, "down"), "s", 0).retryable);
    const auto notfound = interpret_answer(answer(404, "<html>"), "s", 0);
    CHECK(notfound.code == core::Exit::network);
    CHECK_FALSE(notfound.retryable);
}

TEST_CASE("token reply: malformed answers are exit 5 naming what was wrong") {
    const auto check = [](const std::string& body, const char* words) {
        const auto r = interpret_answer(answer(200, body), "s", 0);
        CHECK(r.code == core::Exit::network);
        CHECK_THAT(r.message, iotspot::test::Contains(words));
        CHECK(r.access_token.empty());
    };
    check("<html>oops</html>", "not a JSON object");
    check(R"({"expires_in":3600})", "no access_token");
    check(R"({"access_token":"a","expires_in":"soon"})", "no numeric expires_in");
    check(R"({"access_token":"a","expires_in":3600,"token_type":"mac"})", "not a Bearer token");
    check(R"([1,2])", "not a JSON object");
    HttpAnswer cut = answer(200, R"({"access_token":"a","expi)");
    cut.truncated = true;
    CHECK_THAT(interpret_answer(cut, "s", 0).message, iotspot::test::Contains("cut short"));
}

TEST_CASE("token reply: server text in messages is made printable") {
    const auto r = interpret_answer(
        answer(400, R"({"error":"invalid_client","error_description":"bad\nline"})"), "s", 0);
    CHECK(r.message.find('\n') == std::string::npos);
}

TEST_CASE("token reply: JWT times, and none for opaque tokens") {
    CHECK(net::jwt_times(jwt).first == 1000);
    CHECK_FALSE(net::jwt_times("opaque-token").first);
    CHECK_FALSE(net::jwt_times("a.!!!.c").first);
}

TEST_CASE("token reply: expires_in is a JSON integer within 2^63-1, checked with our own words") {
    const auto with = [](const std::string& expires_in) {
        return interpret_answer(
            answer(200, R"({"access_token":"abc.def.ghi","expires_in":)" + expires_in + "}"), "s",
            0);
    };
    CHECK(with("9223372036854775807").expires_in == INT64_MAX);
    for (const char* big : {"9223372036854775808", "18446744073709551616", "1e300"}) {
        const auto r = with(big);
        CHECK(r.code == core::Exit::network);
        CHECK_FALSE(r.retryable);
        CHECK_THAT(r.message, iotspot::test::Contains("expires_in beyond 2^63-1 s"));
    }
    for (const char* not_number : {"true", "false", "\"3600\"", "null"}) {
        CHECK_THAT(with(not_number).message, iotspot::test::Contains("no numeric expires_in"));
    }
    CHECK_THAT(with("1.5").message, iotspot::test::Contains("not a whole number of seconds"));
}
