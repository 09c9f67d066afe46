#include "service/token_service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <sys/stat.h>

#include "core/counters.h"
#include "core/error.h"
#include "core/retry.h"
#include "service/shared_tier.h"
#include "store/file_lock.h"
#include "store/files.h"
#include "store/key_file.h"
#include "store/secret_files.h"
#include "store/secret_store.h"
#include "util/strings.h"
#include "util/time.h"

namespace iotspot::service {

namespace {

// A difference between the server's Date and the local clock worth a warning.
constexpr std::int64_t skew_warning_seconds = 120;

store::TokenBinding binding_of(const core::Profile& p) {
    return store::TokenBinding{p.name, p.client_id, p.token_url, p.scope};
}

bool file_exists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}

std::string expiry_text(const core::TokenTimes& times, std::int64_t now) {
    return util::format_rfc3339(times.expires_at) + " (in " +
           util::format_duration(util::saturating_sub(times.expires_at, now)) + ")";
}

} // namespace

std::string missing_secret_message(const core::Profile& profile, bool unreadable) {
    const std::string configure =
        "iotspot-helper configure" +
        (profile.name == "default" ? std::string() : " --profile " + profile.name) +
        " --client-id " + profile.client_id;
    if (unreadable) {
        return "the stored client secret of profile \"" + profile.name +
               "\" cannot be decrypted (the key file was deleted or replaced, or the client id "
               "changed); enter the secret again with: " +
               configure;
    }
    return "no client secret for profile \"" + profile.name + "\"; run: " + configure +
           " (or set IOTSPOT_CLIENT_SECRET or IOTSPOT_CLIENT_SECRET_FILE)";
}

TokenService::TokenService(ServiceDeps deps) : deps_(std::move(deps)), log_(*deps_.log) {}

TokenService::~TokenService() = default;

int TokenService::time_budget() const {
    const auto value = deps_.env.get("IOTSPOT_TIMEOUT");
    if (!value) {
        return default_time_budget;
    }
    const auto seconds = util::parse_int(*value);
    if (!seconds || *seconds < 1 || *seconds > max_time_budget) {
        throw core::Error(core::Exit::usage,
                          "IOTSPOT_TIMEOUT must be a whole number of seconds from 1 to " +
                              std::to_string(max_time_budget) + ", not \"" + *value +
                              "\"; unset it for the default of " +
                              std::to_string(default_time_budget));
    }
    return static_cast<int>(*seconds);
}

store::TokenCache* TokenService::cache() {
    if (cache_ || cache_unusable_) {
        return cache_.get();
    }
    try {
        store::ensure_private_dir(deps_.paths.cache_dir);
        cache_ = std::make_unique<store::TokenCache>(deps_.paths.token_db(), log_);
    } catch (const core::StoreRefused&) {
        throw;
    } catch (const core::Error& error) {
        log_.warning(std::string(error.what()) + "; continuing without the token cache");
        cache_unusable_ = true;
    }
    return cache_.get();
}

store::CounterStore* TokenService::counters(bool create) {
    if (counters_ || (!create && !file_exists(deps_.paths.counter_db()))) {
        return counters_.get();
    }
    try {
        store::ensure_private_dir(deps_.paths.cache_dir);
        counters_ = std::make_unique<store::CounterStore>(deps_.paths.counter_db());
    } catch (const core::Error& error) {
        log_.note(std::string(error.what()) + "; nothing is counted");
    }
    return counters_.get();
}

const core::Key& TokenService::key() {
    if (!key_) {
        key_ = store::load_or_create_key(deps_.paths.key_file());
    }
    return *key_;
}

