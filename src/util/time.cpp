#include "util/time.h"

#include <ctime>

namespace iotspot::util {

std::string format_rfc3339(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm parts{};
    gmtime_r(&t, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return buffer;
}

std::string format_duration(std::int64_t seconds) {
    const char* sign = seconds < 0 ? "-" : "";
    if (seconds < 0) {
        seconds = -seconds;
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
