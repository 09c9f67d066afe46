#include "util/time.h"

#include <ctime>
#include <limits>

namespace iotspot::util {

std::string format_rfc3339(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm parts{};
    gmtime_r(&t, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
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
    if (seconds < 0) {
        // -INT64_MIN does not exist; a second off there does not matter.
        seconds = seconds == std::numeric_limits<std::int64_t>::min() ? -(seconds + 1) : -seconds;
    }
    const auto hours = seconds / 3600;
    const auto minutes = (seconds % 3600) / 60;
    const auto rest = seconds % 60;
    if (hours > 0) {
        return sign + std::to_string(hours) + " h " + std::to_string(minutes) + " min";
    }
    if (minutes > 0) {
        return sign + std::to_string(minutes) + " min " + std::to_string(rest) + " s";
    }
    return sign + std::to_string(rest) + " s";
}

} // namespace iotspot::util
