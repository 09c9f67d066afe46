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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/crypto.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/expiry.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/shared_cache.h"
#include "core/token_client.h"
#include "store/counter_store.h"
#include "store/file_lock.h"
#include "store/token_cache.h"

namespace iotspot::service {

class SharedTier;

/// IOTSPOT_TIMEOUT's default and largest value, in seconds.
inline constexpr int default_time_budget = 20;
inline constexpr int max_time_budget = 300;

struct ServiceDeps {
    core::Paths paths;
    core::Environment env;
    const core::Log* log = nullptr;
    std::function<core::TokenClient&()> client; ///< loads the network module on first use
    std::function<std::int64_t()> now;          ///< Unix seconds
    std::function<void(double seconds)> sleep;
    std::function<double()> jitter; ///< uniform in [0, 1)
    /// Connects to a profile's shared cache (the network module); unset: no shared tier.
    std::function<std::unique_ptr<core::SharedCacheClient>(const core::SharedCacheSettings&)>
        shared_cache;
};

/// What get() does when a refresh fails while the cached token still has life left.
enum class WhenRefreshFails {
    use_cached, ///< hand out the cached token with a warning (stale-while-error)
    fail,       ///< throw the refresh's error (prefetch: the refresh is the point)
};

struct IssuedToken {
    std::string access_token;
    core::TokenTimes times;
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
    IssuedToken get(const core::Profile& profile, std::optional<std::int64_t> min_ttl,
                    WhenRefreshFails when_fails = WhenRefreshFails::use_cached);

    /// Drops the cached token of `profile`; true when there was one.
    bool forget_token(const std::string& profile);

    /// Drops the cached token of `profile` because a server refused it (git's erase, logout,
    /// serve's DELETE, api's 401): the local copy and, with a shared_cache, the shared entry
    /// while it still holds that same token; a newer token another host published stays.
    /// A shared cache that fails costs one warning, never an error. True when there was a
    /// local token.
    bool forget_refused_token(const core::Profile& profile);

    /// Every get() from now on also ends by `at`, not only within IOTSPOT_TIMEOUT of its own
    /// start: a command that needs a second token (api, after a 401) keeps to one budget.
    void end_by(std::chrono::steady_clock::time_point at) { end_by_ = at; }

    /// The cache's rows (no tokens); empty when there is no cache yet.
    std::vector<store::TokenCache::Entry> cached_entries();

    /// The counts this host kept for `profile` (core/counters.h); empty without a cache.
    std::map<std::string, std::int64_t> host_counts(const std::string& profile);
    /// The fleet's counts of `profile`'s client over the last days (fleet_counter_names()
    /// order); nullopt with `problem` set without a shared cache or when it does not answer.
    std::optional<std::vector<std::int64_t>> fleet_counts(const core::Profile& profile,
                                                          std::string& problem);
    /// Which secret the token server accepted last for `profile`, and which it refused.
    std::optional<store::CounterStore::SecretUse> secret_use(const std::string& profile);
    /// Forgets that (configure replaced the secrets).
    void forget_secret_use(const std::string& profile);

