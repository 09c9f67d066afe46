// prefetch: refreshes tokens ahead of time, for cron jobs and systemd timers, so that
// interactive callers always find a fresh token in the cache.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include "cli/context.h"
#include "cli/metrics_file.h"
#include "core/error.h"
#include "util/strings.h"
#include "util/time.h"

namespace iotspot::cli {

namespace {

using core::Error;
using core::Exit;

constexpr std::int64_t default_jobs = 8;
constexpr std::int64_t max_jobs = 64;

struct Outcome {
    std::string name;
    std::optional<core::Profile> profile; // nullopt when it does not resolve
    Exit code = Exit::ok;
    std::string message; // why it failed
    bool refreshed = false;
    bool from_shared = false; // another host had refreshed it (docs/fleet.md)
    core::TokenTimes times;
};

// The profiles to refresh, in the order the user gave them, each once.
std::vector<std::string> chosen_profiles(Context& ctx) {
    const auto named = ctx.invocation.values("profile");
    if (ctx.invocation.has("all")) {
        if (!named.empty()) {
            throw Error(Exit::usage, "prefetch takes --profile P (repeatable) or --all, not both");
        }
        auto names = ctx.configured_profiles();
        if (names.empty()) {
            throw Error(Exit::not_configured,
                        "no profiles configured; run: iotspot-helper configure --client-id ID");
        }
        return names;
    }
    if (named.empty()) {
        return {ctx.profile_name()};
    }
    std::vector<std::string> names;
    for (const auto& name : named) {
        const std::string checked = core::select_profile_name(name, ctx.env);
        if (std::find(names.begin(), names.end(), checked) == names.end()) {
            names.push_back(checked);
        }
    }
    return names;
}

std::int64_t jobs_option(const Invocation& invocation) {
    const auto text = invocation.value("jobs");
    if (!text) {
        return default_jobs;
    }
    const auto jobs = util::parse_int(*text);
    if (!jobs || *jobs < 1 || *jobs > max_jobs) {
        throw Error(Exit::usage, "--jobs takes a number from 1 to " + std::to_string(max_jobs) +
                                     ", not \"" + *text + "\"");
    }
    return *jobs;
}

// Refreshes one profile's token, recording what happened in `outcome`.
void refresh_one(service::TokenService& service, Outcome& outcome,
                 std::optional<std::int64_t> min_ttl) {
    try {
        const auto ttl = min_ttl ? *min_ttl : 2 * outcome.profile->refresh_margin;
        const auto token = service.get(*outcome.profile, ttl, service::WhenRefreshFails::fail);
        outcome.refreshed = !token.from_cache;
        outcome.from_shared = token.from_shared_cache;
        outcome.times = token.times;
    } catch (const Error& error) {
        outcome.code = error.code();
        outcome.message = error.what();
    } catch (const std::exception& error) {
        outcome.code = Exit::failure;
        outcome.message = std::string("internal error: ") + error.what() + "; please report it";
    }
}

// The work the prefetch workers share: each takes the next profile until none is left.
struct WorkQueue {
    std::vector<Outcome*> items;
    std::optional<std::int64_t> min_ttl;
    std::atomic<std::size_t> next{0};
};

// One worker: a token service (and so a token client) of its own, profiles from `queue`.
void run_worker(service::ServiceDeps own, WorkQueue& queue) {
    service::TokenService service(std::move(own));
    for (std::size_t i = queue.next++; i < queue.items.size(); i = queue.next++) {
        refresh_one(service, *queue.items[i], queue.min_ttl);
    }
}

// Refreshes `outcomes` on up to `jobs` threads, each with a token service and client of its
// own. Work is taken in token URL order, so a worker's next profile is likely on the host
// its kept-alive connection already leads to.
void refresh(Context& ctx, std::vector<Outcome>& outcomes, std::int64_t jobs,
             std::optional<std::int64_t> min_ttl) {
    WorkQueue queue;
    queue.min_ttl = min_ttl;
    for (auto& outcome : outcomes) {
        if (outcome.profile) {
            queue.items.push_back(&outcome);
        }
    }
    std::stable_sort(queue.items.begin(), queue.items.end(),
                     [](const Outcome* a, const Outcome* b) {
                         return a->profile->token_url < b->profile->token_url;
                     });
    const auto workers = static_cast<std::size_t>(
        std::min<std::int64_t>(jobs, static_cast<std::int64_t>(queue.items.size())));
    std::vector<service::ServiceDeps> deps;
    for (std::size_t i = 0; i < workers; ++i) {
        deps.push_back(ctx.worker_deps());
    }
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers; ++i) {
        try {
            threads.emplace_back(run_worker, std::move(deps[i]), std::ref(queue));
        } catch (const std::system_error&) {
            break; // no more threads to be had: the running workers take the rest
        }
    }
    if (workers > 0) {
        run_worker(std::move(deps[0]), queue);
    }
    for (auto& thread : threads) {
        thread.join();
    }
}

// 0 when every profile succeeded; 1 when some failed; when all failed, their exit code, or
// the lowest of their codes when they differ (so that 1 always means "some succeeded").
int exit_status(const std::vector<Outcome>& outcomes) {
    std::size_t failed = 0;
    int lowest = 0;
    for (const auto& outcome : outcomes) {
        if (outcome.code != Exit::ok) {
            const int code = static_cast<int>(outcome.code);
            lowest = failed == 0 ? code : std::min(lowest, code);
            ++failed;
        }
    }
    if (failed == 0) {
        return 0;
    }
    return failed < outcomes.size() ? static_cast<int>(Exit::failure) : lowest;
}

} // namespace

int prefetch_command(Context& ctx) {
    const auto names = chosen_profiles(ctx);
    const auto jobs = jobs_option(ctx.invocation);
    const auto min_ttl = ctx.invocation.seconds("min-ttl");

    std::vector<Outcome> outcomes;
    for (const auto& name : names) {
        Outcome outcome;
        outcome.name = name;
        try {
            outcome.profile = ctx.profile(name);
        } catch (const Error& error) {
            outcome.code = error.code();
            outcome.message = error.what();
        }
        outcomes.push_back(std::move(outcome));
    }
    refresh(ctx, outcomes, jobs, min_ttl);

    const auto now = Context::now();
    std::string out;
    for (const auto& outcome : outcomes) {
        if (outcome.code != Exit::ok) {
            std::fprintf(stderr, "iotspot-helper: prefetch: profile \"%s\": %s\n",
                         outcome.name.c_str(), util::escape_control(outcome.message).c_str());
        } else {
            out += "profile \"" + outcome.name + "\": " +
                   (outcome.from_shared ? "taken from the shared cache"
                    : outcome.refreshed ? "refreshed"
                                        : "still fresh") +
                   ", expires " + util::format_rfc3339(outcome.times.expires_at) + " (in " +
                   util::format_duration(outcome.times.expires_at - now) + ")\n";
        }
    }
    if (!ctx.invocation.has("quiet") && !out.empty()) {
        print(out);
    }
    write_metrics_file(ctx, names);
    return exit_status(outcomes);
}

} // namespace iotspot::cli
