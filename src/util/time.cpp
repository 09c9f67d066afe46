#include "util/time.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>

namespace iotspot::util {

namespace {

constexpr std::int64_t first_rfc3339_second = -62167219200; // 0000-01-01T00:00:00Z
constexpr std::int64_t last_rfc3339_second = 253402300799;  // 9999-12-31T23:59:59Z

} // namespace

std::string format_rfc3339(std::int64_t unix_seconds) {
    // RFC 3339 has four-digit years; gmtime_r fails outright past year 2^31.
    const std::time_t t = static_cast<std::time_t>(
        std::clamp(unix_seconds, first_rfc3339_second, last_rfc3339_second));
    std::tm parts{};
    gmtime_r(&t, &parts);
    char buffer[80]; // room for any int fields; strftime's %Y would write year 0 as "0"
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
    return buffer;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out)) {
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    }
    return out;
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    if (__builtin_sub_overflow(a, b, &out)) {
        return b < 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    }
    return out;
}

std::string format_duration(std::int64_t seconds) {
    const char* sign = seconds < 0 ? "-" : "";
    // The magnitude as unsigned: -INT64_MIN does not fit an int64_t.
    const std::uint64_t magnitude =
        seconds < 0 ? 0 - static_cast<std::uint64_t>(seconds) : static_cast<std::uint64_t>(seconds);
    const auto hours = magnitude / 3600;
    const auto minutes = (magnitude % 3600) / 60;
    const auto rest = magnitude % 60;
    if (hours > 0) {
        return sign + std::to_string(hours) + " h " + std::to_string(minutes) + " min";
    }
    if (minutes > 0) {
        return sign + std::to_string(minutes) + " min " + std::to_string(rest) + " s";
    }
    return sign + std::to_string(rest) + " s";
}

} // namespace iotspot::util