    /// Asks the shared cache of `profile` for a PING (status); a reply with failure
    /// `unreachable` and an explanation when the profile has none or it cannot be loaded.
    core::SharedReply ping_shared_cache(const core::Profile& profile);

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
    /// A secret to fetch with: which one of a rotation ("next", "current"; "" from the
    /// environment) and its value.
    struct ClientSecret {
        std::string which;
        std::string value;
    };
    /// The profile's secrets, the newer first: a next secret (during a rotation), then the
    /// current one. Throws Error(not_configured) when there is none.
    std::vector<ClientSecret> client_secrets(const core::Profile& profile);
    /// One refresh with `secret`: a token (from the shared cache or the token server), or
    /// the failed request's result.
    struct Attempt {
        std::optional<IssuedToken> token;
        core::FetchResult failure;
    };
    Attempt refresh_with(const core::Profile& profile, store::TokenCache* tokens,
                         const ClientSecret& secret, std::optional<std::int64_t> min_ttl,
                         const Deadline& deadline);
    /// During a rotation: a fresh token in the entry of a secret other than the first, which
    /// the hosts on that secret published (so no request is made with a secret not active
    /// yet); nullopt otherwise.
    std::optional<IssuedToken> peek_other_secrets(const core::Profile& profile,
                                                  store::TokenCache* tokens,
                                                  const std::vector<ClientSecret>& secrets,
                                                  std::optional<std::int64_t> min_ttl,
                                                  const Deadline& deadline);
    /// Refreshes with each secret in turn while the token server refuses the client.
    IssuedToken refresh(const core::Profile& profile, store::TokenCache* tokens,
                        std::optional<store::CachedToken>& cached,
                        std::optional<std::int64_t> min_ttl, WhenRefreshFails when_fails,
                        const Deadline& deadline);
    /// Counts one `counter` for `profile` on this host, and in the fleet with `shared`.
    /// Never throws: a failure is a --verbose note.
    void count(const std::string& profile, const char* counter, SharedTier* shared = nullptr);
    void count_request(const std::string& profile, const core::FetchResult& result,
                       SharedTier* shared);
    void count_shared_wait(const std::string& profile, const SharedTier& shared);
    void note_secret_use(const std::string& profile, const std::string& accepted,
                         const std::string& refused);
    store::TokenCache* cache();
    /// The counter store, opened on first use; nullptr when it cannot be (then nothing is
    /// counted). With `create` false, only an existing file is opened.
    store::CounterStore* counters(bool create = true);
    const core::Key& key();
    std::string client_secret(const core::Profile& profile);
    std::optional<store::CachedToken> load_cached(store::TokenCache* tokens,
                                                  const store::TokenBinding& binding);
    bool is_usable(const std::optional<store::CachedToken>& cached, const core::Profile& profile,
                   std::optional<std::int64_t> min_ttl) const;
    IssuedToken hand_out_cached(store::CachedToken&& cached, const core::Profile& profile) const;
    /// The profile's refresh lock, or nullptr when the lock directory is unusable (then the
    /// refresh goes ahead without it). Throws Error(network) when another process held it
    /// past the deadline, naming that process.
    std::unique_ptr<store::FileLock> lock_refresh(const core::Profile& profile,
                                                  const Deadline& deadline);
    /// Stale-while-error: the cached token, with a warning, when it still has life and
    /// `when_fails` allows; otherwise throws `error`.
    IssuedToken refresh_failed(const core::Profile& profile, const core::Error& error,
                               std::optional<store::CachedToken>& cached,
                               WhenRefreshFails when_fails);
    /// Turns an answer that cannot be used into an Error(network) result.
    void check_answer(core::FetchResult& result) const;
    /// Clamps an expires_in over longest_lifetime to it, with a warning.
    void clamp_lifetime(const core::Profile& profile, core::FetchResult& result) const;
    void store(store::TokenCache* tokens, const store::TokenBinding& binding,
               const store::CachedToken& token);
    /// An answer of the token server, and when the request that got it was sent.
    struct Answer {
        core::FetchResult result;
        std::int64_t sent_at = 0;
    };
    /// Asks the token server, retrying as core/retry.h decides until `deadline`.
    Answer fetch(const std::string& profile, const core::TokenRequest& request,
                 std::int64_t deadline, SharedTier* shared);
    void cross_check(const core::Profile& profile, const core::FetchResult& result,
                     std::int64_t received_at);
    std::unique_ptr<SharedTier> shared_tier(const core::Profile& profile,
                                            const std::string& secret);
    core::SharedCacheSettings shared_settings(const core::Profile& profile);
    double shared_wait(const Deadline& deadline) const;
    IssuedToken adopt_shared(const core::Profile& profile, store::TokenCache* tokens,
                             core::SharedToken token);
    /// Deletes the shared entry of `profile` while it holds `refused` (forget_refused_token).
    void forget_shared(const core::Profile& profile, const std::string& refused);
    void note_origin(const std::string& profile, core::TokenOrigin origin,
                     const core::TokenTimes& times);

    ServiceDeps deps_;
    const core::Log& log_;
    std::unique_ptr<store::TokenCache> cache_;
    bool cache_unusable_ = false;
    std::unique_ptr<store::CounterStore> counters_;
    std::optional<core::Key> key_;
    std::optional<std::chrono::steady_clock::time_point> end_by_; ///< end_by()
    /// When the shared cache last failed. It rests for shared_rest after that: one warning
    /// for a command (or a refresh trying two secrets), while a long-running command
    /// (prefetch, sink, serve) asks it again at a later refresh.
    std::optional<std::chrono::steady_clock::time_point> shared_failed_at_;
    static constexpr std::chrono::seconds shared_rest{60};
    bool shared_resting() const;
    void note_shared_failure() { shared_failed_at_ = std::chrono::steady_clock::now(); }
};

/// The message for a profile whose secret cannot be found or opened.
std::string missing_secret_message(const core::Profile& profile, bool unreadable);

} // namespace iotspot::service
