#pragma once
// The counters a host keeps beside its token cache, and the fleet's in the shared cache
// (docs/fleet.md): token requests by outcome, shared-tier hits, stale-while-error uses and
// lock waits. A cache hit counts nothing: it stays as fast as before.
//
//   status --json      "counters": {"host": {...}, "fleet": {...}}   (summarize())
//   --metrics FILE     iotspot_helper_token_requests_total{profile="default",outcome="issued"} 3
//                      ...                                          (render_metrics())

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace iotspot::core {

/// Counter names, as the token cache's table and the fleet's keys name them.
namespace counter {
inline constexpr const char* issued = "requests_issued";
inline constexpr const char* refused = "requests_refused";
inline constexpr const char* failed = "requests_failed";
inline constexpr const char* shared_hits = "shared_hits";
inline constexpr const char* stale_uses = "stale_uses";
inline constexpr const char* lock_waits = "lock_waits";
} // namespace counter

/// The counters the fleet keeps in the shared cache, in this order.
std::vector<std::string> fleet_counter_names();

/// What status reports of a set of counts.
struct CounterSummary {
    std::int64_t token_requests = 0; ///< issued + refused + failed
    std::int64_t issued = 0;
    std::int64_t refused = 0;
    std::int64_t failed = 0;
    std::int64_t failures = 0; ///< refused + failed
    std::int64_t shared_hits = 0;
    std::int64_t stale_uses = 0;
    std::int64_t lock_waits = 0;
    std::int64_t requests_avoided = 0; ///< shared hits: each saved a token request
    double estimated_cost = 0;         ///< token_requests at `price` per 1,000 (USD)
};

/// Sums up `counts` (by counter name; absent names count 0) at `price` USD per 1,000.
CounterSummary summarize(const std::map<std::string, std::int64_t>& counts, double price);

/// The summary as a JSON object (status --json).
std::string summary_json(const CounterSummary& summary);

/// The counts of each profile as a Prometheus text file (the format node_exporter's textfile
/// collector reads): HELP and TYPE lines, then one sample per profile and outcome.
std::string render_metrics(
    const std::vector<std::pair<std::string, std::map<std::string, std::int64_t>>>& profiles);

} // namespace iotspot::core
