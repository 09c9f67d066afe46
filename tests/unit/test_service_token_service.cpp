#include <chrono>
#include <deque>
#include <limits>
#include <vector>

#include "catch.h"
#include "core/error.h"
#include "service/token_service.h"
#include "store/key_file.h"
#include "store/secret_store.h"
#include "temp_dir.h"

using namespace iotspot::core;
using namespace iotspot::store;
using namespace iotspot::service;
using iotspot::test::TempDir;

namespace {

// A token client that answers from a script, and a clock that the test moves.
struct Scripted : TokenClient {
    std::deque<FetchResult> answers;
    int calls = 0;
    std::vector<int> timeouts;        // each request's timeout_seconds
    std::vector<std::string> secrets; // the secret of each request
    FetchResult fetch(const TokenRequest& request, const Log&) override {
        ++calls;
        timeouts.push_back(request.timeout_seconds);
        secrets.push_back(request.client_secret);
        if (answers.empty()) {
            FetchResult ok;
            ok.access_token = "token-" + std::to_string(calls);
            ok.expires_in = 3600;
            return ok;
        }
        auto next = answers.front();
        answers.pop_front();
        return next;
    }
};

FetchResult failure(Exit code, bool retryable, std::optional<std::int64_t> after = std::nullopt) {
    FetchResult r;
    r.code = code;
    r.message = "scripted failure";
    r.retryable = retryable;
    r.retry_after = after;
    return r;
}

struct Fixture {
    TempDir dir;
    Scripted client;
    std::int64_t clock = 1'000'000;
    std::vector<double> sleeps;
    std::string log_text;
    Log log{false, [this](std::string_view line) { log_text += std::string(line) + "\n"; }};
    Profile profile;
    TokenService service;

    Fixture() : service(deps()) {
        profile.name = "default";
        profile.client_id = "client";
        profile.token_url = "https://auth/token";
        profile.scope = "iotspot/openapi";
    }
    ServiceDeps deps() {
        ServiceDeps d;
        d.paths = Paths{dir / "config", dir / "cache", dir / "data"};
        d.env =
            Environment(std::map<std::string, std::string>{{"IOTSPOT_CLIENT_SECRET", "s3cret"}});
        d.log = &log;
        d.client = [this]() -> TokenClient& { return client; };
        d.now = [this] { return clock; };
        d.sleep = [this](double s) {
            sleeps.push_back(s);
            clock += static_cast<std::int64_t>(s);
        };
        d.jitter = [] { return 0.5; };
        return d;
    }
};

} // namespace

TEST_CASE("token service: a fresh cached token is handed out without a request") {
    Fixture f;
    const auto first = f.service.get(f.profile, std::nullopt);
    CHECK_FALSE(first.from_cache);
    CHECK(first.times.expires_at == f.clock + 3600);
    f.clock += 3000;
    const auto second = f.service.get(f.profile, std::nullopt);
    CHECK(second.from_cache);
    CHECK(second.access_token == first.access_token);
    CHECK(f.client.calls == 1);
}

TEST_CASE("token service: a token inside the refresh margin is replaced") {
    Fixture f;
    f.service.get(f.profile, std::nullopt);
    f.clock += 3600 - 300;
    const auto again = f.service.get(f.profile, std::nullopt);
    CHECK_FALSE(again.from_cache);
    CHECK(f.client.calls == 2);
}

TEST_CASE(
    "token service: --min-ttl beyond any lifetime still hands out a fresh token, with a warning") {
    Fixture f;
    const auto token = f.service.get(f.profile, 7200);
    CHECK(token.access_token == "token-1");
    CHECK_THAT(f.log_text, iotspot::test::Contains("less than --min-ttl"));
}

TEST_CASE("token service: retries a retryable failure, honouring Retry-After") {
    Fixture f;
    f.client.answers = {failure(Exit::network, true, 2), failure(Exit::network, true)};
    const auto token = f.service.get(f.profile, std::nullopt);
    CHECK(token.access_token == "token-3");
    CHECK(f.client.calls == 3);
    REQUIRE(f.sleeps.size() == 2);
    CHECK(f.sleeps[0] == iotspot::test::Approx(2.0));
}

TEST_CASE("token service: an OAuth rejection fails at once with exit 4") {
    Fixture f;
    f.client.answers = {failure(Exit::rejected, false)};
    try {
        f.service.get(f.profile, std::nullopt);
        FAIL("expected an error");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::rejected);
    }
    CHECK(f.client.calls == 1);
}

