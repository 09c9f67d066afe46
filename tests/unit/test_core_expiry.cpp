#include <limits>

#include "catch.h"
#include "core/expiry.h"

using namespace iotspot::core;

TEST_CASE("expiry: a token is reused outside the margin and refreshed inside it") {
    const TokenTimes hour{1000, 1000 + 3600};
    CHECK(is_fresh(hour, 1000, 300, std::nullopt));
    CHECK(is_fresh(hour, 1000 + 3600 - 301, 300, std::nullopt));
    CHECK_FALSE(is_fresh(hour, 1000 + 3600 - 300, 300, std::nullopt));
    CHECK_FALSE(is_fresh(hour, 1000 + 4000, 300, std::nullopt));
}

TEST_CASE("expiry: the margin is never more than half the lifetime") {
    const TokenTimes five_minutes{0, 300};
    CHECK(required_remaining(five_minutes, 300, std::nullopt) == 150);
    CHECK(is_fresh(five_minutes, 100, 300, std::nullopt));
    CHECK_FALSE(is_fresh(five_minutes, 150, 300, std::nullopt));
}

TEST_CASE("expiry: --min-ttl replaces the margin for one call") {
    const TokenTimes hour{0, 3600};
    CHECK(is_fresh(hour, 1000, 300, 600));
    CHECK_FALSE(is_fresh(hour, 1000, 300, 3000));
    CHECK(required_remaining(hour, 300, 0) == 0);
}

TEST_CASE("expiry: a token from the future (clock set back) is not fresh") {
    const TokenTimes later{10000, 13600};
    CHECK_FALSE(is_fresh(later, 5000, 300, std::nullopt));
    CHECK(is_fresh(later, 9990, 300, std::nullopt)); // within the tolerance
}

TEST_CASE("expiry: stale-while-error hands out a token only while it has life left") {
    const TokenTimes hour{0, 3600};
    CHECK(is_unexpired(hour, 3500));
    CHECK_FALSE(is_unexpired(hour, 3595));
    CHECK_FALSE(is_unexpired(hour, 4000));
}

TEST_CASE("expiry: a row whose lifetime is not plausible is never fresh nor unexpired") {
    const std::int64_t now = 1'700'000'000;
    // What an older version cached from expires_in = 10^15, and from one that overflowed.
    const TokenTimes far{now - 10, now + 1'000'000'000'000'000};
    const TokenTimes wrapped{now - 10, std::numeric_limits<std::int64_t>::min() + 5};
    for (const auto& times : {far, wrapped}) {
        CHECK_FALSE(is_fresh(times, now, 300, std::nullopt));
        CHECK_FALSE(is_unexpired(times, now));
    }
    const TokenTimes week{now - 10, now - 10 + longest_lifetime};
    CHECK(is_fresh(week, now, 300, std::nullopt));
}

TEST_CASE("expiry: plausible server times are 2000 to 2100") {
    CHECK(is_plausible_time(978307200)); // 2001-01-01
    CHECK_FALSE(is_plausible_time(0));
    CHECK_FALSE(is_plausible_time(253402300799)); // 9999-12-31
    CHECK_FALSE(is_plausible_time(std::numeric_limits<std::int64_t>::min()));
}

TEST_CASE("expiry: status tells a token from the future from an expired one") {
    const TokenTimes later{10000, 13600};
    CHECK(cached_state(later, 5000) == CachedState::from_the_future);
    CHECK(cached_state(later, 9990) == CachedState::unexpired); // within the tolerance
    CHECK(cached_state(later, 13000) == CachedState::unexpired);
    CHECK(cached_state(later, 13600) == CachedState::expired);
    const TokenTimes wild{10000, 10000 + 2 * longest_lifetime};
    CHECK(cached_state(wild, 10000) == CachedState::implausible);
    for (const std::int64_t now : {5000, 9990, 13000, 13600}) {
        CHECK(is_unexpired(later, now) == (cached_state(later, now) == CachedState::unexpired));
    }
}
