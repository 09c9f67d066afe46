#pragma once
// The retry policy for token requests: exponential backoff with jitter, Retry-After
// honoured, all within a total time budget. Pure: the caller supplies the randomness.

#include <cstdint>
#include <optional>

namespace iotspot::core {

inline constexpr int max_attempts = 5;
inline constexpr double max_backoff_seconds = 4.0;

/// The backoff before attempt number `attempt + 1` without Retry-After, before jitter:
/// 0.5 s * 2^(attempt-1), at most max_backoff_seconds, for any `attempt`.
double backoff_seconds(int attempt);

/// How long to wait before attempt number `attempt + 1` (attempts count from 1), or nullopt
/// to give up: after max_attempts, or when the wait would end past the budget. `retry_after`
/// is the server's Retry-After in seconds; `remaining` the budget left in seconds; `jitter`
/// a number in [0, 1). Without Retry-After the wait is 0.5 s * 2^(attempt-1), capped at 4 s,
/// scaled by 0.5 + jitter / 2.
std::optional<double> retry_delay(int attempt, std::optional<std::int64_t> retry_after,
                                  double remaining, double jitter);

} // namespace iotspot::core