std::string TokenService::client_secret(const core::Profile& profile) {
    if (auto secret = store::secret_from_environment(deps_.env, store::client_secret_source)) {
        return std::move(*secret);
    }
    if (!file_exists(deps_.paths.secret_db())) {
        throw core::Error(core::Exit::not_configured, missing_secret_message(profile, false));
    }
    store::SecretStore store(deps_.paths.secret_db());
    auto lookup = store.load(profile.name, profile.client_id, key());
    if (lookup.status != store::SecretStore::Status::found) {
        throw core::Error(core::Exit::not_configured,
                          missing_secret_message(
                              profile, lookup.status == store::SecretStore::Status::unreadable));
    }
    return std::move(lookup.secret);
}

std::vector<TokenService::ClientSecret> TokenService::client_secrets(const core::Profile& profile) {
    if (auto secret = store::secret_from_environment(deps_.env, store::client_secret_source)) {
        return {ClientSecret{"", std::move(*secret)}};
    }
    std::vector<ClientSecret> secrets;
    if (file_exists(deps_.paths.secret_db())) {
        store::SecretStore store(deps_.paths.secret_db());
        auto next = store.load(store::next_secret_slot(profile.name), profile.client_id, key());
        if (next.status == store::SecretStore::Status::found) {
            secrets.push_back(ClientSecret{"next", std::move(next.secret)});
        }
    }
    secrets.push_back(ClientSecret{"current", client_secret(profile)});
    return secrets;
}

void TokenService::count(const std::string& profile, const char* counter, SharedTier* shared) {
    try {
        if (store::CounterStore* store = counters()) {
            store->add(profile, counter);
        }
    } catch (const core::Error& error) {
        log_.note(std::string(error.what()) + "; the count of " + counter + " missed one");
    }
    if (shared) {
        shared->count(counter);
    }
}

void TokenService::count_shared_wait(const std::string& profile, const SharedTier& shared) {
    if (shared.waited()) {
        count(profile, core::counter::lock_waits);
    }
}

void TokenService::count_request(const std::string& profile, const core::FetchResult& result,
                                 SharedTier* shared) {
    count(profile,
          result.code == core::Exit::ok         ? core::counter::issued
          : result.code == core::Exit::rejected ? core::counter::refused
                                                : core::counter::failed,
          shared);
}

void TokenService::note_secret_use(const std::string& profile, const std::string& accepted,
                                   const std::string& refused) {
    try {
        if (store::CounterStore* store = counters()) {
            store->note_secret_use(profile,
                                   store::CounterStore::SecretUse{accepted, refused, deps_.now()});
        }
    } catch (const core::Error& error) {
        log_.note(std::string(error.what()) + "; status will not say which secret was accepted");
    }
}

TokenService::Answer TokenService::fetch(const std::string& profile, const core::TokenRequest& base,
                                         std::int64_t deadline, SharedTier* shared) {
    const std::string who = "profile \"" + profile + "\": ";
    core::TokenClient& client = deps_.client();
    for (int attempt = 1;; ++attempt) {
        core::TokenRequest request = base;
        const auto remaining = deadline - deps_.now();
        request.timeout_seconds =
            static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(10, remaining)));
        const std::int64_t sent_at = deps_.now();
        log_.note(who + "requesting a token from " + util::without_userinfo(request.token_url) +
                  " (attempt " + std::to_string(attempt) + ")");
        core::FetchResult result = client.fetch(request, log_);
        count_request(profile, result, shared);
        if (result.code == core::Exit::ok || !result.retryable) {
            return {std::move(result), sent_at};
        }
        const auto wait =
            core::retry_delay(attempt, result.retry_after,
                              static_cast<double>(deadline - deps_.now()), deps_.jitter());
        if (!wait) {
            result.message +=
                attempt > 1 ? " (gave up after " + std::to_string(attempt) + " attempts)" : "";
            return {std::move(result), sent_at};
        }
        log_.note(who + result.message + "; retrying in " +
                  std::to_string(static_cast<int>(*wait * 1000)) + " ms");
        deps_.sleep(*wait);
    }
}

