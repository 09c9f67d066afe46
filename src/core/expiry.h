#pragma once
// When a cached token is still good enough to hand out. Pure arithmetic: `now` is an argument.
//
// A token is reused while its remaining life exceeds the refresh margin: the configured
// `refresh_margin` (300 s by default), but never more than half the token's lifetime, so a
// 5-minute token is not refetched on every call. `--min-ttl` replaces the margin for one call.

#include <cstdint>
#include <optional>

namespace iotspot::core {

struct TokenTimes {
    std::int64_t obtained_at = 0; ///< local clock when the request that got it was sent
    std::int64_t expires_at = 0;  ///< obtained_at + expires_in

    std::int64_t lifetime() const { return expires_at - obtained_at; }
};

/// The margin in force: min(configured, lifetime / 2), or `min_ttl` when given.
std::int64_t required_remaining(const TokenTimes& token, std::int64_t configured_margin,
                                std::optional<std::int64_t> min_ttl);

/// True when the token may be handed out at `now` without a refresh. A token that claims to
/// come from the future (the clock was set back) is not fresh.
bool is_fresh(const TokenTimes& token, std::int64_t now, std::int64_t configured_margin,
              std::optional<std::int64_t> min_ttl);

/// True while the token has any life left at `now` (what stale-while-error may hand out).
bool is_unexpired(const TokenTimes& token, std::int64_t now);

} // namespace iotspot::core
