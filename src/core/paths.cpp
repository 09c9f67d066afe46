#include "core/paths.h"

namespace iotspot::core {

namespace {

std::string base_dir(const Environment& env, const char* variable, const std::string& home,
                     const char* default_below_home) {
    const auto value = env.get(variable);
    if (value && value->front() == '/') {
        return *value;
    }
    return home + "/" + default_below_home;
}

} // namespace

Paths resolve_paths(const Environment& env, const std::string& fallback_home) {
    const std::string home = env.get("HOME").value_or(fallback_home);
    const std::string app = "/iotspot-helper";
    return Paths{base_dir(env, "XDG_CONFIG_HOME", home, ".config") + app,
                 base_dir(env, "XDG_CACHE_HOME", home, ".cache") + app,
                 base_dir(env, "XDG_DATA_HOME", home, ".local/share") + app};
}

} // namespace iotspot::core
