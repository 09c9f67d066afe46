#pragma once
// Where the files live, after the XDG base directory specification.
//
//   config   $XDG_CONFIG_HOME/iotspot-helper/config     (default ~/.config)
//   cache    $XDG_CACHE_HOME/iotspot-helper/tokens.db   (default ~/.cache)
//   data     $XDG_DATA_HOME/iotspot-helper/key, secrets.db, serve.key (default ~/.local/share)

#include <string>

#include "core/environment.h"

namespace iotspot::core {

struct Paths {
    std::string config_dir; ///< holds `config`
    std::string cache_dir;  ///< holds `tokens.db`, `counters.db` and `locks/`
    std::string data_dir;   ///< holds `key`, `secrets.db`

    std::string config_file() const { return config_dir + "/config"; }
    std::string token_db() const { return cache_dir + "/tokens.db"; }
    std::string counter_db() const { return cache_dir + "/counters.db"; }
    std::string lock_dir() const { return cache_dir + "/locks"; }
    std::string key_file() const { return data_dir + "/key"; }
    std::string secret_db() const { return data_dir + "/secrets.db"; }
};

/// Resolves the paths from XDG_* and HOME in `env`; `fallback_home` is used when HOME is unset
/// (cron jobs and some containers). Relative XDG values are ignored, as the specification says.
Paths resolve_paths(const Environment& env, const std::string& fallback_home);

} // namespace iotspot::core
