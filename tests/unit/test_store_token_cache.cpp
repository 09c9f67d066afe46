#include <fstream>
#include <sys/stat.h>

#include <sqlite3.h>

#include "catch.h"
#include "core/error.h"
#include "store/token_cache.h"
#include "temp_dir.h"

using namespace iotspot::core;
using namespace iotspot::store;
using iotspot::test::TempDir;

namespace {
const TokenBinding binding{"default", "client", "https://auth/token", "iotspot/openapi"};
const Log quiet(false, [](std::string_view) {});
} // namespace

TEST_CASE("token cache: save, load, erase, list") {
    TempDir dir;
    const auto key = Key::random();
    iotspot::store::TokenCache cache(dir / "tokens.db", quiet);
    CHECK_FALSE(cache.load(binding, key));
    cache.save(binding, key, iotspot::store::CachedToken{"tok.en", TokenTimes{100, 3700}});
    const auto loaded = cache.load(binding, key);
    REQUIRE(loaded);
    CHECK(loaded->access_token == "tok.en");
    CHECK(loaded->times.expires_at == 3700);
    REQUIRE(cache.entries().size() == 1);
    CHECK(cache.entries()[0].profile == "default");
    CHECK(cache.erase("default"));
    CHECK_FALSE(cache.erase("default"));
    CHECK_FALSE(cache.load(binding, key));
}

TEST_CASE("token cache: the file is 0600 and holds no token in clear") {
    TempDir dir;
    const auto key = Key::random();
    {
        iotspot::store::TokenCache cache(dir / "tokens.db", quiet);
        cache.save(binding, key,
                   iotspot::store::CachedToken{"VISIBLE-TOKEN-TEXT", TokenTimes{1, 2}});
    }
    struct stat info {};
    REQUIRE(::stat((dir / "tokens.db").c_str(), &info) == 0);
    CHECK((info.st_mode & 077) == 0);
    for (const char* name : {"tokens.db", "tokens.db-wal"}) {
        std::ifstream in(dir / name, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
        CHECK(bytes.find("VISIBLE-TOKEN-TEXT") == std::string::npos);
    }
}

TEST_CASE("token cache: a row does not open for other settings or edited times") {
    TempDir dir;
    const auto key = Key::random();
    iotspot::store::TokenCache cache(dir / "tokens.db", quiet);
    cache.save(binding, key, iotspot::store::CachedToken{"tok", TokenTimes{100, 3700}});
    auto other_scope = binding;
    other_scope.scope = "other";
    CHECK_FALSE(cache.load(other_scope, key));
    auto other_client = binding;
    other_client.client_id = "someone-else";
    CHECK_FALSE(cache.load(other_client, key));

    sqlite3* db = nullptr;
    sqlite3_open((dir / "tokens.db").c_str(), &db);
    sqlite3_exec(db, "UPDATE tokens SET expires_at = expires_at + 86400", nullptr, nullptr,
                 nullptr);
    sqlite3_close(db);
    CHECK_FALSE(cache.load(binding, key));
}

TEST_CASE("token cache: a damaged file is rebuilt with a warning") {
    TempDir dir;
    std::ofstream(dir / "tokens.db") << std::string(4096, 'x');
    std::string warnings;
    const Log log(false, [&](std::string_view line) { warnings += std::string(line) + "\n"; });
    iotspot::store::TokenCache cache(dir / "tokens.db", log);
    const auto key = Key::random();
    cache.save(binding, key, iotspot::store::CachedToken{"tok", TokenTimes{1, 2}});
    CHECK(cache.load(binding, key));
    CHECK_THAT(warnings, iotspot::test::Contains("damaged"));
}

TEST_CASE("token cache: a newer schema is refused, not destroyed") {
    TempDir dir;
    sqlite3* db = nullptr;
    sqlite3_open((dir / "tokens.db").c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    try {
        iotspot::store::TokenCache cache(dir / "tokens.db", quiet);
        FAIL("expected a refusal");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::store);
        CHECK_THAT(error.what(), iotspot::test::Contains("newer"));
    }
    sqlite3_open((dir / "tokens.db").c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
    sqlite3_step(stmt);
    CHECK(sqlite3_column_int(stmt, 0) == 99);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}
