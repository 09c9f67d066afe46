#pragma once
// --help and --version. The usage lines, command list and option lists are generated from
// cli/command_table.h, the settings' variables from core/settings.h; the prose of each
// command is here, shared with the man page.

#include <string>
#include <string_view>
#include <vector>

#include "cli/command_table.h"

namespace iotspot::cli {

/// A name and what it means: an environment variable or a file.
struct HelpEntry {
    const char* name;
    const char* meaning;
};

/// How help and the man page name IOTSPOT_PROFILE, the first variable they list.
inline constexpr HelpEntry profile_variable_entry = {
    "IOTSPOT_PROFILE", "the profile to use when --profile is not given (default \"default\")"};

/// The environment variables the helper reads besides IOTSPOT_PROFILE and the settings'
/// (core/settings.h).
inline constexpr HelpEntry environment_entries[] = {
    {"IOTSPOT_CLIENT_SECRET", "the client secret; with IOTSPOT_CLIENT_ID, no file is needed"},
    {"IOTSPOT_CLIENT_SECRET_FILE",
     "a file holding the client secret (one trailing newline is stripped)"},
    {"$CREDENTIALS_DIRECTORY/iotspot-client-secret",
     "systemd's credential (LoadCredential=); order: variable, _FILE, this, stored secret"},
    {"IOTSPOT_TIMEOUT", "total seconds for a token request, retries included (1-300, default "
                        "20); api sends and waits within it too"},
    {"IOTSPOT_REDIS_PASSWORD", "the shared cache's password; overrides the stored one"},
    {"IOTSPOT_REDIS_PASSWORD_FILE", "a file holding it; or $CREDENTIALS_DIRECTORY/"
                                    "iotspot-redis-password"},
    {"IOTSPOT_REDIS_TIMEOUT_MS", "bound on each Redis command, connecting included (default 250)"},
    {"HTTPS_PROXY, NO_PROXY", "the proxy for the token request, and the hosts that bypass it"},
};

/// Every environment variable the helper reads, in the order help and the man page list
/// them: IOTSPOT_PROFILE, the settings' variables, then environment_entries.
std::vector<HelpEntry> environment_help();

/// The files the helper reads and writes.
inline constexpr HelpEntry file_entries[] = {
    {"$XDG_CONFIG_HOME/iotspot-helper/config", "profiles, no secrets (default ~/.config)"},
    {"$XDG_CACHE_HOME/iotspot-helper/tokens.db", "encrypted token cache (default ~/.cache)"},
    {"$XDG_CACHE_HOME/iotspot-helper/locks/", "one lock file per profile, held during a refresh"},
    {"$XDG_DATA_HOME/iotspot-helper/key", "the encryption key (default ~/.local/share)"},
    {"$XDG_DATA_HOME/iotspot-helper/secrets.db", "encrypted client secrets"},
    {"$XDG_CACHE_HOME/iotspot-helper/shared/", "where each cached token came from (status)"},
    {"$XDG_DATA_HOME/iotspot-helper/serve.key", "the key of serve's local endpoint"},
};

/// The text of `iotspot-helper --help`, or of `iotspot-helper COMMAND --help`.
std::string help_text(const std::string& command);

/// The usage line(s) of `command`, generated from the table ("iotspot-helper token [...]").
std::string usage_text(std::string_view command);

/// The options a command's usage line shows: its own, and --profile.
std::vector<const OptionSpec*> usage_options(std::string_view command);

/// What `command` does, in plain text paragraphs; "" for a command without prose.
std::string_view command_description(std::string_view command);

/// The overview's opening paragraph.
std::string_view overview_description();

/// "iotspot-helper X.Y.Z".
std::string version_text();

/// The version number alone.
std::string_view version_number();

} // namespace iotspot::cli