void TokenService::cross_check(const core::Profile& profile, const core::FetchResult& result,
                               std::int64_t received_at) {
    if (result.server_date && !core::is_plausible_time(*result.server_date)) {
        log_.note("ignoring the token server's Date header: " +
                  std::to_string(*result.server_date) + " is not a plausible time");
    } else if (result.server_date) {
        const auto skew = *result.server_date - received_at;
        if (skew > skew_warning_seconds || skew < -skew_warning_seconds) {
            log_.warning("the local clock is " + util::format_duration(skew < 0 ? -skew : skew) +
                         (skew < 0 ? " ahead of" : " behind") +
                         " the token server's; expiry is counted on the local clock, so tokens "
                         "stay valid, but check the system time (NTP)");
        }
    }
    if (result.jwt_issued_at && result.jwt_expires_at &&
        core::is_plausible_time(*result.jwt_issued_at) &&
        core::is_plausible_time(*result.jwt_expires_at)) {
        const auto jwt_lifetime = *result.jwt_expires_at - *result.jwt_issued_at;
        if (jwt_lifetime + 60 < result.expires_in || jwt_lifetime - 60 > result.expires_in) {
            log_.warning("profile \"" + profile.name + "\": the token says it lives " +
                         std::to_string(jwt_lifetime) + " s but the server said expires_in " +
                         std::to_string(result.expires_in) + " s; using expires_in");
        }
    }
}

TokenService::Deadline TokenService::start_deadline() const {
    const int budget = time_budget();
    const auto now = std::chrono::steady_clock::now();
    const auto steady = now + std::chrono::seconds(budget);
    if (!end_by_ || *end_by_ >= steady) {
        return Deadline{deps_.now() + budget, steady, budget};
    }
    // What end_by() leaves: whole seconds on the service's clock, at least 1 s for the
    // lock's lifetime and messages.
    const double left = std::chrono::duration<double>(*end_by_ - now).count();
    return Deadline{deps_.now() + std::max(0, static_cast<int>(left)), *end_by_,
                    std::max(1, static_cast<int>(std::ceil(left)))};
}

std::optional<store::CachedToken> TokenService::load_cached(store::TokenCache* tokens,
                                                            const store::TokenBinding& binding) {
    return tokens ? tokens->load(binding, key()) : std::nullopt;
}

bool TokenService::is_usable(const std::optional<store::CachedToken>& cached,
                             const core::Profile& profile,
                             std::optional<std::int64_t> min_ttl) const {
    return cached && is_fresh(cached->times, deps_.now(), profile.refresh_margin, min_ttl);
}

IssuedToken TokenService::hand_out_cached(store::CachedToken&& cached,
                                          const core::Profile& profile) const {
    if (log_.verbose()) {
        log_.note("cache hit for profile \"" + profile.name + "\", expires " +
                  expiry_text(cached.times, deps_.now()));
    }
    return IssuedToken{std::move(cached.access_token), cached.times, true};
}

std::unique_ptr<store::FileLock> TokenService::lock_refresh(const core::Profile& profile,
                                                            const Deadline& deadline) {
    try {
        store::ensure_private_dir(deps_.paths.lock_dir());
        return std::make_unique<store::FileLock>(
            deps_.paths.lock_dir() + "/" + profile.name + ".lock", deadline.steady);
    } catch (const store::LockTimeout& timeout) {
        const auto& holder = timeout.holder();
        const std::string end_it = holder ? "if process " + std::to_string(holder->pid) +
                                                " is stuck (stopped, or hanging), end it (kill " +
                                                std::to_string(holder->pid) + ")"
                                          : "if that process is stuck, end it";
        throw core::Error(core::Exit::network,
                          "profile \"" + profile.name + "\": waited " +
                              std::to_string(deadline.budget) +
                              " s (IOTSPOT_TIMEOUT) for another refresh of this "
                              "profile to finish: " +
                              timeout.what() + "; " + end_it + ", or raise IOTSPOT_TIMEOUT");
    } catch (const core::StoreRefused&) {
        throw;
    } catch (const core::Error& error) {
        log_.warning(std::string(error.what()) + "; refreshing without the lock");
        return nullptr;
    }
}