TEST_CASE("token service: stale-while-error hands out the cached token while it is valid") {
    Fixture f;
    f.service.get(f.profile, std::nullopt);
    f.clock += 3600 - 100; // inside the margin, still valid
    f.client.answers = {failure(Exit::network, false)};
    const auto token = f.service.get(f.profile, std::nullopt);
    CHECK(token.access_token == "token-1");
    CHECK_THAT(f.log_text, iotspot::test::Contains("using the cached token"));
}

TEST_CASE("token service: a malformed token is never handed out or cached") {
    Fixture f;
    FetchResult bad;
    bad.access_token = "has space";
    bad.expires_in = 3600;
    f.client.answers = {bad};
    CHECK_THROWS_AS(f.service.get(f.profile, std::nullopt), Error);
    CHECK(f.service.cached_entries().empty());
}

TEST_CASE("token service: without a secret the profile is not configured (exit 3)") {
    Fixture f;
    auto deps = f.deps();
    deps.env = Environment{};
    iotspot::service::TokenService service(deps);
    try {
        service.get(f.profile, std::nullopt);
        FAIL("expected an error");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::not_configured);
        CHECK_THAT(error.what(), iotspot::test::Contains("no client secret"));
    }
}

TEST_CASE("token service: the stored secret is used and a replaced key makes it unreadable") {
    Fixture f;
    auto deps = f.deps();
    deps.env = Environment{};
    {
        const auto key = iotspot::store::load_or_create_key(deps.paths.key_file());
        iotspot::store::SecretStore(deps.paths.secret_db())
            .save("default", "client", key, "stored-secret");
    }
    {
        iotspot::service::TokenService service(deps);
        CHECK(service.get(f.profile, std::nullopt).access_token == "token-1");
    }
    std::remove(deps.paths.key_file().c_str());
    iotspot::service::TokenService service(deps);
    service.forget_token("default");
    try {
        service.get(f.profile, std::nullopt);
        FAIL("expected an error");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::not_configured);
        CHECK_THAT(error.what(), iotspot::test::Contains("cannot be decrypted"));
    }
}

TEST_CASE("token service: when a failed refresh must fail, the error names the cached expiry") {
    Fixture f;
    f.service.get(f.profile, std::nullopt);
    f.clock += 3600 - 100; // inside the margin, still valid
    f.client.answers = {failure(Exit::network, false)};
    try {
        f.service.get(f.profile, std::nullopt, WhenRefreshFails::fail);
        FAIL("expected an error");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::network);
        CHECK_THAT(error.what(), iotspot::test::StartsWith("scripted failure"));
        CHECK_THAT(error.what(), iotspot::test::Contains("the cached token stays in use until"));
    }
    // The cached token is still there for interactive callers.
    f.client.answers = {failure(Exit::network, false)};
    CHECK(f.service.get(f.profile, std::nullopt).access_token == "token-1");
}

TEST_CASE("token service: --min-ttl decides whether a cached token is kept") {
    Fixture f;
    f.service.get(f.profile, std::nullopt);
    f.clock += 3000; // 600 s left
    CHECK(f.service.get(f.profile, 599).from_cache);
    CHECK_FALSE(f.service.get(f.profile, 600).from_cache);
    CHECK(f.client.calls == 2);
}

