#include <map>

#include "catch.h"
#include "core/config.h"
#include "core/error.h"
#include "core/settings.h"

using namespace iotspot::core;

TEST_CASE("config: a profile section sets every key") {
    const auto config = parse_config(R"(# comment
[profile "default"]
client_id = abc123
token_url = https://auth.example/oauth2/token
scope = iotspot/openapi
api_url = https://api.example
ca_file = /etc/ca.pem
refresh_margin = 120

; another comment
[profile "staging"]
client_id=xyz
)");
    REQUIRE(config.profiles.size() == 2);
    const auto& def = config.profiles.at("default");
    CHECK(def.client_id == "abc123");
    CHECK(def.token_url == "https://auth.example/oauth2/token");
    CHECK(def.api_url == "https://api.example");
    CHECK(def.ca_file == "/etc/ca.pem");
    CHECK(def.refresh_margin == "120");
    CHECK(config.profiles.at("staging").client_id == "xyz");
    CHECK_FALSE(config.profiles.at("staging").scope.has_value());
}

TEST_CASE("config: errors name the line") {
    const auto line_of = [](const char* text) {
        try {
            parse_config(text);
        } catch (const ConfigSyntaxError& error) {
            return error.line();
        }
        return 0;
    };
    CHECK(line_of("client_id = x\n") == 1);                                 // outside a section
    CHECK(line_of("[profile \"a\"]\nclient-id = x\n") == 2);                // unknown key
    CHECK(line_of("[profile \"a\"]\n\ntoken_url = http://x/token\n") == 3); // not https
    CHECK(line_of("[profile \"a\"]\nrefresh_margin = soon\n") == 2);
    CHECK(line_of("[profile \"bad name\"]\n") == 1);
    CHECK(line_of("[profile a]\n") == 1);
    CHECK(line_of("[profile \"a\"]\njust words\n") == 2);
}

TEST_CASE("config: api_url takes '*' only as the start of its host") {
    const auto accepted = [](const std::string& url) {
        try {
            parse_config("[profile \"a\"]\napi_url = " + url + "\n");
            return true;
        } catch (const ConfigSyntaxError&) {
            return false;
        }
    };
    CHECK(accepted("https://api.iotspot.co"));
    CHECK(accepted("https://*.iotspot.co"));
    CHECK(accepted("https://*.iotspot.co/v1"));
    CHECK_FALSE(accepted("https://api.*.co"));
    CHECK_FALSE(accepted("https://*iotspot.co"));
    CHECK_FALSE(accepted("https://*.*.iotspot.co"));
    CHECK_FALSE(accepted("https://*."));
    CHECK_FALSE(accepted("https://api.iotspot.co/*"));
}

TEST_CASE("config: render and parse round-trip") {
    ConfigFile config;
    config.profiles["default"].client_id = "abc";
    config.profiles["default"].refresh_margin = "60";
    config.profiles["ci"].client_id = "def";
    config.profiles["ci"].token_url = "https://auth.example/oauth2/token";
    const auto again = parse_config(render_config(config));
    CHECK(again.profiles.at("default").client_id == "abc");
    CHECK(again.profiles.at("default").refresh_margin == "60");
    CHECK(again.profiles.at("ci").token_url == "https://auth.example/oauth2/token");
}

TEST_CASE("config: environment overrides the file, defaults fill the rest") {
    const auto config = parse_config("[profile \"default\"]\nclient_id = from-file\nscope = s1\n");
    SECTION("file only") {
        const auto p = resolve_profile("default", config, Environment{});
        CHECK(p.client_id == "from-file");
        CHECK(p.scope == "s1");
        CHECK(p.token_url == default_token_url);
        CHECK(p.api_url == default_api_url);
        CHECK(p.refresh_margin == 300);
        CHECK_FALSE(p.client_id_from_environment);
    }
    SECTION("environment wins") {
        const Environment env({{"IOTSPOT_CLIENT_ID", "from-env"},
                               {"IOTSPOT_SCOPE", "s2"},
                               {"IOTSPOT_TOKEN_URL", "https://other/token"}});
        const auto p = resolve_profile("default", config, env);
        CHECK(p.client_id == "from-env");
        CHECK(p.scope == "s2");
        CHECK(p.token_url == "https://other/token");
        CHECK(p.client_id_from_environment);
    }
    SECTION("environment alone is enough") {
        const auto p = resolve_profile(
            "ci", ConfigFile{},
            Environment(std::map<std::string, std::string>{{"IOTSPOT_CLIENT_ID", "x"}}));
        CHECK(p.client_id == "x");
    }
}

