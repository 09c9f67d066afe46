#pragma once
// Hands out tokens: from the cache while they are fresh, otherwise from the token server,
// with one request between all the processes that need one at the same moment.
//
//   get(profile)
//     cache hit (fresh)           -> cached token; no lock, no network module
//     miss -> take the profile's lock file -> look again (another process may have
//     refreshed meanwhile) -> still a miss -> fetch with retries -> seal and store -> unlock
//     fetch failed, cached token still valid -> that token, with a warning (stale-while-error)
//   a profile with a shared_cache asks it after the local miss, under the lock, and
//     publishes what it fetched (core/shared_tier.h); a token dropped because it was
//     refused leaves the shared cache too, while the shared cache still holds it
//
// One deadline (IOTSPOT_TIMEOUT, default 20 s) bounds the whole call: the wait for another
// process's refresh and this one's request with its retries. A lock held past it (a holder
// that is stopped or hangs) is a failure, exit 5, naming the holder; stale-while-error
// applies to it as to a failed request.
//
// Time, the network and sleeping are passed in, so every branch is tested without them.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/crypto.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/expiry.h"
#include "core/file_lock.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/shared_cache.h"
#include "core/token_cache.h"
#include "core/token_client.h"

namespace iotspot::core {

class SharedTier;

/// IOTSPOT_TIMEOUT's default and largest value, in seconds.
inline constexpr int default_time_budget = 20;
inline constexpr int max_time_budget = 300;

struct ServiceDeps {
    Paths paths;
    Environment env;
    const Log* log = nullptr;
    std::function<TokenClient&()> client; ///< loads the network module on first use
    std::function<std::int64_t()> now;    ///< Unix seconds
    std::function<void(double seconds)> sleep;
    std::function<double()> jitter; ///< uniform in [0, 1)
    /// Connects to a profile's shared cache (the network module); unset: no shared tier.
    std::function<std::unique_ptr<SharedCacheClient>(const SharedCacheSettings&)> shared_cache;
};

/// What get() does when a refresh fails while the cached token still has life left.
enum class WhenRefreshFails {
    use_cached, ///< hand out the cached token with a warning (stale-while-error)
    fail,       ///< throw the refresh's error (prefetch: the refresh is the point)
};

struct IssuedToken {
    std::string access_token;
    TokenTimes times;
    bool from_cache = false;
    bool from_shared_cache = false; ///< another host fetched it (docs/fleet.md)
};

class TokenService {
public:
    explicit TokenService(ServiceDeps deps);
    ~TokenService();

    /// A token for `profile` with more than the refresh margin (or `min_ttl`) left.
    /// Throws Error with exit 3 (no secret), 4 (rejected), 5 (network) or 6 (store).
    /// `when_fails` decides between stale-while-error and an error when a refresh fails.
    IssuedToken get(const Profile& profile, std::optional<std::int64_t> min_ttl,
                    WhenRefreshFails when_fails = WhenRefreshFails::use_cached);

    /// Drops the cached token of `profile`; true when there was one.
    bool forget_token(const std::string& profile);

    /// Drops the cached token of `profile` because a server refused it (git's erase, logout,
    /// serve's DELETE, api's 401): the local copy and, with a shared_cache, the shared entry
    /// while it still holds that same token; a newer token another host published stays.
    /// A shared cache that fails costs one warning, never an error. True when there was a
    /// local token.
    bool forget_refused_token(const Profile& profile);

    /// Every get() from now on also ends by `at`, not only within IOTSPOT_TIMEOUT of its own
    /// start: a command that needs a second token (api, after a 401) keeps to one budget.
    void end_by(std::chrono::steady_clock::time_point at) { end_by_ = at; }

    /// The cache's rows (no tokens); empty when there is no cache yet.
    std::vector<TokenCache::Entry> cached_entries();

    /// Asks the shared cache of `profile` for a PING (status); a reply with failure
    /// `unreachable` and an explanation when the profile has none or it cannot be loaded.
    SharedReply ping_shared_cache(const Profile& profile);

    /// The total time a token request may take, retries included (IOTSPOT_TIMEOUT, default 20 s).
    /// Throws Error(usage) when IOTSPOT_TIMEOUT is set to anything but 1 to 300.
    int time_budget() const;

private:
    /// When a get() must be done: on the service's clock (for the retries) and on the
    /// monotonic clock (for the lock wait); `budget` is IOTSPOT_TIMEOUT in seconds.
    struct Deadline {
        std::int64_t at;
        std::chrono::steady_clock::time_point steady;
        int budget;
    };
    Deadline start_deadline() const;
    TokenCache* cache();
    const Key& key();
    std::string client_secret(const Profile& profile);
    std::optional<CachedToken> load_cached(TokenCache* tokens, const TokenBinding& binding);
    bool is_usable(const std::optional<CachedToken>& cached, const Profile& profile,
                   std::optional<std::int64_t> min_ttl) const;
    IssuedToken hand_out_cached(CachedToken&& cached, const Profile& profile) const;
    /// The profile's refresh lock, or nullptr when the lock directory is unusable (then the
    /// refresh goes ahead without it). Throws Error(network) when another process held it
    /// past the deadline, naming that process.
    std::unique_ptr<FileLock> lock_refresh(const Profile& profile, const Deadline& deadline);
    /// Stale-while-error: the cached token, with a warning, when it still has life and
    /// `when_fails` allows; otherwise throws `error`.
    IssuedToken refresh_failed(const Profile& profile, const Error& error,
                               std::optional<CachedToken>& cached, WhenRefreshFails when_fails);
    /// Turns an answer that cannot be used into an Error(network) result.
    void check_answer(FetchResult& result) const;
    /// Clamps an expires_in over longest_lifetime to it, with a warning.
    void clamp_lifetime(const Profile& profile, FetchResult& result) const;
    void store(TokenCache* tokens, const TokenBinding& binding, const CachedToken& token);
    FetchResult fetch(const std::string& profile, const TokenRequest& request,
                      std::int64_t deadline, std::int64_t& started_at);
    void cross_check(const Profile& profile, const FetchResult& result, std::int64_t received_at);
    std::unique_ptr<SharedTier> shared_tier(const Profile& profile, const std::string& secret);
    SharedCacheSettings shared_settings(const Profile& profile);
    double shared_wait(const Deadline& deadline) const;
    IssuedToken adopt_shared(const Profile& profile, TokenCache* tokens, SharedToken token);
    /// Deletes the shared entry of `profile` while it holds `refused` (forget_refused_token).
    void forget_shared(const Profile& profile, const std::string& refused);
    void note_origin(const std::string& profile, TokenOrigin origin, const TokenTimes& times);

    ServiceDeps deps_;
    const Log& log_;
    std::unique_ptr<TokenCache> cache_;
    bool cache_unusable_ = false;
    std::optional<Key> key_;
    std::optional<std::chrono::steady_clock::time_point> end_by_; ///< end_by()
    bool shared_down_ = false; ///< the shared cache failed once: not asked again this run
};

/// The message for a profile whose secret cannot be found or opened.
std::string missing_secret_message(const Profile& profile, bool unreadable);

} // namespace iotspot::core
