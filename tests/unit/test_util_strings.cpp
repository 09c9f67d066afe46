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

TEST_CASE("strings: escape_control escapes C0, DEL and C1 controls, raw or UTF-8 encoded") {
    CHECK(escape_control("ok \x1b[31mred\x07") == "ok \\x1b[31mred\\x07");
    CHECK(escape_control("del\x7f") == "del\\x7f");
    // CSI as one raw byte, and as U+009B in UTF-8: terminals that take 8-bit controls act on
    // either.
    CHECK(escape_control("a\x9b"
                         "31mb") == "a\\x9b31mb");
    CHECK(escape_control("a\xc2\x9b"
                         "31mb") == "a\\xc2\\x9b31mb");
    // Bytes that are not UTF-8 are escaped; UTF-8 text stays as it is.
    CHECK(escape_control("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91") ==
          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
    CHECK(escape_control("\xc3") == "\\xc3");
    CHECK(escape_control("\xe2\x82") == "\\xe2\\x82");
    CHECK(escape_control("\xc0\xaf") == "\\xc0\\xaf"); // overlong '/'
    CHECK(escape_control("\xff") == "\\xff");
}
