#include "catch.h"
#include "core/retry.h"

using namespace iotspot::core;

TEST_CASE("retry: backoff doubles from 0.5 s with jitter, capped at 4 s") {
    CHECK(retry_delay(1, std::nullopt, 100, 0.0) == iotspot::test::Approx(0.25));
    CHECK(retry_delay(1, std::nullopt, 100, 0.999) == iotspot::test::Approx(0.5).epsilon(0.01));
    CHECK(retry_delay(2, std::nullopt, 100, 0.999) == iotspot::test::Approx(1.0).epsilon(0.01));
    CHECK(retry_delay(4, std::nullopt, 100, 0.999) == iotspot::test::Approx(4.0).epsilon(0.01));
    // Attempt 4 is the last one retried and its base is exactly 4 s, so the cap only shows
    // past it: the backoff itself, for any attempt number.
    CHECK(backoff_seconds(1) == 0.5);
    CHECK(backoff_seconds(4) == 4.0);
    CHECK(backoff_seconds(5) == 4.0);
    CHECK(backoff_seconds(64) == 4.0);
    CHECK(backoff_seconds(1000) == 4.0);
}

TEST_CASE("retry: Retry-After is honoured") {
    CHECK(retry_delay(1, 3, 100, 0.5) == iotspot::test::Approx(3.0));
    CHECK(retry_delay(1, -5, 100, 0.5) == iotspot::test::Approx(0.0));
}

TEST_CASE("retry: gives up after the last attempt or past the budget") {
    CHECK_FALSE(retry_delay(max_attempts, std::nullopt, 100, 0.5));
    CHECK_FALSE(retry_delay(1, 30, 20, 0.5));
    CHECK(retry_delay(1, 18, 20, 0.5));
}
