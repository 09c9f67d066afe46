#include <fstream>
#include <sys/stat.h>

#include "catch.h"
#include "core/crypto.h"
#include "core/error.h"
#include "temp_dir.h"

using namespace iotspot::core;
using iotspot::test::TempDir;

TEST_CASE("crypto: seal and open round-trip") {
    const auto key = Key::random();
    const auto ad = associated_data("purpose", {"default", "client"});
    const auto sealed = seal(key, "secret value", ad);
    CHECK(sealed.find("secret value") == std::string::npos);
    CHECK(open(key, sealed, ad) == std::string("secret value"));
}

TEST_CASE("crypto: two seals of the same value differ (fresh nonce)") {
    const auto key = Key::random();
    CHECK(seal(key, "x", "ad") != seal(key, "x", "ad"));
}

TEST_CASE("crypto: tampering, another row, or another key fails to open") {
    const auto key = Key::random();
    const auto ad = associated_data("purpose", {"default", "client"});
    auto sealed = seal(key, "secret value", ad);
    CHECK_FALSE(open(key, sealed, associated_data("purpose", {"other", "client"})));
    CHECK_FALSE(open(Key::random(), sealed, ad));
    sealed[sealed.size() / 2] ^= 1;
    CHECK_FALSE(open(key, sealed, ad));
    CHECK_FALSE(open(key, "short", ad));
}

TEST_CASE("crypto: associated data keeps fields apart") {
    CHECK(associated_data("p", {"ab", "c"}) != associated_data("p", {"a", "bc"}));
}

TEST_CASE("crypto: the key file is created 0600 once and read back") {
    TempDir dir;
    const auto path = dir / "data/key";
    const auto first = Key::load_or_create(path);
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    REQUIRE(::stat((dir / "data").c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0700);
    const auto again = Key::load_or_create(path);
    const auto sealed = seal(first, "v", "ad");
    CHECK(open(again, sealed, "ad") == std::string("v"));
}

TEST_CASE("crypto: a key file others can read is refused with the chmod that fixes it") {
    TempDir dir;
    const auto path = dir / "data/key";
    Key::load_or_create(path);
    ::chmod(path.c_str(), 0644);
    try {
        Key::load_or_create(path);
        FAIL("expected a refusal");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::store);
        CHECK_THAT(error.what(), iotspot::test::Contains("chmod 600 " + path));
    }
}

TEST_CASE("crypto: a damaged key file is an error, not a new key") {
    TempDir dir;
    const auto path = dir / "data/key";
    Key::load_or_create(path);
    std::ofstream(path, std::ios::trunc) << "short";
    CHECK_THROWS_AS(Key::load_or_create(path), Error);
}

TEST_CASE("crypto: constant-time comparison") {
    CHECK(equal_constant_time("abc", "abc"));
    CHECK_FALSE(equal_constant_time("abc", "abd"));
    CHECK_FALSE(equal_constant_time("abc", "abcd"));
    CHECK(random_hex(32).size() == 64);
}