IssuedToken TokenService::refresh_failed(const core::Profile& profile, const core::Error& error,
                                         std::optional<store::CachedToken>& cached,
                                         WhenRefreshFails when_fails) {
    const std::int64_t now = deps_.now();
    const bool usable = cached && is_unexpired(cached->times, now);
    if (usable && when_fails == WhenRefreshFails::fail) {
        throw core::Error(error.code(), std::string(error.what()) +
                                            "; the cached token stays in use until " +
                                            expiry_text(cached->times, now));
    }
    if (!usable) {
        throw core::Error(error.code(), error.what());
    }
    log_.warning("refreshing the token of profile \"" + profile.name +
                 "\" failed: " + error.what() + "; using the cached token, which expires " +
                 expiry_text(cached->times, now));
    count(profile.name, core::counter::stale_uses);
    return IssuedToken{std::move(cached->access_token), cached->times, true};
}

IssuedToken TokenService::get(const core::Profile& profile, std::optional<std::int64_t> min_ttl,
                              WhenRefreshFails when_fails) {
    // One deadline for the whole call: the wait for another process's refresh and our own
    // request with its retries.
    const Deadline deadline = start_deadline();
    const store::TokenBinding binding = binding_of(profile);
    store::TokenCache* tokens = cache();
    std::optional<store::CachedToken> cached = load_cached(tokens, binding);
    if (is_usable(cached, profile, min_ttl)) {
        return hand_out_cached(std::move(*cached), profile);
    }

    std::unique_ptr<store::FileLock> lock;
    if (tokens) {
        try {
            lock = lock_refresh(profile, deadline);
        } catch (const core::StoreRefused&) {
            throw;
        } catch (const core::Error& error) {
            return refresh_failed(profile, error, cached, when_fails);
        }
        if (lock && lock->waited()) {
            count(profile.name, core::counter::lock_waits);
        }
        // Another process may have refreshed while this one waited for the lock.
        cached = load_cached(tokens, binding);
        if (is_usable(cached, profile, min_ttl)) {
            return hand_out_cached(std::move(*cached), profile);
        }
    }

    return refresh(profile, tokens, cached, min_ttl, when_fails, deadline);
}

IssuedToken TokenService::refresh(const core::Profile& profile, store::TokenCache* tokens,
                                  std::optional<store::CachedToken>& cached,
                                  std::optional<std::int64_t> min_ttl, WhenRefreshFails when_fails,
                                  const Deadline& deadline) {
    const auto secrets = client_secrets(profile);
    if (auto token = peek_other_secrets(profile, tokens, secrets, min_ttl, deadline)) {
        return std::move(*token);
    }
    std::string refused;
    for (std::size_t i = 0; i < secrets.size(); ++i) {
        Attempt attempt = refresh_with(profile, tokens, secrets[i], min_ttl, deadline);
        if (attempt.token) {
            if (secrets.size() > 1) {
                note_secret_use(profile.name, secrets[i].which, refused);
            }
            return std::move(*attempt.token);
        }
        if (attempt.failure.client_refused && i + 1 < secrets.size()) {
            refused = secrets[i].which;
            log_.note("profile \"" + profile.name + "\": the token server refused the " + refused +
                      " client secret; trying the " + secrets[i + 1].which + " one");
            continue;
        }
        if (attempt.failure.client_refused && secrets.size() > 1) {
            note_secret_use(profile.name, "", "next current");
        }
        return refresh_failed(profile, core::Error(attempt.failure.code, attempt.failure.message),
                              cached, when_fails);
    }
    throw core::Error(core::Exit::not_configured, missing_secret_message(profile, false));
}

