#include "core/config.h"

#include <map>

#include "core/error.h"
#include "core/shared_cache.h"
#include "util/strings.h"

namespace iotspot::core {

namespace {

using util::trim;

// A UTF-8 byte-order mark, which some Windows editors write at the start of a text file.
constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";

// `url` (with its scheme already in lower case) is https://, or http:// too.
bool is_http_url(std::string_view url, bool https_only) {
    const bool https = url.rfind("https://", 0) == 0 && url.size() > 8;
    const bool http = url.rfind("http://", 0) == 0 && url.size() > 7;
    return https || (!https_only && http);
}

// `value` with its URL scheme in lower case, for the keys that hold a URL: schemes are
// case-insensitive (RFC 3986, section 3.1), and the helper compares them in lower case.
std::string normalized(std::string_view key, std::string value) {
    if (key != "token_url" && key != "api_url" && key != "shared_cache") {
        return value;
    }
    const auto end = value.find("://");
    if (end != std::string::npos) {
        value = util::ascii_lower(std::string_view(value).substr(0, end)) + value.substr(end);
    }
    return value;
}

// True when `url` holds no '*' but, perhaps, one right after "://" followed by '.'.
bool wildcard_only_leading(std::string_view url) {
    const auto star = url.find('*');
    if (star == std::string_view::npos) {
        return true;
    }
    const auto host = url.find("://");
    return host != std::string_view::npos && star == host + 3 && url.compare(star, 2, "*.") == 0 &&
           url.size() > star + 2 && url.find('*', star + 1) == std::string_view::npos;
}

// Why `value` cannot be used for `key`, or empty when it can.
std::string problem_with(const std::string& key, const std::string& value) {
    if (value.empty()) {
        return key + " must not be empty";
    }
    for (const char c : value) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return key + " contains a control character";
        }
    }
    if (key == "token_url" && !is_http_url(value, true)) {
        return "token_url must be an https:// URL (the client secret is never sent in clear)";
    }
    if ((key == "token_url" || key == "api_url") && util::has_userinfo(value)) {
        return key + " must not contain a user name or password (user:password@): the client "
                     "id and secret travel in the request, never in the URL";
    }
    if (key == "api_url" && !is_http_url(value, false)) {
        return "api_url must be an https:// or http:// URL";
    }
    if (key == "api_url" && !wildcard_only_leading(value)) {
        return "api_url may hold '*' only as the start of its host, as in https://*.iotspot.co";
    }
    if (key == "client_id") {
        for (const char c : value) {
            if (c == ' ' || c == ':') {
                return "client_id must not contain spaces or ':'";
            }
        }
    }
    if (key == "refresh_margin") {
        const auto number = util::parse_int(value);
        if (!number || *number < 0 || *number > 86400) {
            return "refresh_margin must be a whole number of seconds from 0 to 86400";
        }
    }
    if (key == "request_price" && !parse_price(value)) {
        return "request_price must be a number of US dollars per 1,000 token requests from 0 "
               "to 1000, with at most four decimals (2.25)";
    }
    if (key == "shared_cache") {
        try {
            parse_shared_cache_url(value);
        } catch (const Error& error) {
            return error.what();
        }
    }
    return {};
}

void set_key(ProfileSettings& settings, const std::string& key, const std::string& value) {
    if (key == "client_id") {
        settings.client_id = value;
    } else if (key == "token_url") {
        settings.token_url = value;
    } else if (key == "scope") {
        settings.scope = value;
    } else if (key == "api_url") {
        settings.api_url = value;
    } else if (key == "ca_file") {
        settings.ca_file = value;
    } else if (key == "refresh_margin") {
        settings.refresh_margin = *util::parse_int(value);
    } else if (key == "shared_cache") {
        settings.shared_cache = value;
    } else if (key == "request_price") {
        settings.request_price = value;
    }
}

