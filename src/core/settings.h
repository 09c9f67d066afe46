#pragma once
// The one table of a profile's settings. A row names a setting everywhere it appears: its
// key in the config file, the environment variable that overrides the file, `configure`'s
// option, where ProfileSettings keeps its text, how Profile holds its parsed value, its
// rules, and its help. The config reader and writer and the environment overrides
// (core/config.cpp), `configure` (cli/configure_command.cpp), --help, the man page and the
// shell completions (cli/command_table.h, cli/help.cpp) are all made from it, so adding a
// setting is adding a row here and a member to ProfileSettings and Profile.

#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"

namespace iotspot::core {

/// What kind of value a setting holds.
enum class SettingType {
    text, ///< free text or a number
    url,  ///< a URL: its scheme is case-insensitive and kept in lower case
    file, ///< a file name: `configure` checks it can read it and stores it absolute
};

struct Setting {
    const char* key;              ///< in the config file ("token_url")
    const char* variable;         ///< the environment variable that overrides the file, or nullptr
    const char* option;           ///< `configure`'s option without "--" ("token-url")
    const char* metavar;          ///< how help names the value ("URL")
    const char* summary;          ///< the option: one line for help, completion and the man page
    const char* variable_meaning; ///< the variable: one line for help and the man page
    SettingType type;
    bool optional;  ///< an empty value from the environment means none, and is not checked
    bool removable; ///< `configure`'s option takes "none" to remove the setting
    std::optional<std::string> ProfileSettings::*stored; ///< where the file's text is kept
    /// Why `value` (already normalized) cannot be used, beyond the checks every setting gets
    /// (not empty, no control character); "" when it can.
    std::string (*problem)(const std::string& value);
    /// Stores a value that passed the checks in `profile`, parsed.
    void (*apply)(Profile& profile, const std::string& value);
};

/// Each setting's own rules, named by the table below.
namespace setting_rules {

/// Accepts every value.
std::string anything(const std::string& value);
std::string client_id_problem(const std::string& value);
std::string token_url_problem(const std::string& value);
std::string api_url_problem(const std::string& value);
std::string refresh_margin_problem(const std::string& value);
std::string shared_cache_problem(const std::string& value);
std::string request_price_problem(const std::string& value);

/// Stores the text as it is in a string member of Profile.
template <std::string Profile::*member>
void apply_text(Profile& profile, const std::string& value) {
    profile.*member = value;
}
void apply_refresh_margin(Profile& profile, const std::string& value);
/// An empty value means no shared cache.
void apply_shared_cache(Profile& profile, const std::string& value);
void apply_request_price(Profile& profile, const std::string& value);

} // namespace setting_rules

/// Every setting, in the order the config file and help list them.
inline constexpr Setting all_settings[] = {
    {"client_id", "IOTSPOT_CLIENT_ID", "client-id", "ID", "the app client id",
     "the client id; overrides the config file", SettingType::text, false, false,
     &ProfileSettings::client_id, setting_rules::client_id_problem,
     setting_rules::apply_text<&Profile::client_id>},
    {"token_url", "IOTSPOT_TOKEN_URL", "token-url", "URL",
     "the token endpoint (default: iotspot's production endpoint)", "the token endpoint",
     SettingType::url, false, false, &ProfileSettings::token_url, setting_rules::token_url_problem,
     setting_rules::apply_text<&Profile::token_url>},
    {"scope", "IOTSPOT_SCOPE", "scope", "S", "the scope to ask for (iotspot/openapi)",
     "the scope to ask for", SettingType::text, false, false, &ProfileSettings::scope,
     setting_rules::anything, setting_rules::apply_text<&Profile::scope>},
    {"api_url", nullptr, "api-url", "URL", "the API the tokens are for (https://*.iotspot.co)", "",
     SettingType::url, false, false, &ProfileSettings::api_url, setting_rules::api_url_problem,
     setting_rules::apply_text<&Profile::api_url>},
    {"ca_file", "IOTSPOT_CA_FILE", "ca-file", "FILE", "PEM file of extra CA certificates",
     "PEM file of extra CA certificates to trust", SettingType::file, true, false,
     &ProfileSettings::ca_file, setting_rules::anything,
     setting_rules::apply_text<&Profile::ca_file>},
    {"refresh_margin", nullptr, "refresh-margin", "SECONDS",
     "refresh a cached token this long before it expires (300)", "", SettingType::text, false,
     false, &ProfileSettings::refresh_margin, setting_rules::refresh_margin_problem,
     setting_rules::apply_refresh_margin},
    {"shared_cache", "IOTSPOT_SHARED_CACHE", "shared-cache", "URL",
     "share tokens between hosts: redis://[user@]host:port[/db], rediss://..., "
     "redis+sentinel://[user@]host:port[,host:port...]/MASTER[/db], or none",
     "the shared cache's redis:// or rediss:// URL (docs/fleet.md)", SettingType::url, true, true,
     &ProfileSettings::shared_cache, setting_rules::shared_cache_problem,
     setting_rules::apply_shared_cache},
    {"request_price", nullptr, "request-price", "USD",
     "USD per 1,000 token requests for status's estimated cost (2.25)", "", SettingType::text,
     false, false, &ProfileSettings::request_price, setting_rules::request_price_problem,
     setting_rules::apply_request_price},
};

/// The setting whose config key is `key`, or nullptr.
const Setting* find_setting(std::string_view key);

/// `value` as the setting keeps it: a URL's scheme in lower case (RFC 3986, section 3.1).
std::string normalized(const Setting& setting, std::string value);

/// Why `value` (normalized) cannot be used for `setting`, or "" when it can.
std::string setting_problem(const Setting& setting, const std::string& value);

} // namespace iotspot::core
