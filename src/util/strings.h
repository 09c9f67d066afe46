#pragma once
// Small string helpers shared by every layer. Depends on nothing of the project.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotspot::util {

/// Returns `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view text);

/// Splits `text` at every `separator`; empty fields are kept.
std::vector<std::string_view> split(std::string_view text, char separator);

/// Parses a whole decimal integer (optional leading '-'); nullopt on anything else or overflow.
std::optional<std::int64_t> parse_int(std::string_view text);

/// True when `text` is a non-empty run of characters allowed in a profile name:
/// ASCII letters, digits, '.', '_' and '-', at most 64 of them, not starting with '.'.
bool is_valid_profile_name(std::string_view text);

/// True when `text` may travel as an OAuth2 bearer token (RFC 6750 b64token):
/// letters, digits, "-._~+/" and trailing '='. Such a value needs no quoting in a shell
/// word, an HTTP header or a key=value line.
bool is_b64token(std::string_view text);

/// `text` safe to print on a terminal: control characters (C0, DEL, and C1 whether a raw
/// byte or UTF-8 encoded) and bytes that are not well-formed UTF-8 become \xNN escapes, so
/// that text from a file or the network cannot move the cursor or ring. UTF-8 text stays.
std::string escape_control(std::string_view text);

/// True when the URL `url` has userinfo ("user:password@" before the host).
bool has_userinfo(std::string_view url);

/// `url` with its userinfo, if any, replaced by "***": for messages.
std::string without_userinfo(std::string_view url);

/// Lower-cases ASCII letters.
std::string ascii_lower(std::string_view text);

} // namespace iotspot::util
