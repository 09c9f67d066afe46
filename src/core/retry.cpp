#include "core/retry.h"

#include <algorithm>
#include <cmath>

namespace iotspot::core {

double backoff_seconds(int attempt) {
    // The clamp only keeps the exponent finite; the cap is the min.
    return std::min(max_backoff_seconds, std::ldexp(0.5, std::clamp(attempt - 1, 0, 62)));
}

std::optional<double> retry_delay(int attempt, std::optional<std::int64_t> retry_after,
                                  double remaining, double jitter) {
    if (attempt >= max_attempts) {
        return std::nullopt;
    }
    double wait = 0;
    if (retry_after) {
        wait = static_cast<double>(std::max<std::int64_t>(*retry_after, 0));
    } else {
        wait = backoff_seconds(attempt) * (0.5 + jitter / 2);
    }
    // Keep at least a second for the request itself after the wait.
    if (wait + 1.0 > remaining) {
        return std::nullopt;
    }
    return wait;
}

} // namespace iotspot::core
