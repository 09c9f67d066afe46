#include <optional>

#include "catch.h"
#include "core/error.h"
#include "core/local_endpoint.h"

using namespace iotspot::core;

namespace {

const std::string key(64, 'a');

LocalRequest request(std::string target = "/v1/token?profile=p1") {
    LocalRequest r;
    r.method = "GET";
    r.target = std::move(target);
    r.headers = {{"host", "127.0.0.1:47381"}, {"x-iotspot-key", key}};
    return r;
}

void check_profile(const std::string& profile) {
    if (profile == "missing") {
        throw Error(Exit::not_configured, "profile \"missing\" is not configured");
    }
    if (profile == "down") {
        throw Error(Exit::network, "cannot reach the token server");
    }
}

// `asked` records the profile a GET looked up, `erased` the profile a DELETE dropped.
LocalResponse answer(const LocalRequest& r, std::string* asked = nullptr,
                     std::string* erased = nullptr) {
    return answer_local_request(
        r, key, 47381, "default",
        [asked](const std::string& profile) {
            if (asked) {
                *asked = profile;
            }
            check_profile(profile);
            return std::string("{\"access_token\":\"t\"}\n");
        },
        [erased](const std::string& profile) {
            check_profile(profile);
            if (erased) {
                *erased = profile;
            }
            return profile != "empty";
        });
}

LocalRequest erase_request(std::string target = "/v1/token?profile=p1") {
    auto r = request(std::move(target));
    r.method = "DELETE";
    return r;
}

} // namespace

TEST_CASE("local endpoint: a request with the key gets the token of the named profile") {
    std::string asked;
    const auto r = answer(request(), &asked);
    CHECK(r.status == 200);
    CHECK(r.body == "{\"access_token\":\"t\"}\n");
    CHECK(asked == "p1");
    answer(request("/v1/token"), &asked);
    CHECK(asked == "default");
    answer(request("/v1/token?x=1&profile=p2"), &asked);
    CHECK(asked == "p2");
}

TEST_CASE("local endpoint: the key is required and compared exactly") {
    auto r = request();
    r.headers.erase("x-iotspot-key");
    CHECK(answer(r).status == 401);
    r.headers["x-iotspot-key"] = std::string(63, 'a');
    CHECK(answer(r).status == 401);
    r.headers["x-iotspot-key"] = std::string(64, 'b');
    CHECK(answer(r).status == 401);
    CHECK(answer(r).body.find("wrong_key") != std::string::npos);
}

TEST_CASE("local endpoint: DNS rebinding and browsers are refused before the key is checked") {
    // With a wrong key and with none: a key check that came first would answer 401.
    for (const auto& wrong_key :
         {std::optional<std::string>(std::string(64, 'b')), std::optional<std::string>()}) {
        const auto with_key = [&wrong_key](LocalRequest r) {
            r.headers.erase("x-iotspot-key");
            if (wrong_key) {
                r.headers["x-iotspot-key"] = *wrong_key;
            }
            return r;
        };
        for (const char* host :
             {"evil.example:47381", "127.0.0.1:80", "127.0.0.1", "[::1]:47381"}) {
            auto r = request();
            r.headers["host"] = host;
            const auto refused = answer(with_key(r));
            CHECK(refused.status == 403);
            CHECK_THAT(refused.body, iotspot::test::Contains("forbidden"));
        }
        auto r = request();
        r.headers["origin"] = "null";
        const auto refused = answer(with_key(r));
        CHECK(refused.status == 403);
        CHECK_THAT(refused.body, iotspot::test::Contains("forbidden"));
    }
    auto r = request();
    r.headers["host"] = "LOCALHOST:47381";
    CHECK(answer(r).status == 200);
}

TEST_CASE("local endpoint: other paths, methods and profile names") {
    CHECK(answer(request("/v1/other")).status == 404);
    auto post = request();
    post.method = "POST";
    CHECK(answer(post).status == 405);
    CHECK(answer(request("/v1/token?profile=../etc")).status == 400);
}

TEST_CASE("local endpoint: helper errors map to HTTP statuses with the message") {
    const auto missing = answer(request("/v1/token?profile=missing"));
    CHECK(missing.status == 404);
    CHECK(missing.body.find("not_configured") != std::string::npos);
    CHECK(answer(request("/v1/token?profile=down")).status == 502);
}

TEST_CASE("local endpoint: DELETE with the key drops the token of the named profile") {
    std::string asked;
    std::string erased;
    const auto dropped = answer(erase_request(), &asked, &erased);
    CHECK(dropped.status == 200);
    CHECK(dropped.body == "{\"profile\":\"p1\",\"dropped\":true}\n");
    CHECK(erased == "p1");
    CHECK(asked.empty()); // no token is fetched or handed out
    const auto none = answer(erase_request("/v1/token?profile=empty"));
    CHECK(none.status == 200);
    CHECK(none.body == "{\"profile\":\"empty\",\"dropped\":false}\n");
    erased.clear();
    CHECK(answer(erase_request("/v1/token"), nullptr, &erased).status == 200);
    CHECK(erased == "default");
    CHECK(answer(erase_request("/v1/token?profile=missing")).status == 404);
}

TEST_CASE("local endpoint: DELETE follows the key, Host and Origin rules of GET") {
    std::string erased;
    auto no_key = erase_request();
    no_key.headers.erase("x-iotspot-key");
    CHECK(answer(no_key, nullptr, &erased).status == 401);
    auto wrong_key = erase_request();
    wrong_key.headers["x-iotspot-key"] = std::string(64, 'b');
    CHECK(answer(wrong_key, nullptr, &erased).status == 401);
    auto rebound = erase_request();
    rebound.headers["host"] = "evil.example:47381";
    CHECK(answer(rebound, nullptr, &erased).status == 403);
    auto browser = erase_request();
    browser.headers["origin"] = "https://evil.example";
    CHECK(answer(browser, nullptr, &erased).status == 403);
    CHECK(answer(erase_request("/v1/token?profile=../x"), nullptr, &erased).status == 400);
    CHECK(erased.empty());
}
