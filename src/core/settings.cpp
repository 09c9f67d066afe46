#include "core/settings.h"

#include "core/error.h"
#include "core/shared_cache.h"
#include "util/strings.h"

namespace iotspot::core {

namespace {

// `url` (with its scheme already in lower case) is https://, or http:// too.
bool is_http_url(std::string_view url, bool https_only) {
    const bool https = url.rfind("https://", 0) == 0 && url.size() > 8;
    const bool http = url.rfind("http://", 0) == 0 && url.size() > 7;
    return https || (!https_only && http);
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

std::string userinfo_problem(const std::string& key) {
    return key + " must not contain a user name or password (user:password@): the client id and "
                 "secret travel in the request, never in the URL";
}

} // namespace

namespace setting_rules {

std::string anything(const std::string&) {
    return {};
}

std::string client_id_problem(const std::string& value) {
    if (value.find_first_of(" :") != std::string::npos) {
        return "client_id must not contain spaces or ':'";
    }
    return {};
}

std::string token_url_problem(const std::string& value) {
    if (!is_http_url(value, true)) {
        return "token_url must be an https:// URL (the client secret is never sent in clear)";
    }
    return util::has_userinfo(value) ? userinfo_problem("token_url") : "";
}

std::string api_url_problem(const std::string& value) {
    if (util::has_userinfo(value)) {
        return userinfo_problem("api_url");
    }
    if (!is_http_url(value, false)) {
        return "api_url must be an https:// or http:// URL";
    }
    if (!wildcard_only_leading(value)) {
        return "api_url may hold '*' only as the start of its host, as in https://*.iotspot.co";
    }
    return {};
}

std::string refresh_margin_problem(const std::string& value) {
    const auto number = util::parse_int(value);
    if (!number || *number < 0 || *number > 86400) {
        return "refresh_margin must be a whole number of seconds from 0 to 86400";
    }
    return {};
}

std::string shared_cache_problem(const std::string& value) {
    try {
        parse_shared_cache_url(value);
    } catch (const Error& error) {
        return error.what();
    }
    return {};
}

std::string request_price_problem(const std::string& value) {
    if (!parse_price(value)) {
        return "request_price must be a number of US dollars per 1,000 token requests from 0 to "
               "1000, with at most four decimals (2.25)";
    }
    return {};
}

void apply_refresh_margin(Profile& profile, const std::string& value) {
    profile.refresh_margin = util::parse_int(value).value_or(default_refresh_margin);
}

void apply_shared_cache(Profile& profile, const std::string& value) {
    if (value.empty()) {
        profile.shared_cache.reset();
    } else {
        profile.shared_cache = parse_shared_cache_url(value);
    }
}

void apply_request_price(Profile& profile, const std::string& value) {
    profile.request_price = parse_price(value).value_or(default_request_price);
}

} // namespace setting_rules

const Setting* find_setting(std::string_view key) {
    for (const auto& setting : all_settings) {
        if (key == setting.key) {
            return &setting;
        }
    }
    return nullptr;
}

std::string normalized(const Setting& setting, std::string value) {
    if (setting.type != SettingType::url) {
        return value;
    }
    const auto end = value.find("://");
    if (end != std::string::npos) {
        value = util::ascii_lower(std::string_view(value).substr(0, end)) + value.substr(end);
    }
    return value;
}

std::string setting_problem(const Setting& setting, const std::string& value) {
    const std::string key = setting.key;
    if (value.empty()) {
        return key + " must not be empty";
    }
    for (const char c : value) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return key + " contains a control character";
        }
    }
    return setting.problem(value);
}

} // namespace iotspot::core
