#include "catch.h"
#include "core/crypto.h"
#include "core/error.h"

using namespace iotspot::core;

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

TEST_CASE("crypto: constant-time comparison") {
    CHECK(equal_constant_time("abc", "abc"));
    CHECK_FALSE(equal_constant_time("abc", "abd"));
    CHECK_FALSE(equal_constant_time("abc", "abcd"));
    CHECK(random_hex(32).size() == 64);
}
