#include "catch.h"
#include "core/output.h"

using namespace iotspot::core;

TEST_CASE("output: token and header") {
    CHECK(format_token("abc.def") == "abc.def\n");
    CHECK(format_header("abc.def") == "Authorization: Bearer abc.def\n");
}

TEST_CASE("output: env for POSIX shells ends each statement with a semicolon") {
    CHECK(
        format_env("abc.def", 1700000000, Shell::sh) ==
        "export IOTSPOT_ACCESS_TOKEN='abc.def';\nexport IOTSPOT_TOKEN_EXPIRES_AT='1700000000';\n");
}

TEST_CASE("output: quoting survives quotes in values for every shell") {
    CHECK(format_env("a'b", 1, Shell::sh).find("'a'\\''b'") != std::string::npos);
    CHECK(format_env("a'b\\", 1, Shell::fish).find("'a\\'b\\\\'") != std::string::npos);
    CHECK(format_env("a'b", 1, Shell::powershell).find("'a''b'") != std::string::npos);
}

TEST_CASE("output: PowerShell's curly single quotes are doubled too") {
    // U+2018..U+201B end a single-quoted PowerShell string just like '.
    CHECK(format_env("a\u2019b\u2018c\u201bd\u201ce", 1, Shell::powershell)
              .find("'a\u2019\u2019b\u2018\u2018c\u201b\u201bd\u201ce'") != std::string::npos);
}

TEST_CASE("output: fish and PowerShell syntax") {
    CHECK(format_env("t", 5, Shell::fish) ==
          "set -gx IOTSPOT_ACCESS_TOKEN 't';\nset -gx IOTSPOT_TOKEN_EXPIRES_AT '5';\n");
    CHECK(format_env("t", 5, Shell::powershell) ==
          "$env:IOTSPOT_ACCESS_TOKEN = 't';\n$env:IOTSPOT_TOKEN_EXPIRES_AT = '5';\n");
}

TEST_CASE("output: shell names") {
    CHECK(parse_shell("bash") == Shell::sh);
    CHECK(parse_shell("dash") == Shell::sh);
    CHECK(parse_shell("pwsh") == Shell::powershell);
    CHECK_FALSE(parse_shell("cmd"));
}

TEST_CASE("output: json has RFC 3339 expiry and remaining seconds") {
    CHECK(format_json("tok", 1764150000, 1764146400) ==
          "{\"access_token\":\"tok\",\"token_type\":\"Bearer\",\"expires_at\":"
          "\"2025-11-26T09:40:00Z\",\"expires_in\":3600}\n");
    CHECK(json_string("a\"b\\\n\x01") == "\"a\\\"b\\\\\\n\\u0001\"");
}
