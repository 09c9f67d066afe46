#include <cstdio>
#include <map>
#include <string>

#include "catch.h"
#include "core/counters.h"
#include "store/counter_store.h"
#include "temp_dir.h"

using namespace iotspot::core;
using namespace iotspot::store;

TEST_CASE("counters: the summary adds outcomes up and prices the requests") {
    const auto s = summarize({{"requests_issued", 3},
                              {"requests_refused", 1},
                              {"requests_failed", 2},
                              {"shared_hits", 40},
                              {"lock_waits", 5}},
                             2.25);
    CHECK(s.token_requests == 6);
    CHECK(s.failures == 3);
    CHECK(s.requests_avoided == 40);
    CHECK(s.stale_uses == 0);
    CHECK(s.estimated_cost == iotspot::test::Approx(6 * 2.25 / 1000));
    CHECK(summary_json(s) ==
          "{\"token_requests\":6,\"issued\":3,\"refused\":1,\"failed\":2,\"failures\":3,"
          "\"shared_hits\":40,\"stale_uses\":0,\"lock_waits\":5,\"requests_avoided\":40,"
          "\"estimated_cost_usd\":0.0135}");
    CHECK(summarize({}, 2.25).token_requests == 0);
}

TEST_CASE("counters: the metrics file has every family once, a sample per profile and outcome") {
    const auto text = render_metrics({{"default", {{"requests_issued", 2}}}, {"ci", {}}});
    CHECK_THAT(text, iotspot::test::Contains(
                         "# TYPE iotspot_helper_token_requests_total counter\n"
                         "iotspot_helper_token_requests_total{profile=\"default\",outcome="
                         "\"issued\"} 2\n"));
    CHECK_THAT(text,
               iotspot::test::Contains(
                   "iotspot_helper_token_requests_total{profile=\"ci\",outcome=\"failed\"} 0"));
    CHECK_THAT(text,
               iotspot::test::Contains("iotspot_helper_shared_hits_total{profile=\"ci\"} 0\n"));
    std::size_t types = 0;
    for (auto at = text.find("# TYPE"); at != std::string::npos; at = text.find("# TYPE", at + 1)) {
        ++types;
    }
    CHECK(types == 4);
    CHECK(text.back() == '\n');
}

TEST_CASE("counter store: counts and the secret use are kept across opens, a damaged file starts "
          "afresh") {
    iotspot::test::TempDir dir;
    {
        iotspot::store::CounterStore store(dir / "counters.db");
        CHECK(store.counts("default").empty());
        store.add("default", "requests_issued");
        store.add("default", "requests_issued");
        store.add("other", "shared_hits");
        store.note_secret_use("default", {"current", "next", 42});
    }
    iotspot::store::CounterStore store(dir / "counters.db");
    CHECK(store.counts("default") == std::map<std::string, std::int64_t>{{"requests_issued", 2}});
    CHECK(store.secret_use("default")->refused == "next");
    store.forget_secret_use("default");
    CHECK_FALSE(store.secret_use("default"));

    {
        std::FILE* file = std::fopen((dir / "damaged.db").c_str(), "w");
        std::fputs("not a database, but long enough to look like a header of one.......", file);
        std::fclose(file);
    }
    iotspot::store::CounterStore fresh(dir / "damaged.db");
    CHECK(fresh.counts("default").empty());
}
