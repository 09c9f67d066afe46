#include <cstdint>
#include <limits>

#include "catch.h"
#include "util/time.h"

using namespace iotspot::util;

TEST_CASE("time: RFC 3339 in UTC") {
    CHECK(format_rfc3339(0) == "1970-01-01T00:00:00Z");
    CHECK(format_rfc3339(1764150000) == "2025-11-26T09:40:00Z");
    CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59Z");
    CHECK(format_rfc3339(951782400) == "2000-02-29T00:00:00Z");  // a leap day
    CHECK(format_rfc3339(2147483648) == "2038-01-19T03:14:08Z"); // past 32-bit time_t
    CHECK(format_rfc3339(253402300799) == "9999-12-31T23:59:59Z");
}

TEST_CASE("time: RFC 3339 beyond its four-digit years is clamped, never garbage") {
    CHECK(format_rfc3339(253402300800) == "9999-12-31T23:59:59Z");
    CHECK(format_rfc3339(std::numeric_limits<std::int64_t>::max()) == "9999-12-31T23:59:59Z");
    CHECK(format_rfc3339(-62167219200) == "0000-01-01T00:00:00Z");
    CHECK(format_rfc3339(-62167219201) == "0000-01-01T00:00:00Z");
    CHECK(format_rfc3339(std::numeric_limits<std::int64_t>::min()) == "0000-01-01T00:00:00Z");
}

TEST_CASE("time: durations for people") {
    CHECK(format_duration(0) == "0 s");
    CHECK(format_duration(59) == "59 s");
    CHECK(format_duration(60) == "1 min 0 s");
    CHECK(format_duration(3599) == "59 min 59 s");
    CHECK(format_duration(3600) == "1 h 0 min");
    CHECK(format_duration(10920) == "3 h 2 min");
    CHECK(format_duration(-45) == "-45 s");
    CHECK(format_duration(-3661) == "-1 h 1 min");
}

TEST_CASE("time: durations at the ends of the range") {
    CHECK(format_duration(std::numeric_limits<std::int64_t>::max()) == "2562047788015215 h 30 min");
    CHECK(format_duration(std::numeric_limits<std::int64_t>::min()) ==
          "-2562047788015215 h 30 min");
}

TEST_CASE("time: saturating arithmetic stops at the int64 limits") {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    CHECK(saturating_add(1764150000, 3600) == 1764153600);
    CHECK(saturating_add(max, 1) == max);
    CHECK(saturating_add(min, -1) == min);
    CHECK(saturating_sub(0, min) == max);
    CHECK(saturating_sub(min, 1) == min);
    CHECK(saturating_sub(5, 7) == -2);
}