TEST_CASE("config: a profile without client id is not configured (exit 3)") {
    try {
        resolve_profile("nope", ConfigFile{}, Environment{});
        FAIL("expected an error");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::not_configured);
        CHECK_THAT(error.what(), iotspot::test::Contains("configure --profile nope --client-id"));
    }
}

TEST_CASE("config: an http token URL from the environment is refused") {
    const Environment env(
        {{"IOTSPOT_CLIENT_ID", "x"}, {"IOTSPOT_TOKEN_URL", "http://plain/token"}});
    CHECK_THROWS_AS(resolve_profile("default", ConfigFile{}, env), Error);
}

TEST_CASE("config: profile selection: flag, then IOTSPOT_PROFILE, then default") {
    const Environment env(std::map<std::string, std::string>{{"IOTSPOT_PROFILE", "ci"}});
    CHECK(select_profile_name(std::string("dev"), env) == "dev");
    CHECK(select_profile_name(std::nullopt, env) == "ci");
    CHECK(select_profile_name(std::nullopt, Environment{}) == "default");
    CHECK_THROWS_AS(select_profile_name(std::string("../etc"), env), Error);
}

TEST_CASE("config: shared_cache is read, written back, and refused with a password") {
    const auto config = parse_config("[profile \"fleet\"]\nclient_id = abc\n"
                                     "shared_cache = rediss://helper@cache.internal:6380/2\n");
    CHECK(config.profiles.at("fleet").shared_cache == "rediss://helper@cache.internal:6380/2");
    CHECK(parse_config(render_config(config)).profiles.at("fleet").shared_cache ==
          config.profiles.at("fleet").shared_cache);
    const auto profile = resolve_profile("fleet", config, Environment{});
    REQUIRE(profile.shared_cache);
    CHECK(profile.shared_cache->user == "helper");
    CHECK(profile.shared_cache->port == 6380);
    CHECK(profile.shared_cache->db == 2);
    CHECK(profile.shared_cache->text() == "rediss://helper@cache.internal:6380/2");
    const auto from_env = resolve_profile(
        "fleet", config,
        Environment(std::map<std::string, std::string>{{"IOTSPOT_SHARED_CACHE", "redis://h:1"}}));
    REQUIRE(from_env.shared_cache);
    CHECK(from_env.shared_cache->text() == "redis://h:1");
    try {
        parse_config("[profile \"a\"]\nshared_cache = redis://u:secret@h:1\n");
        FAIL("a password in shared_cache was accepted");
    } catch (const ConfigSyntaxError& error) {
        CHECK(error.line() == 2);
        CHECK(std::string(error.what()).find("secret") == std::string::npos);
    }
    CHECK_THROWS_AS(validate_setting("shared_cache", "redis://u:pw@h"), Error);
}

TEST_CASE("config: a UTF-8 byte-order mark at the start is skipped") {
    const auto config = parse_config("\xEF\xBB\xBF[profile \"default\"]\nclient_id = abc\n");
    CHECK(config.profiles.at("default").client_id == "abc");
    // Anywhere else it is text like any other, so not a section header.
    CHECK_THROWS_AS(parse_config("\n\xEF\xBB\xBF[profile \"default\"]\n"), ConfigSyntaxError);
}

TEST_CASE("config: a profile given twice is an error naming both lines") {
    const char* text = "[profile \"a\"]\nclient_id = x\n\n[profile \"b\"]\n[profile \"a\"]\n";
    try {
        parse_config(text);
        FAIL("a duplicate section was accepted");
    } catch (const ConfigSyntaxError& error) {
        CHECK(error.line() == 5);
        CHECK(std::string(error.what()) ==
              "line 5: profile \"a\" is already defined on line 1; merge the two sections");
    }
}

TEST_CASE("config: URL schemes are case-insensitive and kept in lower case") {
    const auto config = parse_config("[profile \"default\"]\nclient_id = abc\n"
                                     "token_url = HTTPS://Auth.Example/oauth2/Token\n"
                                     "api_url = Https://*.Example\n"
                                     "shared_cache = REDISS://cache.example:6380\n");
    const auto& settings = config.profiles.at("default");
    CHECK(settings.token_url == "https://Auth.Example/oauth2/Token");
    CHECK(settings.api_url == "https://*.Example");
    CHECK(settings.shared_cache == "rediss://cache.example:6380");
    CHECK_THROWS_AS(parse_config("[profile \"x\"]\ntoken_url = HTTP://auth.example/t\n"),
                    ConfigSyntaxError);

    const Environment env(
        std::map<std::string, std::string>{{"IOTSPOT_TOKEN_URL", "HtTpS://auth.example/t"}});
    CHECK(resolve_profile("default", config, env).token_url == "https://auth.example/t");
}

