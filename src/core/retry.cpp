#include "core/retry.h"

#include <algorithm>

namespace iotspot::core {

std::optional<double> retry_delay(int attempt, std::optional<std::int64_t> retry_after,
                                  double remaining, double jitter) {
    if (attempt >= max_attempts) {
        return std::nullopt;
    }
    double wait = 0;
    if (retry_after) {
        wait = static_cast<double>(std::max<std::int64_t>(*retry_after, 0));
    } else {
        const double base = std::min(4.0, 0.5 * static_cast<double>(1 << (attempt - 1)));
        wait = base * (0.5 + jitter / 2);
    }
    // Keep at least a second for the request itself after the wait.
    if (wait + 1.0 > remaining) {
        return std::nullopt;
    }
    return wait;
}

} // namespace iotspot::core
