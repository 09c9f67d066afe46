#pragma once
// The configuration file and the profiles it names.
//
// The file is INI-like, one section per profile, written by `iotspot-helper configure` and
// safe to edit by hand:
//
//   [profile "default"]
//   client_id = 4d3c2b1a0example
//   token_url = https://iotspot-m2mauth-prod.auth.eu-central-1.amazoncognito.com/oauth2/token
//   scope = iotspot/openapi
//   api_url = https://api.iotspot.co
//   ca_file = /etc/ssl/certs/corporate-proxy.pem
//   refresh_margin = 300
//   shared_cache = rediss://helper@redis.internal:6380/0   (docs/fleet.md)
//   request_price = 2.25      USD per 1,000 token requests, for status's estimate
//
// Blank lines and lines starting with '#' or ';' are ignored, and so is a UTF-8 byte-order
// mark at the start. A profile's section appears once. URL schemes are case-insensitive.
// The client secret is never in this file: it is stored encrypted in the secret store.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/environment.h"
#include "core/error.h"
#include "core/shared_cache.h"

namespace iotspot::core {

inline constexpr const char* default_token_url =
    "https://iotspot-m2mauth-prod.auth.eu-central-1.amazoncognito.com/oauth2/token";
inline constexpr const char* default_scope = "iotspot/openapi";
/// iotspot.co and every host under it (see api_url_matches in core/credential_protocol.h).
inline constexpr const char* default_api_url = "https://*.iotspot.co";
inline constexpr std::int64_t default_refresh_margin = 300;
/// AWS's published price of Cognito machine-to-machine token requests, USD per 1,000: the
/// default of the setting request_price (docs/fleet.md).
inline constexpr double default_request_price = 2.25;

/// What one `[profile "NAME"]` section sets: each key's text as the file holds it, checked,
/// a URL's scheme in lower case (core/settings.h has the rules). Unset keys fall back to the
/// environment and the defaults.
struct ProfileSettings {
    std::optional<std::string> client_id;
    std::optional<std::string> token_url;
    std::optional<std::string> scope;
    std::optional<std::string> api_url;
    std::optional<std::string> ca_file;
    std::optional<std::string> refresh_margin;
    std::optional<std::string> shared_cache;
    std::optional<std::string> request_price;
};

struct ConfigFile {
    std::map<std::string, ProfileSettings> profiles;
};

/// A syntax error in the configuration text, with its 1-based line number (exit 3).
class ConfigSyntaxError : public Error {
public:
    ConfigSyntaxError(int line, const std::string& message)
        : Error(Exit::not_configured, "line " + std::to_string(line) + ": " + message),
          line_(line) {}
    int line() const noexcept { return line_; }

private:
    int line_;
};

/// Parses configuration text. Throws ConfigSyntaxError on unknown keys, bad values, keys
/// outside a section, a malformed section header, or a profile's section given twice.
ConfigFile parse_config(std::string_view text);

/// Writes `config` back as text that parse_config reads to the same value.
std::string render_config(const ConfigFile& config);

/// A profile with every setting decided and parsed: flags, then environment, then file, then
/// these defaults.
struct Profile {
    std::string name;
    std::string client_id;
    std::string token_url = default_token_url;
    std::string scope = default_scope;
    std::string api_url = default_api_url;
    std::string ca_file; ///< empty: the system CA store only
    std::int64_t refresh_margin = default_refresh_margin;
    std::optional<SharedCacheUrl> shared_cache; ///< nullopt: no shared cache
    /// USD per 1,000 token requests (status's estimated cost).
    double request_price = default_request_price;
    bool client_id_from_environment = false;
};

/// The profile name in force: `flag` (from --profile) if given, else IOTSPOT_PROFILE, else
/// "default". Throws Error(usage) for a name that is not a valid profile name.
std::string select_profile_name(const std::optional<std::string>& flag, const Environment& env);

/// Resolves profile `name` from the environment (each setting's variable in core/settings.h),
/// then `file`, then defaults. Throws Error(not_configured) when no client id is known, and
/// for settings that cannot work (a token URL that is not https). An empty variable unsets an
/// optional setting (IOTSPOT_CA_FILE, IOTSPOT_SHARED_CACHE).
Profile resolve_profile(const std::string& name, const ConfigFile& file, const Environment& env);

/// A price as request_price takes it: a decimal number from 0 to 1000 with at most four
/// decimals ("2.25"), read without the locale; nullopt otherwise.
std::optional<double> parse_price(std::string_view text);

/// Checks a value that `configure` is about to write; throws Error(usage) with the reason.
/// Returns the value to write: a URL's scheme in lower case.
std::string validate_setting(const std::string& key, const std::string& value);

} // namespace iotspot::core