TEST_CASE("token service: a lifetime over 7 days is clamped to 7 days, with a warning") {
    for (const std::int64_t wild : {std::int64_t{8 * 86400}, std::int64_t{1'000'000'000'000'000},
                                    std::numeric_limits<std::int64_t>::max()}) {
        Fixture f;
        FetchResult ok;
        ok.access_token = "wild";
        ok.expires_in = wild;
        f.client.answers.push_back(ok);
        const auto token = f.service.get(f.profile, std::nullopt);
        CHECK(token.times.expires_at == f.clock + longest_lifetime);
        CHECK(f.log_text.find("caching it for 168 h 0 min only") != std::string::npos);
        CHECK(f.service.get(f.profile, std::nullopt).from_cache);
        CHECK(f.client.calls == 1);
    }
}

TEST_CASE("token service: an implausible Date or JWT time is ignored, not overflowed") {
    Fixture f;
    FetchResult ok;
    ok.access_token = "t";
    ok.expires_in = 3600;
    ok.server_date = std::numeric_limits<std::int64_t>::min();
    ok.jwt_issued_at = std::numeric_limits<std::int64_t>::min();
    ok.jwt_expires_at = std::numeric_limits<std::int64_t>::max();
    f.client.answers.push_back(ok);
    f.service.get(f.profile, std::nullopt);
    CHECK(f.log_text.empty());
}

TEST_CASE("token service: after end_by() a get() keeps to what is left, not a budget of its "
          "own") {
    Fixture f;
    for (int i = 0; i < 40; ++i) {
        f.client.answers.push_back(failure(Exit::network, true));
    }
    f.service.end_by(std::chrono::steady_clock::now() + std::chrono::milliseconds(3500));
    CHECK_THROWS_AS(f.service.get(f.profile, std::nullopt), Error);
    double waited = 0;
    for (const double s : f.sleeps) {
        waited += s;
    }
    CHECK(waited <= 3.5);
    REQUIRE_FALSE(f.client.timeouts.empty());
    CHECK(f.client.timeouts.front() <= 3);

    // Without end_by(), the same failures are retried for IOTSPOT_TIMEOUT (20 s).
    Fixture g;
    for (int i = 0; i < 40; ++i) {
        g.client.answers.push_back(failure(Exit::network, true));
    }
    CHECK_THROWS_AS(g.service.get(g.profile, std::nullopt), Error);
    CHECK(g.client.timeouts.front() == 10);
    CHECK(g.client.calls > f.client.calls);
}

namespace {

FetchResult invalid_client() {
    FetchResult r = failure(Exit::rejected, false);
    r.client_refused = true;
    return r;
}

// A service on stored secrets: "current-secret" and, with `next`, "next-secret" too.
ServiceDeps stored_secrets(Fixture& f, bool next) {
    auto deps = f.deps();
    deps.env = Environment{};
    const auto key = iotspot::store::load_or_create_key(deps.paths.key_file());
    SecretStore store(deps.paths.secret_db());
    store.save("default", "client", key, "current-secret");
    if (next) {
        store.save(next_secret_slot("default"), "client", key, "next-secret");
    }
    return deps;
}

} // namespace

TEST_CASE("token service: a next secret is tried first, the current one when it is refused") {
    Fixture f;
    iotspot::service::TokenService service(stored_secrets(f, true));
    f.client.answers = {invalid_client()};
    CHECK(service.get(f.profile, std::nullopt).access_token == "token-2");
    CHECK(f.client.secrets == std::vector<std::string>{"next-secret", "current-secret"});
    const auto use = service.secret_use("default");
    REQUIRE(use);
    CHECK(use->accepted == "current");
    CHECK(use->refused == "next");
    CHECK(use->at == f.clock);
    const auto counts = service.host_counts("default");
    CHECK(counts.at("requests_refused") == 1);
    CHECK(counts.at("requests_issued") == 1);
}

TEST_CASE(
    "token service: an accepted next secret is used alone, and both refused fail with exit 4") {
    Fixture f;
    iotspot::service::TokenService service(stored_secrets(f, true));
    service.get(f.profile, std::nullopt);
    CHECK(f.client.secrets == std::vector<std::string>{"next-secret"});
    CHECK(service.secret_use("default")->accepted == "next");
    CHECK(service.secret_use("default")->refused.empty());

    service.forget_token("default");
    f.client.answers = {invalid_client(), invalid_client()};
    try {
        service.get(f.profile, std::nullopt);
        FAIL("expected an error");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::rejected);
    }
    CHECK(service.secret_use("default")->accepted.empty());
}

TEST_CASE("token service: one secret makes one request and notes no rotation") {
    Fixture f;
    iotspot::service::TokenService service(stored_secrets(f, false));
    f.client.answers = {invalid_client()};
    CHECK_THROWS_AS(service.get(f.profile, std::nullopt), Error);
    CHECK(f.client.secrets == std::vector<std::string>{"current-secret"});
    CHECK_FALSE(service.secret_use("default"));
}

TEST_CASE("token service: IOTSPOT_CLIENT_SECRET keeps its one-secret meaning") {
    Fixture f;
    auto deps = stored_secrets(f, true);
    deps.env =
        Environment(std::map<std::string, std::string>{{"IOTSPOT_CLIENT_SECRET", "env-secret"}});
    iotspot::service::TokenService service(deps);
    f.client.answers = {invalid_client()};
    CHECK_THROWS_AS(service.get(f.profile, std::nullopt), Error);
    CHECK(f.client.secrets == std::vector<std::string>{"env-secret"});
}

TEST_CASE("token service: counters count requests by outcome and stale uses, not cache hits") {
    Fixture f;
    f.client.answers = {failure(Exit::network, true)};
    f.service.get(f.profile, std::nullopt); // a failed attempt, then an issued token
    f.service.get(f.profile, std::nullopt); // a cache hit
    f.clock += 3600 - 100;
    f.client.answers = {failure(Exit::rejected, false)};
    f.service.get(f.profile, std::nullopt); // refused: the cached token, stale
    const auto counts = f.service.host_counts("default");
    CHECK(counts == std::map<std::string, std::int64_t>{{"requests_failed", 1},
                                                        {"requests_issued", 1},
                                                        {"requests_refused", 1},
                                                        {"stale_uses", 1}});
    CHECK(f.client.calls == 3);
}
