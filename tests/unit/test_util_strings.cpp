#include <cstdint>
#include <limits>

#include "catch.h"
#include "util/strings.h"

using namespace iotspot::util;

TEST_CASE("strings: trim removes spaces, tabs, CR and LF at both ends only") {
    CHECK(trim("  a b \t\r\n") == "a b");
    CHECK(trim("\r\n") == "");
    CHECK(trim("") == "");
    CHECK(trim("x") == "x");
    CHECK(trim("\va\v") == "\va\v"); // other blanks are content
}

TEST_CASE("strings: split keeps empty fields") {
    CHECK(split("a&b", '&') == std::vector<std::string_view>{"a", "b"});
    CHECK(split("", '&') == std::vector<std::string_view>{""});
    CHECK(split("&a&&", '&') == std::vector<std::string_view>{"", "a", "", ""});
}

TEST_CASE("strings: parse_int takes whole decimal numbers only") {
    CHECK(parse_int("0") == 0);
    CHECK(parse_int("-42") == -42);
    CHECK(parse_int("999999999999999999") == 999999999999999999);
    CHECK(parse_int("-999999999999999999") == -999999999999999999);
    for (const char* bad : {"", "-", "+1", " 1", "1 ", "1.5", "0x10", "1e3", "--1",
                            "9999999999999999999", "9223372036854775808"}) {
        CHECK_FALSE(parse_int(bad));
    }
}

TEST_CASE("strings: profile names") {
    CHECK(is_valid_profile_name("default"));
    CHECK(is_valid_profile_name("lab.eu-2_b"));
    CHECK(is_valid_profile_name(std::string(64, 'p')));
    CHECK_FALSE(is_valid_profile_name(std::string(65, 'p')));
    for (const char* bad : {"", ".hidden", "..", "a/b", "a b", "a\"b", "caf\xC3\xA9", "a\nb"}) {
        CHECK_FALSE(is_valid_profile_name(bad));
    }
}

TEST_CASE("strings: b64token is RFC 6750's, padding only at the end") {
    CHECK(is_b64token("eyJ.abc-_~+/"));
    CHECK(is_b64token("abc=="));
    for (const char* bad : {"", "=", "==abc", "a=b", "a b", "a'b", "a\"b", "a;b", "a\nb", "a$b",
                            "a\\b", "tok\xC3\xA9n"}) {
        CHECK_FALSE(is_b64token(bad));
    }
}

TEST_CASE("strings: ascii_lower leaves other bytes alone") {
    CHECK(ascii_lower("LocalHost:8443") == "localhost:8443");
    CHECK(ascii_lower("\xC3\x89") == "\xC3\x89");
}