std::optional<IssuedToken>
TokenService::peek_other_secrets(const core::Profile& profile, store::TokenCache* tokens,
                                 const std::vector<ClientSecret>& secrets,
                                 std::optional<std::int64_t> min_ttl, const Deadline& deadline) {
    for (std::size_t i = 1; i < secrets.size(); ++i) {
        const auto shared = shared_tier(profile, secrets[i].value);
        if (!shared) {
            return std::nullopt;
        }
        shared->set_deadline(
            std::chrono::duration<double>(deadline.steady.time_since_epoch()).count());
        if (auto token = shared->peek([&](const core::TokenTimes& times) {
                return is_fresh(times, deps_.now(), profile.refresh_margin, min_ttl);
            })) {
            count(profile.name, core::counter::shared_hits, shared.get());
            return adopt_shared(profile, tokens, std::move(*token));
        }
    }
    return std::nullopt;
}

TokenService::Attempt TokenService::refresh_with(const core::Profile& profile,
                                                 store::TokenCache* tokens,
                                                 const ClientSecret& secret,
                                                 std::optional<std::int64_t> min_ttl,
                                                 const Deadline& deadline) {
    const auto shared = shared_tier(profile, secret.value);
    if (shared) {
        shared->set_deadline(
            std::chrono::duration<double>(deadline.steady.time_since_epoch()).count());
        if (auto token = shared->obtain(
                [&](const core::TokenTimes& times) {
                    return is_fresh(times, deps_.now(), profile.refresh_margin, min_ttl);
                },
                deadline.budget, shared_wait(deadline))) {
            count_shared_wait(profile.name, *shared);
            count(profile.name, core::counter::shared_hits, shared.get());
            return {adopt_shared(profile, tokens, std::move(*token)), {}};
        }
        count_shared_wait(profile.name, *shared);
    }

    core::TokenRequest request{profile.token_url, profile.client_id, secret.value,
                               profile.scope,     profile.ca_file,   10};
    Answer answer = fetch(profile.name, request, deadline.at, shared.get());
    core::FetchResult& result = answer.result;
    const std::int64_t started_at = answer.sent_at;
    const std::int64_t received_at = deps_.now();
    check_answer(result);
    if (result.code != core::Exit::ok) {
        return {std::nullopt, std::move(result)};
    }

    cross_check(profile, result, received_at);
    clamp_lifetime(profile, result);
    store::CachedToken token{std::move(result.access_token),
                             core::TokenTimes{started_at, started_at + result.expires_in}};
    log_.note("got a token for profile \"" + profile.name + "\", expires " +
              expiry_text(token.times, received_at));
    store(tokens, binding_of(profile), token);
    if (shared) {
        shared->publish(
            core::SharedToken{token.access_token, token.times.obtained_at, token.times.expires_at});
        if (tokens && !shared->failed()) {
            note_origin(profile.name, core::TokenOrigin::published, token.times);
        }
    }
    if (min_ttl && token.times.expires_at - received_at <= *min_ttl) {
        log_.warning("a fresh token of profile \"" + profile.name + "\" lives only " +
                     util::format_duration(token.times.expires_at - received_at) +
                     ", less than --min-ttl " + std::to_string(*min_ttl) +
                     " s; handing it out anyway");
    }
    return {IssuedToken{std::move(token.access_token), token.times, false}, {}};
}

void TokenService::check_answer(core::FetchResult& result) const {
    if (result.code != core::Exit::ok) {
        return;
    }
    const auto malformed = [&result](const std::string& message) {
        result = core::FetchResult{};
        result.code = core::Exit::network;
        result.message = message;
    };
    if (!util::is_b64token(result.access_token)) {
        malformed("the token server's answer has an access_token that is not a bearer token; "
                  "check token_url");
    } else if (result.expires_in <= 0) {
        malformed("the token server's answer has an expires_in of " +
                  std::to_string(result.expires_in) + "; check token_url");
    }
}

void TokenService::clamp_lifetime(const core::Profile& profile, core::FetchResult& result) const {
    if (result.expires_in > core::longest_lifetime) {
        log_.warning("profile \"" + profile.name + "\": the token server says the token lives " +
                     std::to_string(result.expires_in) +
                     " s, over the helper's 7-day cap (Cognito's tokens live 5 min to 1 day); "
                     "caching it for " +
                     util::format_duration(core::longest_lifetime) + " only");
        result.expires_in = core::longest_lifetime;
    }
}

