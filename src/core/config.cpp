#include "core/config.h"

#include <map>

#include "core/error.h"
#include "core/settings.h"
#include "util/strings.h"

namespace iotspot::core {

namespace {

using util::trim;

// A UTF-8 byte-order mark, which some Windows editors write at the start of a text file.
constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";

// Parses `[profile "NAME"]`; returns the name or throws.
std::string parse_section(std::string_view line, int number) {
    constexpr std::string_view prefix = "[profile \"";
    constexpr std::string_view suffix = "\"]";
    if (line.size() < prefix.size() + suffix.size() || line.substr(0, prefix.size()) != prefix ||
        line.substr(line.size() - suffix.size()) != suffix) {
        throw ConfigSyntaxError(number, "expected a section header like [profile \"default\"]");
    }
    const std::string name(line.substr(prefix.size(), line.size() - prefix.size() - suffix.size()));
    if (!util::is_valid_profile_name(name)) {
        throw ConfigSyntaxError(number, "invalid profile name \"" + util::escape_control(name) +
                                            "\" (use letters, digits, '.', '_' and '-')");
    }
    return name;
}

// A `key = value` line: checks it and stores the value in the section `current`.
void parse_setting(std::string_view line, int number, ProfileSettings* current) {
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
        throw ConfigSyntaxError(number, "expected key = value");
    }
    const std::string key(trim(line.substr(0, equals)));
    if (current == nullptr) {
        throw ConfigSyntaxError(number, "\"" + util::escape_control(key) +
                                            "\" is outside a [profile \"NAME\"] section");
    }
    const Setting* setting = find_setting(key);
    if (setting == nullptr) {
        throw ConfigSyntaxError(number, "unknown key \"" + util::escape_control(key) + "\"");
    }
    std::string value = normalized(*setting, std::string(trim(line.substr(equals + 1))));
    if (const auto problem = setting_problem(*setting, value); !problem.empty()) {
        throw ConfigSyntaxError(number, problem);
    }
    current->*setting->stored = std::move(value);
}

// The value of `setting` in force: its variable's when that is set, else the file's.
std::optional<std::string> value_in_force(const Setting& setting, const ProfileSettings& settings,
                                          const Environment& env) {
    if (setting.variable != nullptr) {
        if (auto value = env.get(setting.variable)) {
            return normalized(setting, std::move(*value));
        }
    }
    return settings.*setting.stored;
}

} // namespace

ConfigFile parse_config(std::string_view text) {
    if (text.substr(0, byte_order_mark.size()) == byte_order_mark) {
        text.remove_prefix(byte_order_mark.size());
    }
    ConfigFile config;
    std::map<std::string, int> section_lines; // profile -> the line of its section header
    ProfileSettings* current = nullptr;
    int number = 0;
    for (const auto raw : util::split(text, '\n')) {
        ++number;
        const auto line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') {
            continue;
        }
        if (line.front() == '[') {
            const std::string name = parse_section(line, number);
            if (const auto [first, added] = section_lines.emplace(name, number); !added) {
                throw ConfigSyntaxError(
                    number, "profile \"" + name + "\" is already defined on line " +
                                std::to_string(first->second) + "; merge the two sections");
            }
            current = &config.profiles[name];
            continue;
        }
        parse_setting(line, number, current);
    }
    return config;
}

std::string render_config(const ConfigFile& config) {
    std::string text = "# iotspot-helper configuration; see `iotspot-helper --help`.\n"
                       "# The client secret is not here: it is stored encrypted.\n";
    for (const auto& [name, settings] : config.profiles) {
        text += "\n[profile \"" + name + "\"]\n";
        for (const auto& setting : all_settings) {
            if (const auto& value = settings.*setting.stored) {
                text += std::string(setting.key) + " = " + *value + "\n";
            }
        }
    }
    return text;
}

std::string select_profile_name(const std::optional<std::string>& flag, const Environment& env) {
    const std::string name = flag ? *flag : env.get("IOTSPOT_PROFILE").value_or("default");
    if (!util::is_valid_profile_name(name)) {
        throw Error(Exit::usage, "invalid profile name \"" + util::escape_control(name) +
                                     "\"; use letters, digits, '.', '_' and '-' (at most 64)");
    }
    return name;
}

Profile resolve_profile(const std::string& name, const ConfigFile& file, const Environment& env) {
    static const ProfileSettings none;
    const auto found = file.profiles.find(name);
    const ProfileSettings& settings = found == file.profiles.end() ? none : found->second;

    const Setting& client_id = *find_setting("client_id");
    if (const auto id = value_in_force(client_id, settings, env); !id || id->empty()) {
        throw Error(Exit::not_configured,
                    "profile \"" + name + "\" is not configured; run: iotspot-helper configure" +
                        (name == "default" ? std::string() : " --profile " + name) +
                        " --client-id ID (or set IOTSPOT_CLIENT_ID and IOTSPOT_CLIENT_SECRET)");
    }
    Profile profile;
    profile.name = name;
    profile.client_id_from_environment = env.get(client_id.variable).has_value();
    for (const auto& setting : all_settings) {
        const auto value = value_in_force(setting, settings, env);
        if (!value) {
            continue;
        }
        if (!value->empty() || !setting.optional) {
            if (const auto problem = setting_problem(setting, *value); !problem.empty()) {
                throw Error(Exit::not_configured, "profile \"" + name + "\": " + problem);
            }
        }
        setting.apply(profile, *value);
    }
    return profile;
}

std::optional<double> parse_price(std::string_view text) {
    const auto dot = text.find('.');
    const auto whole = util::parse_int(text.substr(0, dot));
    if (text.empty() || text.front() < '0' || text.front() > '9' || !whole || *whole > 1000) {
        return std::nullopt;
    }
    double price = static_cast<double>(*whole);
    if (dot != std::string_view::npos) {
        const auto decimals = text.substr(dot + 1);
        if (decimals.empty() || decimals.size() > 4 ||
            decimals.find_first_not_of("0123456789") != std::string_view::npos) {
            return std::nullopt;
        }
        double scale = 1;
        for (const char digit : decimals) {
            scale /= 10;
            price += (digit - '0') * scale;
        }
    }
    return price <= 1000 ? std::optional<double>(price) : std::nullopt;
}

std::string validate_setting(const std::string& key, const std::string& value) {
    const Setting* setting = find_setting(key);
    if (setting == nullptr) {
        throw Error(Exit::usage, "unknown setting \"" + util::escape_control(key) + "\"");
    }
    std::string checked = normalized(*setting, value);
    if (const auto problem = setting_problem(*setting, checked); !problem.empty()) {
        throw Error(Exit::usage, problem);
    }
    return checked;
}

} // namespace iotspot::core
