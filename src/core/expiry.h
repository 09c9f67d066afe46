#pragma once
// When a cached token is still good enough to hand out. Pure arithmetic: `now` is an argument.
//
// A token is reused while its remaining life exceeds the refresh margin: the configured
// `refresh_margin` (300 s by default), but never more than half the token's lifetime, so a
// 5-minute token is not refetched on every call. `--min-ttl` replaces the margin for one call.

#include <cstdint>
#include <optional>

namespace iotspot::core {

/// The longest lifetime a token is believed to have: 7 days. Cognito's access tokens live
/// from 5 minutes to 1 day (AccessTokenValidity, Amazon Cognito API reference,
/// TokenValidityUnitsType); a longer expires_in is clamped to this, with a warning.
inline constexpr std::int64_t longest_lifetime = 7 * 24 * 3600;

/// Unix times a server may plausibly send (its Date header, a JWT's iat and exp):
/// 2000-01-01 to 2100-01-01. Others are ignored as if absent.
inline constexpr std::int64_t earliest_plausible_time = 946684800;
inline constexpr std::int64_t latest_plausible_time = 4102444800;

/// True when `unix_seconds` lies in the plausible range above.
constexpr bool is_plausible_time(std::int64_t unix_seconds) {
    return unix_seconds >= earliest_plausible_time && unix_seconds <= latest_plausible_time;
}

struct TokenTimes {
    std::int64_t obtained_at = 0; ///< local clock when the request that got it was sent
    std::int64_t expires_at = 0;  ///< obtained_at + expires_in

    /// expires_at - obtained_at, saturating (the times of a row in a file are not trusted).
    std::int64_t lifetime() const;
};

/// The margin in force: min(configured, lifetime / 2), or `min_ttl` when given.
std::int64_t required_remaining(const TokenTimes& token, std::int64_t configured_margin,
                                std::optional<std::int64_t> min_ttl);

/// True when the token may be handed out at `now` without a refresh. A token that claims to
/// come from the future (the clock was set back), or whose lifetime is not in
/// (0, longest_lifetime] (a row an older version cached from a wild expires_in), is not fresh.
bool is_fresh(const TokenTimes& token, std::int64_t now, std::int64_t configured_margin,
              std::optional<std::int64_t> min_ttl);

/// True while the token has any life left at `now` (what stale-while-error may hand out),
/// with the same distrust of implausible times as is_fresh.
bool is_unexpired(const TokenTimes& token, std::int64_t now);

/// What a cached token is at `now`, for `status`: still unexpired (is_unexpired), expired,
/// obtained later than `now` (the clock was set back since: not usable until a new token is
/// fetched), or of a lifetime outside (0, longest_lifetime].
enum class CachedState { unexpired, expired, from_the_future, implausible };
CachedState cached_state(const TokenTimes& token, std::int64_t now);

} // namespace iotspot::core
