#include "core/expiry.h"

#include <algorithm>

#include "util/time.h"

namespace iotspot::core {

namespace {
// How far in the future an obtained_at may lie before we distrust the clock.
constexpr std::int64_t clock_tolerance = 60;
// Stale-while-error never hands out a token in its very last seconds.
constexpr std::int64_t last_seconds = 10;
} // namespace

std::int64_t TokenTimes::lifetime() const {
    return util::saturating_sub(expires_at, obtained_at);
}

std::int64_t required_remaining(const TokenTimes& token, std::int64_t configured_margin,
                                std::optional<std::int64_t> min_ttl) {
    if (min_ttl) {
        return *min_ttl;
    }
    return std::min(configured_margin, token.lifetime() / 2);
}

bool is_fresh(const TokenTimes& token, std::int64_t now, std::int64_t configured_margin,
              std::optional<std::int64_t> min_ttl) {
    if (token.obtained_at > util::saturating_add(now, clock_tolerance) || token.lifetime() <= 0 ||
        token.lifetime() > longest_lifetime) {
        return false;
    }
    return util::saturating_sub(token.expires_at, now) >
           required_remaining(token, configured_margin, min_ttl);
}

bool is_unexpired(const TokenTimes& token, std::int64_t now) {
    return cached_state(token, now) == CachedState::unexpired;
}

CachedState cached_state(const TokenTimes& token, std::int64_t now) {
    if (token.obtained_at > util::saturating_add(now, clock_tolerance)) {
        return CachedState::from_the_future;
    }
    if (token.lifetime() <= 0 || token.lifetime() > longest_lifetime) {
        return CachedState::implausible;
    }
    return util::saturating_sub(token.expires_at, now) > last_seconds ? CachedState::unexpired
                                                                      : CachedState::expired;
}

} // namespace iotspot::core