TEST_CASE("config: request_price is a plain decimal number of dollars, read without a locale") {
    CHECK(parse_price("2.25") == std::optional<double>(2.25));
    CHECK(parse_price("0") == std::optional<double>(0.0));
    CHECK(parse_price("1000") == std::optional<double>(1000.0));
    CHECK(parse_price("0.0001") == std::optional<double>(0.0001));
    for (const char* bad : {"", "-1", "1001", "2,25", "2.", ".5", "2.123456", "1e3", " 2", "x"}) {
        CHECK_FALSE(parse_price(bad));
    }
    const auto config = parse_config("[profile \"default\"]\nclient_id = c\nrequest_price = 3.5\n");
    CHECK(resolve_profile("default", config, Environment{}).request_price == 3.5);
    CHECK(resolve_profile("default", parse_config("[profile \"default\"]\nclient_id = c\n"),
                          Environment{})
              .request_price == default_request_price);
    CHECK(parse_config(render_config(config)).profiles.at("default").request_price == "3.5");
    CHECK_THROWS_AS(parse_config("[profile \"default\"]\nrequest_price = cheap\n"),
                    ConfigSyntaxError);
}

TEST_CASE("config: every setting in the table is read, written back and resolved") {
    const std::map<std::string, std::string> samples = {
        {"client_id", "abc"},
        {"token_url", "https://auth.example/oauth2/token"},
        {"scope", "iotspot/other"},
        {"api_url", "https://api.example"},
        {"ca_file", "/etc/ca.pem"},
        {"refresh_margin", "120"},
        {"shared_cache", "redis://cache.internal:6380/1"},
        {"request_price", "3.5"},
    };
    std::string text = "[profile \"p\"]\n";
    for (const auto& setting : all_settings) {
        REQUIRE(samples.count(setting.key) == 1);
        text += std::string(setting.key) + " = " + samples.at(setting.key) + "\n";
    }
    const auto config = parse_config(text);
    const auto again = parse_config(render_config(config));
    for (const auto& setting : all_settings) {
        CHECK(config.profiles.at("p").*setting.stored == samples.at(setting.key));
        CHECK(again.profiles.at("p").*setting.stored == samples.at(setting.key));
    }
    const auto profile = resolve_profile("p", config, Environment{});
    CHECK(profile.client_id == "abc");
    CHECK(profile.token_url == "https://auth.example/oauth2/token");
    CHECK(profile.scope == "iotspot/other");
    CHECK(profile.api_url == "https://api.example");
    CHECK(profile.ca_file == "/etc/ca.pem");
    CHECK(profile.refresh_margin == 120);
    REQUIRE(profile.shared_cache);
    CHECK(profile.shared_cache->text() == "redis://cache.internal:6380/1");
    CHECK(profile.request_price == 3.5);
}

TEST_CASE("config: an empty variable counts as unset, and a bad one is not configured") {
    const auto config = parse_config("[profile \"default\"]\nclient_id = abc\nca_file = /ca.pem\n"
                                     "shared_cache = redis://cache.internal\n");
    const auto unset = resolve_profile("default", config,
                                       Environment(std::map<std::string, std::string>{
                                           {"IOTSPOT_SHARED_CACHE", ""}, {"IOTSPOT_CA_FILE", ""}}));
    REQUIRE(unset.shared_cache);
    CHECK(unset.shared_cache->text() == "redis://cache.internal:6379");
    CHECK(unset.ca_file == "/ca.pem");
    for (const auto& [variable, value] :
         std::map<std::string, std::string>{{"IOTSPOT_SHARED_CACHE", "redis://u:hunter2@h"},
                                            {"IOTSPOT_SCOPE", "iotspot/\x1bhunter2"},
                                            {"IOTSPOT_TOKEN_URL", "http://auth.example/hunter2"}}) {
        try {
            resolve_profile("default", config,
                            Environment(std::map<std::string, std::string>{{variable, value}}));
            FAIL(variable + " was accepted");
        } catch (const Error& error) {
            CHECK(error.code() == Exit::not_configured);
            CHECK_THAT(error.what(), iotspot::test::Contains("profile \"default\": "));
            CHECK(std::string(error.what()).find("hunter2") == std::string::npos);
        }
    }
}

TEST_CASE("config: validate_setting checks what configure writes, and knows only the table") {
    CHECK(validate_setting("token_url", "HTTPS://auth.example/t") == "https://auth.example/t");
    CHECK(validate_setting("refresh_margin", "60") == "60");
    CHECK_THROWS_AS(validate_setting("refresh_margin", "-1"), Error);
    CHECK_THROWS_AS(validate_setting("client-id", "abc"), Error);
}
