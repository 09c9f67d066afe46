#include <cstdlib>

#include "catch.h"
#include "net/curl_session.h"

using namespace iotspot;
using iotspot::test::Contains;
using net::Failure;
using net::HttpsExchange;
using net::Stage;

namespace {

// Sets HTTPS_PROXY and https_proxy for one test, and removes them after it.
struct ProxyEnvironment {
    ProxyEnvironment(const char* upper, const char* lower) {
        set("HTTPS_PROXY", upper);
        set("https_proxy", lower);
    }
    ~ProxyEnvironment() {
        ::unsetenv("HTTPS_PROXY");
        ::unsetenv("https_proxy");
    }
    static void set(const char* name, const char* value) {
        if (value != nullptr) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
};

HttpsExchange failed(Failure failure, Stage stage) {
    HttpsExchange exchange;
    exchange.failure = failure;
    exchange.stage = stage;
    exchange.server = "[::1]:8443";
    exchange.host = "[::1]";
    return exchange;
}

const net::Subject token_server{"the token server", "token_url"};

} // namespace

TEST_CASE("curl session: the proxy comes from https_proxy, then HTTPS_PROXY, as curl reads it") {
    {
        const ProxyEnvironment env(nullptr, nullptr);
        const auto none = net::proxy_from_environment();
        CHECK_FALSE(none.proxy);
        CHECK(none.error.empty());
    }
    const ProxyEnvironment env("http://upper.example:1", "socks5h://user:pw@[::1]:1080");
    const auto choice = net::proxy_from_environment();
    REQUIRE(choice.proxy);
    CHECK(choice.proxy->scheme == "socks5h");
    CHECK(choice.proxy->where == "[::1]:1080");
    CHECK_THAT(choice.proxy->where, !Contains("pw"));
}

TEST_CASE("curl session: a proxy without a scheme is http, with its default port") {
    const ProxyEnvironment env("proxy.example", nullptr);
    const auto choice = net::proxy_from_environment();
    REQUIRE(choice.proxy);
    CHECK(choice.proxy->scheme == "http");
    CHECK(choice.proxy->where == "proxy.example:80");
}

TEST_CASE("curl session: an unsupported proxy scheme is an error naming it, escaped") {
    for (const char* value : {"socks4://proxy:1080", "ftp://proxy", "s\x1b[2J://x"}) {
        const ProxyEnvironment env(value, nullptr);
        const auto choice = net::proxy_from_environment();
        CHECK_FALSE(choice.proxy);
        CHECK_THAT(choice.error, Contains("HTTPS_PROXY uses the scheme"));
        CHECK(choice.error.find('\x1b') == std::string::npos);
    }
}

TEST_CASE("curl session: a timeout names the stage it stopped in") {
    const auto within = [](Stage stage, bool at_proxy = false) {
        auto exchange = failed(Failure::timed_out, stage);
        exchange.at_proxy = at_proxy;
        exchange.proxy = net::ProxySetting{"http://p:3128", "http", "p:3128", 3128};
        return net::describe_failure(exchange, token_server, 5).text;
    };
    CHECK(within(Stage::resolving) == "cannot resolve [::1] within 5 s; check your DNS");
    CHECK_THAT(within(Stage::connecting, true),
               Contains("the proxy p:3128 was too slow: no connection"));
    CHECK_THAT(within(Stage::tunnelling, true),
               Contains("the proxy p:3128 was too slow: no tunnel to the token server within 5 s"));
    CHECK_THAT(within(Stage::handshaking), Contains("[::1]:8443 was too slow: the TLS handshake"));
    CHECK_THAT(within(Stage::awaiting_answer), Contains("it did not answer within 5 s"));
    CHECK_THAT(within(Stage::reading_answer), Contains("did not arrive completely within 5 s"));
    CHECK(net::describe_failure(failed(Failure::timed_out, Stage::handshaking), token_server, 5)
              .retryable);
}

TEST_CASE("curl session: malformed, too large and TLS failures are not retried") {
    for (const auto failure : {Failure::malformed, Failure::too_large, Failure::tls}) {
        auto exchange = failed(failure, Stage::reading_answer);
        exchange.detail = "certificate has expired";
        CHECK_FALSE(net::describe_failure(exchange, token_server, 5).retryable);
    }
    auto malformed = failed(Failure::malformed, Stage::reading_answer);
    malformed.detail = "conflicting Content-Length fields";
    CHECK(net::describe_failure(malformed, token_server, 5).text ==
          "the token server's answer is malformed HTTP (conflicting Content-Length fields); check "
          "token_url");
    for (const auto failure : {Failure::closed_early, Failure::cut_short, Failure::refused}) {
        CHECK(net::describe_failure(failed(failure, Stage::awaiting_answer), token_server, 5)
                  .retryable);
    }
}

TEST_CASE("curl session: a refused connection names the server, IPv6 in brackets, or the proxy") {
    CHECK(
        net::describe_failure(failed(Failure::refused, Stage::connecting), token_server, 5).text ==
        "connection to the token server [::1]:8443 was refused; check token_url");
    auto exchange = failed(Failure::refused, Stage::connecting);
    exchange.proxy = net::ProxySetting{"http://u:secret@p:3128", "http", "p:3128", 3128};
    exchange.at_proxy = true;
    const auto text = net::describe_failure(exchange, token_server, 5).text;
    CHECK(text == "the proxy p:3128 refused the connection; check HTTPS_PROXY");
}