void TokenService::store(store::TokenCache* tokens, const store::TokenBinding& binding,
                         const store::CachedToken& token) {
    if (!tokens) {
        return;
    }
    try {
        tokens->save(binding, key(), token);
    } catch (const core::StoreRefused&) {
        throw;
    } catch (const core::Error& error) {
        log_.warning(std::string(error.what()) + "; the token was not cached");
    }
}

std::unique_ptr<SharedTier> TokenService::shared_tier(const core::Profile& profile,
                                                      const std::string& secret) {
    if (!profile.shared_cache || !deps_.shared_cache || shared_resting()) {
        return nullptr;
    }
    core::SharedCacheSettings settings = shared_settings(profile);
    SharedTierDeps tier{&log_, deps_.now,
                        [] {
                            return std::chrono::duration<double>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                .count();
                        },
                        deps_.sleep, deps_.jitter};
    std::unique_ptr<core::SharedCacheClient> client;
    try {
        client = deps_.shared_cache(settings);
    } catch (const core::Error& error) {
        // An install without the shared-cache module is no worse than no shared cache.
        log_.warning(std::string(error.what()) + "; fetching the token directly");
        note_shared_failure();
        return nullptr;
    }
    auto shared = std::make_unique<SharedTier>(
        std::move(tier), std::move(client), "Redis at " + settings.url.where(),
        core::SharedBinding{profile.client_id, profile.token_url, profile.scope, {}}, secret);
    shared->set_on_failure([this] { note_shared_failure(); });
    return shared;
}

bool TokenService::shared_resting() const {
    return shared_failed_at_ && std::chrono::steady_clock::now() - *shared_failed_at_ < shared_rest;
}

double TokenService::shared_wait(const Deadline& deadline) const {
    // What is left of the deadline, less a reserve for the request of our own if no other
    // host delivers: a quarter of the budget, at most 5 s.
    const double left =
        std::chrono::duration<double>(deadline.steady - std::chrono::steady_clock::now()).count();
    return std::max(0.0, left - std::min(5.0, deadline.budget / 4.0));
}

core::SharedCacheSettings TokenService::shared_settings(const core::Profile& profile) {
    core::SharedCacheSettings settings;
    settings.url = *profile.shared_cache;
    settings.ca_file = profile.ca_file;
    settings.timeout_ms = shared_cache_timeout_ms(deps_.env);
    if (auto password = store::secret_from_environment(deps_.env, store::redis_password_source)) {
        settings.password = *password;
    } else if (file_exists(deps_.paths.secret_db())) {
        store::SecretStore store(deps_.paths.secret_db());
        auto lookup = store.load(redis_password_slot(profile.name), profile.client_id, key());
        settings.password = std::move(lookup.secret);
    }
    return settings;
}

core::SharedReply TokenService::ping_shared_cache(const core::Profile& profile) {
    core::SharedReply reply;
    reply.failure = core::SharedFailure::unreachable;
    if (!profile.shared_cache || !deps_.shared_cache) {
        reply.message = "no shared cache";
        return reply;
    }
    try {
        return deps_.shared_cache(shared_settings(profile))->ping();
    } catch (const core::Error& error) {
        reply.message = error.what();
        return reply;
    }
}

void TokenService::note_origin(const std::string& profile, core::TokenOrigin origin,
                               const core::TokenTimes& times) {
    try {
        record_origin(deps_.paths.cache_dir, profile, origin, times);
    } catch (const core::Error& error) {
        log_.note(std::string(error.what()) + "; status will not say where the token came from");
    }
}

