#include "service/shared_tier.h"

#include <algorithm>
#include <utility>

#include "core/crypto.h"
#include "core/error.h"
#include "store/files.h"
#include "util/defer.h"
#include "util/strings.h"
#include "util/time.h"

namespace iotspot::service {

namespace {

constexpr double first_poll_delay = 0.025;
constexpr double longest_poll_delay = 0.2;

core::SharedBinding with_secret_id(core::SharedBinding binding, std::string_view client_secret) {
    binding.secret_id = core::shared_secret_id(client_secret, binding.client_id);
    return binding;
}

std::string origin_file(const std::string& cache_dir, const std::string& profile) {
    return cache_dir + "/shared/" + profile;
}

} // namespace

SharedTier::SharedTier(SharedTierDeps deps, std::unique_ptr<core::SharedCacheClient> client,
                       std::string where, core::SharedBinding binding,
                       std::string_view client_secret)
    : deps_(std::move(deps)), client_(std::move(client)), where_(std::move(where)),
      binding_(with_secret_id(std::move(binding), client_secret)),
      key_(core::SharedKey::derive(client_secret, binding_.client_id)),
      lock_value_(core::random_hex(16)) {}

SharedTier::~SharedTier() {
    release();
}

bool SharedTier::check(const core::SharedReply& reply) {
    if (reply.ok()) {
        return true;
    }
    const bool transient = reply.failure == core::SharedFailure::unreachable ||
                           reply.failure == core::SharedFailure::timeout;
    if (waiting_ && transient) {
        // While another host holds the lock (a primary failing over, say): its token may
        // yet appear, so the wait goes on, and the next poll asks again.
        if (!skipped_) {
            deps_.log->note(reply.message + "; still waiting for another host's token");
        }
        skipped_ = true;
        last_failure_ = reply.message;
        return false;
    }
    if (!failed_) {
        deps_.log->warning(reply.message + "; fetching the token directly");
        if (on_failure_) {
            on_failure_();
        }
    }
    failed_ = true;
    holding_ = false; // the lock expires on its own (PX)
    return false;
}

bool SharedTier::limit_to(double end) {
    // A day stands for "no limit": the client's own timeout is far shorter.
    const double left = std::min({end, deadline_, deps_.clock() + 86400.0}) - deps_.clock();
    if (left <= 0) {
        return false;
    }
    client_->limit_time(left);
    return true;
}

std::optional<core::SharedToken>
SharedTier::read(const std::function<bool(const core::TokenTimes&)>& fresh) {
    const core::SharedReply reply = client_->get(shared_token_key(binding_));
    if (!check(reply) || !reply.value) {
        return std::nullopt;
    }
    core::SharedToken token;
    switch (open_shared_token(key_, binding_, *reply.value, deps_.now(), token)) {
    case core::SharedOpen::ok:
        break;
    case core::SharedOpen::expired:
        deps_.log->note("the shared cache at " + where_ + " holds an expired token; ignoring it");
        return std::nullopt;
    case core::SharedOpen::malformed:
    case core::SharedOpen::foreign:
        if (std::exchange(ignored_foreign_, true)) {
            return std::nullopt;
        }
        deps_.log->warning("the token in the shared cache at " + where_ +
                           " does not open with this client's secret (tampered with, or "
                           "written by another client); ignoring it and fetching a new one");
        return std::nullopt;
    }
    // Another host's clock may run a little ahead: a token it got "in the future" is one
    // it got now.
    token.obtained_at = std::min(token.obtained_at, deps_.now());
    if (!fresh(core::TokenTimes{token.obtained_at, token.expires_at})) {
        return std::nullopt;
    }
    return token;
}

std::optional<core::SharedToken>
SharedTier::obtain(const std::function<bool(const core::TokenTimes&)>& fresh, int lock_seconds,
                   double wait_seconds) {
    const double deadline = std::min(deps_.clock() + wait_seconds, deadline_);
    double delay = first_poll_delay;
    const std::string lock = shared_lock_key(binding_);
    if (!limit_to(deadline)) {
        deps_.log->note("no time left to ask the shared cache at " + where_);
        return std::nullopt;
    }
    const util::Defer stop_waiting([this] { waiting_ = false; });
    for (;;) {
        skipped_ = false;
        if (auto token = read(fresh)) {
            return token;
        }
        if (failed_) {
            return std::nullopt;
        }
        if (!skipped_) {
            const core::SharedReply taken =
                client_->set(lock, lock_value_, std::int64_t{lock_seconds} * 1000, true);
            if (!check(taken) && !skipped_) {
                return std::nullopt;
            }
            if (taken.value) {
                holding_ = true;
                if (auto token = read(fresh)) {
                    release();
                    return token;
                }
                deps_.log->note("took the shared refresh lock at " + where_);
                return std::nullopt;
            }
            waiting_ = waiting_ || taken.ok(); // another host holds the lock
        }
        // The pause itself must end inside the wait: the next commands run within it.
        const double pause = delay * (0.5 + deps_.jitter());
        if (deps_.clock() + pause >= deadline) {
            give_up(wait_seconds);
            return std::nullopt;
        }
        waited_ = true;
        deps_.sleep(pause);
        delay = std::min(delay * 2, longest_poll_delay);
    }
}

std::optional<core::SharedToken>
SharedTier::peek(const std::function<bool(const core::TokenTimes&)>& fresh) {
    if (failed_ || !limit_to(deadline_)) {
        return std::nullopt;
    }
    return read(fresh);
}

// The end of a wait for another host's token: one warning, and the caller fetches.
void SharedTier::give_up(double wait_seconds) {
    if (skipped_) {
        failed_ = true; // the one warning: the rest of the invocation leaves Redis alone
        deps_.log->warning(last_failure_ + "; fetching the token directly");
        return;
    }
    deps_.log->warning("another host has held the shared refresh lock at " + where_ + " for " +
                       std::to_string(static_cast<int>(wait_seconds * 1000)) +
                       " ms without publishing a token; fetching the token directly");
}

void SharedTier::publish(const core::SharedToken& token) {
    const std::int64_t life_ms = (token.expires_at - deps_.now()) * 1000;
    if (!failed_ && life_ms > 0 && limit_to(deadline_)) {
        if (check(client_->set(shared_token_key(binding_), seal_shared_token(key_, binding_, token),
                               life_ms, false))) {
            deps_.log->note("published the token to the shared cache at " + where_);
        }
    }
    release();
}

void SharedTier::release() {
    // Without time left, the lock expires on its own (PX).
    if (holding_ && !failed_ && limit_to(deadline_)) {
        check(client_->delete_if_equal(shared_lock_key(binding_), lock_value_));
    }
    holding_ = false;
}

void SharedTier::drop(const std::string& refused) {
    if (failed_ || !limit_to(deadline_)) {
        return;
    }
    const std::string key = shared_token_key(binding_);
    const core::SharedReply reply = client_->get(key);
    if (!check_drop(reply) || !reply.value) {
        return;
    }
    core::SharedToken token;
    if (open_shared_token(key_, binding_, *reply.value, deps_.now(), token) !=
            core::SharedOpen::ok ||
        token.access_token != refused) {
        return; // a newer token, or one this client cannot open: not ours to drop
    }
    if (check_drop(client_->delete_if_equal(key, *reply.value))) {
        deps_.log->note("dropped the refused token from the shared cache at " + where_);
    }
}

bool SharedTier::check_drop(const core::SharedReply& reply) {
    if (!reply.ok() && !std::exchange(failed_, true)) {
        deps_.log->warning(reply.message +
                           "; the refused token may stay in the shared cache until it expires");
    }
    return reply.ok();
}

void SharedTier::count(const std::string& counter) {
    if (failed_ || !limit_to(deadline_)) {
        return;
    }
    const auto key = shared_counter_key(binding_, utc_day(deps_.now()), counter);
    const core::SharedReply reply =
        client_->increment(key, std::int64_t{fleet_counter_days} * 86400 * 1000);
    if (!reply.ok()) {
        deps_.log->note(reply.message + "; the fleet's count of " + counter + " missed one");
    }
}

std::string utc_day(std::int64_t unix_seconds) {
    return util::format_rfc3339(unix_seconds).substr(0, 10);
}

std::optional<std::vector<std::int64_t>> read_fleet_counts(core::SharedCacheClient& client,
                                                           const core::SharedBinding& binding,
                                                           const std::vector<std::string>& counters,
                                                           std::int64_t now, std::string& problem) {
    std::vector<std::string> keys;
    for (const auto& counter : counters) {
        for (int day = 0; day < fleet_window_days; ++day) {
            keys.push_back(
                shared_counter_key(binding, utc_day(now - std::int64_t{day} * 86400), counter));
        }
    }
    const core::SharedCounts counts = client.read_counts(keys);
    if (!counts.ok() || counts.values.size() != keys.size()) {
        problem = counts.ok() ? "the shared cache answered a count read with the wrong number "
                                "of values"
                              : counts.message;
        return std::nullopt;
    }
    std::vector<std::int64_t> sums(counters.size(), 0);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        sums[i / fleet_window_days] += counts.values[i];
    }
    return sums;
}

