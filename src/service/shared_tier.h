#pragma once
// The shared tier's protocol, on a SharedCacheClient: what the token service does after a
// local miss when the profile has a shared_cache (docs/fleet.md).
//
//   obtain()  GET token -> opens and is fresh -> use it (no token request)
//             else SET lock <random> NX PX <request deadline>
//               taken  -> GET token once more (a holder may just have published) -> the
//                         caller fetches, then publish(): SET token <sealed> PX <its life>,
//                         and the lock is released by compare-and-delete (EVAL)
//               held elsewhere -> sleep with backoff (25 ms doubling to 200 ms, jittered)
//                         and start over, until the caller's wait is over (its deadline
//                         less a reserve for its own request) -> the caller fetches
//   drop()    GET token -> opens and is the refused token -> delete that exact value (EVAL,
//             as the lock's release); a newer token another host published stays
//   any failure of Redis -> one warning naming Redis, and the tier is off for the rest of
//             the invocation: the caller fetches directly, as it would without Redis.
//             Except while another host holds the lock: a server unreachable or late (a
//             primary failing over) is asked again at the next poll, until the wait is
//             over; only then the one warning, and the caller fetches.
//   time      each command ends within IOTSPOT_REDIS_TIMEOUT_MS (the client's bound); those
//             of obtain() within its wait, and every one within set_deadline()'s deadline.

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/expiry.h"
#include "core/log.h"
#include "core/shared_cache.h"

namespace iotspot::service {

struct SharedTierDeps {
    const core::Log* log = nullptr;
    std::function<std::int64_t()> now; ///< Unix seconds (token times)
    std::function<double()> clock;     ///< monotonic seconds (waiting)
    std::function<void(double seconds)> sleep;
    std::function<double()> jitter; ///< uniform in [0, 1)
};

class SharedTier {
public:
    /// `client` talks to the cache at `where` (for messages); the seal key is derived from
    /// `client_secret`.
    SharedTier(SharedTierDeps deps, std::unique_ptr<core::SharedCacheClient> client,
               std::string where, core::SharedBinding binding, std::string_view client_secret);
    /// Releases the lock when it is still held (the fetch failed).
    ~SharedTier();
    SharedTier(const SharedTier&) = delete;
    SharedTier& operator=(const SharedTier&) = delete;

    /// The caller's deadline, on deps.clock: no command runs past it (publish() and the
    /// lock's release included). Without one, only each command's own timeout bounds it.
    void set_deadline(double at) { deadline_ = at; }

    /// A token from the cache that `fresh` accepts, waiting up to `wait_seconds` while
    /// another host holds the refresh lock; every command ends within that wait too. The
    /// lock this host takes lives `lock_seconds` (the request deadline). nullopt: fetch it
    /// yourself (then publish()).
    std::optional<core::SharedToken>
    obtain(const std::function<bool(const core::TokenTimes&)>& fresh, int lock_seconds,
           double wait_seconds);

    /// The token in the cache if `fresh` accepts it, without the lock or any wait (a host
    /// with two secrets looks at the other secret's entry this way first).
    std::optional<core::SharedToken>
    peek(const std::function<bool(const core::TokenTimes&)>& fresh);

    /// Stores a freshly fetched token for the other hosts and releases the lock.
    void publish(const core::SharedToken& token);

    /// Deletes the token entry while it holds `refused` (read, opened, compared, then a
    /// compare-and-delete of that exact value): a token the API refused leaves the cache,
    /// a newer one another host published stays. A failure is one warning.
    void drop(const std::string& refused);

    /// True once a command failed (the warning has been given).
    bool failed() const { return failed_; }
    /// Called once, at the first failed command (after its warning): the caller's other
    /// tiers of this invocation stay off too, so a failure is warned about once.
    void set_on_failure(std::function<void()> on_failure) { on_failure_ = std::move(on_failure); }

    /// True when obtain() waited while another host held the refresh lock.
    bool waited() const { return waited_; }

    /// Adds one to the fleet's count `counter` for today (UTC), kept fleet_counter_days.
    /// Best effort: a failure is a --verbose note and turns nothing off.
    void count(const std::string& counter);

private:
    bool check(const core::SharedReply& reply);
    /// Limits the next commands to `end` and the deadline; false when no time is left.
    bool limit_to(double end);
    std::optional<core::SharedToken>
    read(const std::function<bool(const core::TokenTimes&)>& fresh);
    /// check() for drop(): the warning says what a failure there costs.
    bool check_drop(const core::SharedReply& reply);
    void release();
    void give_up(double wait_seconds);

    SharedTierDeps deps_;
    std::unique_ptr<core::SharedCacheClient> client_;
    std::string where_;
    core::SharedBinding binding_;
    core::SharedKey key_;
    std::string lock_value_;
    bool holding_ = false;
    bool failed_ = false;
    bool waited_ = false;
    std::function<void()> on_failure_;
    bool ignored_foreign_ = false; ///< warned about a value that does not open
    bool waiting_ = false;         ///< another host holds the lock (obtain())
    bool skipped_ = false;         ///< a command of this poll failed, to be tried again
    std::string last_failure_;     ///< the message of that failure
    double deadline_ = std::numeric_limits<double>::infinity();
};

/// How long a day's fleet counts live in the shared cache, and how many days status adds up.
inline constexpr int fleet_counter_days = 35;
inline constexpr int fleet_window_days = 28;

/// The UTC day of `unix_seconds` as a counter key names it: "2026-12-06".
std::string utc_day(std::int64_t unix_seconds);

/// The fleet's counts of `binding`'s client over the `fleet_window_days` UTC days up to
/// `now`, one per name in `counters`, read from `client`; nullopt with `problem` set when
/// the shared cache does not answer.
std::optional<std::vector<std::int64_t>> read_fleet_counts(core::SharedCacheClient& client,
                                                           const core::SharedBinding& binding,
                                                           const std::vector<std::string>& counters,
                                                           std::int64_t now, std::string& problem);

/// The secret-store slot of profile `profile`'s Redis password (not a valid profile name, so
/// it never collides with one).
std::string redis_password_slot(const std::string& profile);

/// Notes where the token cached locally for `profile` came from, for `status`: a small
/// file next to the token cache, in `cache_dir`/shared/.
void record_origin(const std::string& cache_dir, const std::string& profile,
                   core::TokenOrigin origin, const core::TokenTimes& times);
/// The origin recorded for the token with `times`; unknown when none or another token's.
core::TokenOrigin read_origin(const std::string& cache_dir, const std::string& profile,
                              const core::TokenTimes& times);

} // namespace iotspot::service