IssuedToken TokenService::adopt_shared(const core::Profile& profile, store::TokenCache* tokens,
                                       core::SharedToken token) {
    store::CachedToken cached{std::move(token.access_token),
                              core::TokenTimes{token.obtained_at, token.expires_at}};
    log_.note("got the token of profile \"" + profile.name + "\" from the shared cache, expires " +
              expiry_text(cached.times, deps_.now()));
    if (tokens) {
        try {
            tokens->save(binding_of(profile), key(), cached);
            note_origin(profile.name, core::TokenOrigin::shared_cache, cached.times);
        } catch (const core::Error& error) {
            log_.warning(std::string(error.what()) + "; the token was not cached");
        }
    }
    IssuedToken issued{std::move(cached.access_token), cached.times, false};
    issued.from_shared_cache = true;
    return issued;
}

std::map<std::string, std::int64_t> TokenService::host_counts(const std::string& profile) {
    try {
        store::CounterStore* store = counters(false);
        return store ? store->counts(profile) : std::map<std::string, std::int64_t>{};
    } catch (const core::Error& error) {
        log_.note(std::string(error.what()) + "; no counts to show");
        return {};
    }
}

std::optional<store::CounterStore::SecretUse> TokenService::secret_use(const std::string& profile) {
    try {
        store::CounterStore* store = counters(false);
        return store ? store->secret_use(profile) : std::nullopt;
    } catch (const core::Error& error) {
        log_.note(std::string(error.what()) + "; the secret last accepted is not known");
        return std::nullopt;
    }
}

void TokenService::forget_secret_use(const std::string& profile) {
    try {
        if (store::CounterStore* store = counters(false)) {
            store->forget_secret_use(profile);
        }
    } catch (const core::Error& error) {
        log_.note(std::string(error.what()) + "; status may name a secret use of the old secrets");
    }
}

std::optional<std::vector<std::int64_t>> TokenService::fleet_counts(const core::Profile& profile,
                                                                    std::string& problem) {
    if (!profile.shared_cache || !deps_.shared_cache) {
        problem = "no shared cache";
        return std::nullopt;
    }
    try {
        const auto client = deps_.shared_cache(shared_settings(profile));
        return read_fleet_counts(
            *client, core::SharedBinding{profile.client_id, profile.token_url, profile.scope, {}},
            core::fleet_counter_names(), deps_.now(), problem);
    } catch (const core::Error& error) {
        problem = error.what();
        return std::nullopt;
    }
}

bool TokenService::forget_token(const std::string& profile) {
    if (!file_exists(deps_.paths.token_db())) {
        return false;
    }
    store::TokenCache* tokens = cache();
    return tokens && tokens->erase(profile);
}

bool TokenService::forget_refused_token(const core::Profile& profile) {
    std::optional<store::CachedToken> refused;
    if (profile.shared_cache && file_exists(deps_.paths.token_db())) {
        try {
            refused = load_cached(cache(), binding_of(profile));
        } catch (const core::Error&) {
            // forget_token() reports what is wrong with the cache.
        }
    }
    const bool dropped = forget_token(profile.name);
    if (refused) {
        forget_shared(profile, refused->access_token);
    }
    return dropped;
}

void TokenService::forget_shared(const core::Profile& profile, const std::string& refused) {
    try {
        const auto shared = shared_tier(profile, client_secret(profile));
        if (!shared) {
            return; // no shared cache, or it is resting after a failure already warned of
        }
        shared->set_deadline(
            std::chrono::duration<double>(start_deadline().steady.time_since_epoch()).count());
        shared->drop(refused);
        if (shared->failed()) {
            note_shared_failure();
        }
    } catch (const core::Error& error) {
        note_shared_failure();
        log_.warning(std::string(error.what()) +
                     "; the refused token may stay in the shared cache until it expires");
    }
}

std::vector<store::TokenCache::Entry> TokenService::cached_entries() {
    if (!file_exists(deps_.paths.token_db())) {
        return {};
    }
    store::TokenCache* tokens = cache();
    return tokens ? tokens->entries() : std::vector<store::TokenCache::Entry>{};
}

} // namespace iotspot::service