std::string redis_password_slot(const std::string& profile) {
    return "redis:" + profile;
}

void record_origin(const std::string& cache_dir, const std::string& profile,
                   core::TokenOrigin origin, const core::TokenTimes& times) {
    const char* word = origin == core::TokenOrigin::shared_cache ? "shared_cache"
                       : origin == core::TokenOrigin::published  ? "published"
                                                                 : "unknown";
    store::ensure_private_dir(cache_dir + "/shared");
    store::write_file_atomic(origin_file(cache_dir, profile),
                             std::string(word) + " " + std::to_string(times.obtained_at) + " " +
                                 std::to_string(times.expires_at) + "\n",
                             "shared-cache note");
}

core::TokenOrigin read_origin(const std::string& cache_dir, const std::string& profile,
                              const core::TokenTimes& times) {
    std::optional<std::string> text;
    try {
        text = store::read_file(origin_file(cache_dir, profile), "shared-cache note");
    } catch (const core::Error&) {
        return core::TokenOrigin::unknown;
    }
    if (!text) {
        return core::TokenOrigin::unknown;
    }
    const auto fields = util::split(util::trim(*text), ' ');
    if (fields.size() != 3 || util::parse_int(fields[2]) != times.expires_at) {
        return core::TokenOrigin::unknown;
    }
    return fields[0] == "shared_cache" ? core::TokenOrigin::shared_cache
           : fields[0] == "published"  ? core::TokenOrigin::published
                                       : core::TokenOrigin::unknown;
}

} // namespace iotspot::service