bool is_known_key(std::string_view key) {
    return key == "client_id" || key == "token_url" || key == "scope" || key == "api_url" ||
           key == "ca_file" || key == "refresh_margin" || key == "shared_cache" ||
           key == "request_price";
}

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
        const auto equals = line.find('=');
        if (equals == std::string_view::npos) {
            throw ConfigSyntaxError(number, "expected key = value");
        }
        const std::string key(trim(line.substr(0, equals)));
        const std::string value = normalized(key, std::string(trim(line.substr(equals + 1))));
        if (current == nullptr) {
            throw ConfigSyntaxError(number, "\"" + util::escape_control(key) +
                                                "\" is outside a [profile \"NAME\"] section");
        }
        if (!is_known_key(key)) {
            throw ConfigSyntaxError(number, "unknown key \"" + util::escape_control(key) + "\"");
        }
        if (const auto problem = problem_with(key, value); !problem.empty()) {
            throw ConfigSyntaxError(number, problem);
        }
        set_key(*current, key, value);
    }
    return config;
}

std::string render_config(const ConfigFile& config) {
    std::string text = "# iotspot-helper configuration; see `iotspot-helper --help`.\n"
                       "# The client secret is not here: it is stored encrypted.\n";
    const auto line = [&text](const char* key, const std::optional<std::string>& value) {
        if (value) {
            text += std::string(key) + " = " + *value + "\n";
        }
    };
    for (const auto& [name, settings] : config.profiles) {
        text += "\n[profile \"" + name + "\"]\n";
        line("client_id", settings.client_id);
        line("token_url", settings.token_url);
        line("scope", settings.scope);
        line("api_url", settings.api_url);
        line("ca_file", settings.ca_file);
        if (settings.refresh_margin) {
            text += "refresh_margin = " + std::to_string(*settings.refresh_margin) + "\n";
        }
        line("shared_cache", settings.shared_cache);
        line("request_price", settings.request_price);
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

    const auto pick = [&](const char* variable, const std::optional<std::string>& from_file,
                          const char* fallback) {
        return env.get(variable).value_or(from_file.value_or(fallback));
    };
    Profile profile;
    profile.name = name;
    const auto env_client_id = env.get("IOTSPOT_CLIENT_ID");
    profile.client_id_from_environment = env_client_id.has_value();
    profile.client_id = env_client_id.value_or(settings.client_id.value_or(""));
    profile.token_url =
        normalized("token_url", pick("IOTSPOT_TOKEN_URL", settings.token_url, default_token_url));
    profile.scope = pick("IOTSPOT_SCOPE", settings.scope, default_scope);
    profile.api_url = settings.api_url.value_or(default_api_url);
    profile.ca_file = pick("IOTSPOT_CA_FILE", settings.ca_file, "");
    profile.refresh_margin = settings.refresh_margin.value_or(default_refresh_margin);
    profile.shared_cache =
        normalized("shared_cache", pick("IOTSPOT_SHARED_CACHE", settings.shared_cache, ""));
    if (settings.request_price) {
        profile.request_price =
            parse_price(*settings.request_price).value_or(default_request_price);
    }

    if (profile.client_id.empty()) {
        throw Error(Exit::not_configured,
                    "profile \"" + name + "\" is not configured; run: iotspot-helper configure" +
                        (name == "default" ? std::string() : " --profile " + name) +
                        " --client-id ID (or set IOTSPOT_CLIENT_ID and IOTSPOT_CLIENT_SECRET)");
    }
    for (const auto& [key, value] :
         {std::pair<std::string, const std::string&>{"client_id", profile.client_id},
          {"token_url", profile.token_url},
          {"scope", profile.scope}}) {
        if (const auto problem = problem_with(key, value); !problem.empty()) {
            throw Error(Exit::not_configured, "profile \"" + name + "\": " + problem);
        }
    }
    if (!profile.shared_cache.empty()) {
        if (const auto problem = problem_with("shared_cache", profile.shared_cache);
            !problem.empty()) {
            throw Error(Exit::not_configured, "profile \"" + name + "\": " + problem);
        }
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
    std::string setting = normalized(key, value);
    if (const auto problem = problem_with(key, setting); !problem.empty()) {
        throw Error(Exit::usage, problem);
    }
    return setting;
}

} // namespace iotspot::core
