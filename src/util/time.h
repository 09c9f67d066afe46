#pragma once
// Time formatting. Callers pass the time in; nothing here reads the clock.

#include <cstdint>
#include <string>

namespace iotspot::util {

/// Formats Unix seconds as RFC 3339 in UTC, e.g. "2026-11-26T09:15:00Z".
std::string format_rfc3339(std::int64_t unix_seconds);

/// Formats a duration in seconds for people: "59 min 12 s", "3 h 2 min", "45 s".
std::string format_duration(std::int64_t seconds);

/// a + b and a - b, saturating at the int64 limits instead of overflowing: time arithmetic
/// on values that came from a server or a file.
std::int64_t saturating_add(std::int64_t a, std::int64_t b);
std::int64_t saturating_sub(std::int64_t a, std::int64_t b);

} // namespace iotspot::util
