#include "catch.h"
#include "core/paths.h"

using namespace iotspot::core;
using Vars = std::map<std::string, std::string>;

TEST_CASE("paths: defaults below HOME") {
    const Paths paths = resolve_paths(Environment(Vars{{"HOME", "/home/ana"}}), "/fallback");
    CHECK(paths.config_file() == "/home/ana/.config/iotspot-helper/config");
    CHECK(paths.token_db() == "/home/ana/.cache/iotspot-helper/tokens.db");
    CHECK(paths.lock_dir() == "/home/ana/.cache/iotspot-helper/locks");
    CHECK(paths.key_file() == "/home/ana/.local/share/iotspot-helper/key");
    CHECK(paths.secret_db() == "/home/ana/.local/share/iotspot-helper/secrets.db");
}

TEST_CASE("paths: absolute XDG variables win over HOME") {
    const Paths paths = resolve_paths(Environment(Vars{{"HOME", "/home/ana"},
                                                       {"XDG_CONFIG_HOME", "/cfg"},
                                                       {"XDG_CACHE_HOME", "/var/cache/ana"},
                                                       {"XDG_DATA_HOME", "/data"}}),
                                      "/fallback");
    CHECK(paths.config_dir == "/cfg/iotspot-helper");
    CHECK(paths.cache_dir == "/var/cache/ana/iotspot-helper");
    CHECK(paths.data_dir == "/data/iotspot-helper");
}

TEST_CASE("paths: relative and empty XDG variables are ignored, as the specification says") {
    for (const char* value : {"relative/dir", "./here", "~/cfg", ""}) {
        const Paths paths = resolve_paths(Environment(Vars{{"HOME", "/home/ana"},
                                                           {"XDG_CONFIG_HOME", value},
                                                           {"XDG_CACHE_HOME", value},
                                                           {"XDG_DATA_HOME", value}}),
                                          "/fallback");
        CHECK(paths.config_dir == "/home/ana/.config/iotspot-helper");
        CHECK(paths.cache_dir == "/home/ana/.cache/iotspot-helper");
        CHECK(paths.data_dir == "/home/ana/.local/share/iotspot-helper");
    }
}

TEST_CASE("paths: without HOME the fallback home is used") {
    const Paths paths = resolve_paths(Environment(), "/var/lib/cron-user");
    CHECK(paths.config_dir == "/var/lib/cron-user/.config/iotspot-helper");
    const Paths empty_home = resolve_paths(Environment(Vars{{"HOME", ""}}), "/var/lib/cron-user");
    CHECK(empty_home.cache_dir == "/var/lib/cron-user/.cache/iotspot-helper");
}
