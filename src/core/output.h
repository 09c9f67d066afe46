#pragma once
// What the token-giving commands print. Tokens are checked to be RFC 6750 b64tokens before
// they are ever cached or printed, so they need no escaping; the quoting here is defence in
// depth and keeps every format correct for any value.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/expiry.h"

namespace iotspot::core {

enum class Shell { sh, fish, powershell };

/// Parses a --shell value: sh, bash, zsh, dash, ksh (all POSIX), fish, powershell or pwsh.
std::optional<Shell> parse_shell(std::string_view name);

/// `token`: the token and a newline.
std::string format_token(std::string_view token);

/// `header`: "Authorization: Bearer <token>" and a newline.
std::string format_header(std::string_view token);

/// `env`: assignments of IOTSPOT_ACCESS_TOKEN and IOTSPOT_TOKEN_EXPIRES_AT, one statement per
/// line, each ending in ';' so that the unquoted `eval $(iotspot-helper env)` works too.
std::string format_env(std::string_view token, std::int64_t expires_at, Shell shell);

/// --json: {"access_token","token_type","expires_at" (RFC 3339),"expires_in"} on one line.
std::string format_json(std::string_view token, std::int64_t expires_at, std::int64_t now);

/// A JSON string literal for `text`, quotes included.
std::string json_string(std::string_view text);

} // namespace iotspot::core
