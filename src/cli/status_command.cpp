// status and logout: what is configured and cached, and dropping it.

#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>

#include "cli/context.h"
#include "core/counters.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/expiry.h"
#include "core/output.h"
#include "service/shared_tier.h"
#include "store/files.h"
#include "store/key_file.h"
#include "store/secret_files.h"
#include "store/secret_store.h"
#include "util/strings.h"
#include "util/time.h"

namespace iotspot::cli {

namespace {

using core::Error;
using core::Exit;

bool exists(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0;
}

struct Row {
    std::string name;
    std::optional<core::Profile> profile; // nullopt: cached token of a profile no longer configured
    std::string problem;                  // why the profile does not resolve
    std::string secret;                   // "stored", "missing", "unreadable", "environment",
                                          // "file", "credential"
    std::optional<core::TokenTimes> token;
    std::optional<core::SharedReply> shared; // the shared cache's answer to PING, if it has one
    bool from_shared = false;                // the cached token came from the shared cache
    bool next_secret = false;                // a next secret is stored (a rotation)
    std::optional<store::CounterStore::SecretUse> secret_use;
    core::CounterSummary host;
    std::optional<core::CounterSummary> fleet; // with a shared cache that answered
};

bool has_next_secret(Context& ctx, const core::Profile& profile) {
    if (!exists(ctx.paths.secret_db()) || !exists(ctx.paths.key_file()) ||
        store::secret_origin(ctx.env, store::client_secret_source) != store::SecretOrigin::none) {
        return false;
    }
    store::SecretStore store(ctx.paths.secret_db());
    const auto key = store::load_or_create_key(ctx.paths.key_file());
    return store.load(store::next_secret_slot(profile.name), profile.client_id, key).status ==
           store::SecretStore::Status::found;
}

// The counters of the row's profile: the host's, and the fleet's when Redis answered.
void add_counters(Context& ctx, Row& row) {
    const double price = row.profile->request_price;
    row.host = core::summarize(ctx.service.host_counts(row.name), price);
    if (!row.shared || !row.shared->ok()) {
        return;
    }
    std::string problem;
    if (const auto fleet = ctx.service.fleet_counts(*row.profile, problem)) {
        const auto names = core::fleet_counter_names();
        std::map<std::string, std::int64_t> counts;
        for (std::size_t i = 0; i < names.size() && i < fleet->size(); ++i) {
            counts[names[i]] = (*fleet)[i];
        }
        row.fleet = core::summarize(counts, price);
    }
}

std::string secret_state(Context& ctx, const core::Profile& profile) {
    switch (store::secret_origin(ctx.env, store::client_secret_source)) {
    case store::SecretOrigin::variable:
        return "environment";
    case store::SecretOrigin::file:
        return "file";
    case store::SecretOrigin::credential:
        return "credential";
    case store::SecretOrigin::none:
        break;
    }
    if (!exists(ctx.paths.secret_db()) || !exists(ctx.paths.key_file())) {
        return "missing";
    }
    store::SecretStore store(ctx.paths.secret_db());
    const auto key = store::load_or_create_key(ctx.paths.key_file());
    switch (store.load(profile.name, profile.client_id, key).status) {
    case store::SecretStore::Status::found:
        return "stored";
    case store::SecretStore::Status::unreadable:
        return "unreadable";
    case store::SecretStore::Status::missing:
        break;
    }
    return "missing";
}

std::vector<Row> collect(Context& ctx) {
    const auto configured = ctx.configured_profiles();
    std::set<std::string> names(configured.begin(), configured.end());
    std::map<std::string, core::TokenTimes> cached;
    for (const auto& entry : ctx.service.cached_entries()) {
        cached[entry.profile] = entry.times;
        names.insert(entry.profile);
    }
    std::vector<Row> rows;
    for (const auto& name : names) {
        Row row;
        row.name = name;
        try {
            row.profile = ctx.profile(name);
            row.secret = secret_state(ctx, *row.profile);
        } catch (const Error& error) {
            row.problem = error.what();
        }
        if (const auto it = cached.find(name); it != cached.end()) {
            row.token = it->second;
            row.from_shared = service::read_origin(ctx.paths.cache_dir, name, it->second) ==
                              core::TokenOrigin::shared_cache;
        }
        if (row.profile && row.profile->shared_cache) {
            row.shared = ctx.service.ping_shared_cache(*row.profile);
        }
        if (row.profile) {
            row.next_secret = has_next_secret(ctx, *row.profile);
            row.secret_use = ctx.service.secret_use(name);
            add_counters(ctx, row);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string token_text(const Row& row, std::int64_t now) {
    if (!row.token) {
        return "no token cached";
    }
    switch (core::cached_state(*row.token, now)) {
    case core::CachedState::expired:
        return "cached token expired " + util::format_rfc3339(row.token->expires_at);
    case core::CachedState::from_the_future:
        return "cached token not usable: obtained at " +
               util::format_rfc3339(row.token->obtained_at) +
               ", later than the clock now reads (the clock was set back); the next request "
               "fetches a new one";
    case core::CachedState::implausible:
        return "cached token not usable: its lifetime is not plausible; the next request "
               "fetches a new one";
    case core::CachedState::unexpired:
        break;
    }
    return "token cached, expires " + util::format_rfc3339(row.token->expires_at) + " (in " +
           util::format_duration(util::saturating_sub(row.token->expires_at, now)) + ")" +
           (row.from_shared ? ", from the shared cache" : "");
}

// The shared cache's URL (never a password) and whether it answered.
std::string shared_text(const Row& row) {
    return row.profile->shared_cache->text() +
           (row.shared->ok() ? " (answered)" : " (" + row.shared->message + ")");
}

// Which secret of a rotation the token server accepted last, in words; empty without one.
std::string rotation_text(const Row& row) {
    if (!row.next_secret && !row.secret_use) {
        return "";
    }
    std::string out = row.next_secret ? "next secret stored" : "one secret";
    if (row.secret_use) {
        const auto& use = *row.secret_use;
        out += use.accepted.empty()
                   ? "; the token server refused both secrets"
                   : "; the token server accepted the " + use.accepted + " secret last";
        if (!use.accepted.empty() && !use.refused.empty()) {
            out += " and refused the " + use.refused + " one";
        }
        out += " (" + util::format_rfc3339(use.at) + ")";
        if (use.accepted == "next" && use.refused == "current") {
            out += ": once every host has the next secret, delete the old one";
        }
    }
    return out;
}

std::string counters_text(const core::CounterSummary& c) {
    char cost[32];
    std::snprintf(cost, sizeof cost, "%.2f", c.estimated_cost);
    return std::to_string(c.token_requests) + " token requests (" + std::to_string(c.failures) +
           " failed), " + std::to_string(c.shared_hits) + " shared hits, about " + cost + " USD";
}

std::string rotation_json(const Row& row) {
    std::string out =
        ",\"rotation\":{\"next_secret\":" + std::string(row.next_secret ? "true" : "false");
    if (row.secret_use) {
        out += ",\"accepted\":" + core::json_string(row.secret_use->accepted) +
               ",\"refused\":" + core::json_string(row.secret_use->refused) +
               ",\"at\":" + core::json_string(util::format_rfc3339(row.secret_use->at));
    }
    return out + "}";
}

std::string counters_json(const Row& row) {
    std::string out = ",\"counters\":{\"host\":" + core::summary_json(row.host);
    if (row.fleet) {
        out += ",\"fleet\":" + core::summary_json(*row.fleet);
    }
    return out + "}";
}

std::string status_json(const std::vector<Row>& rows, std::int64_t now) {
    std::string out = "{\"profiles\":[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& row = rows[i];
        out += i ? "," : "";
        out += "{\"name\":" + core::json_string(row.name);
        if (row.profile) {
            out += ",\"client_id\":" + core::json_string(row.profile->client_id) +
                   ",\"token_url\":" +
                   core::json_string(util::without_userinfo(row.profile->token_url)) +
                   ",\"scope\":" + core::json_string(row.profile->scope) +
                   ",\"api_url\":" + core::json_string(row.profile->api_url) +
                   ",\"secret\":" + core::json_string(row.secret);
            if (row.shared) {
                out += ",\"shared_cache\":{\"url\":" +
                       core::json_string(row.profile->shared_cache->text()) +
                       ",\"answered\":" + (row.shared->ok() ? "true" : "false");
                if (!row.shared->ok()) {
                    out += ",\"problem\":" + core::json_string(row.shared->message);
                }
                out += "}";
            }
            out += rotation_json(row) + counters_json(row);
        } else {
            out += ",\"problem\":" + core::json_string(row.problem);
        }
        out += ",\"token\":";
        if (row.token) {
            out += "{\"cached\":true,\"expires_at\":" +
                   core::json_string(util::format_rfc3339(row.token->expires_at)) +
                   ",\"expires_in\":" +
                   std::to_string(std::max<std::int64_t>(
                       0, util::saturating_sub(row.token->expires_at, now))) +
                   ",\"valid\":" + (core::is_unexpired(*row.token, now) ? "true" : "false") +
                   ",\"obtained_in_the_future\":" +
                   (core::cached_state(*row.token, now) == core::CachedState::from_the_future
                        ? "true"
                        : "false") +
                   ",\"from_shared_cache\":" + (row.from_shared ? "true" : "false") + "}";
        } else {
            out += "{\"cached\":false}";
        }
        out += "}";
    }
    return out + "]}\n";
}

} // namespace

int status_command(Context& ctx) {
    const auto rows = collect(ctx);
    const auto now = Context::now();
    if (ctx.invocation.has("json")) {
        print(status_json(rows, now));
        return rows.empty() ? static_cast<int>(Exit::not_configured) : 0;
    }
    if (rows.empty()) {
        throw Error(Exit::not_configured,
                    "no profiles configured; run: iotspot-helper configure --client-id ID");
    }
    std::string out;
    for (const auto& row : rows) {
        out += "profile \"" + row.name + "\"\n";
        if (row.profile) {
            out += "  client id:  " + row.profile->client_id +
                   (row.profile->client_id_from_environment ? " (from IOTSPOT_CLIENT_ID)" : "") +
                   "\n";
            out += "  token URL:  " + util::without_userinfo(row.profile->token_url) + "\n";
            out += "  scope:      " + row.profile->scope + "\n";
            out += "  API URL:    " + row.profile->api_url + "\n";
            const std::string rotation = rotation_text(row);
            out += "  secret:     " + row.secret + (rotation.empty() ? "" : "; " + rotation) + "\n";
            if (row.shared) {
                out += "  shared cache: " + shared_text(row) + "\n";
            }
            out += "  counters:   this host " + counters_text(row.host) +
                   (row.fleet ? "; the fleet, last 28 days: " + counters_text(*row.fleet) : "") +
                   "\n";
        } else {
            out += "  problem:    " + row.problem + "\n";
        }
        out += "  token:      " + token_text(row, now) + "\n";
    }
    print(out);
    return 0;
}

namespace {

// Drops the cached token of profile `name`; a configured profile's shared entry too, while
// it holds the same token (TokenService::forget_refused_token).
bool drop_token(Context& ctx, const std::string& name) {
    std::optional<core::Profile> profile;
    try {
        profile = ctx.profile(name);
    } catch (const Error&) {
        // Not configured (any more): only its local token can be dropped.
    }
    return profile ? ctx.service.forget_refused_token(*profile) : ctx.service.forget_token(name);
}

} // namespace

int logout_command(Context& ctx) {
    const bool all = ctx.invocation.has("all");
    if (all && ctx.invocation.has("profile")) {
        throw Error(Exit::usage, "logout takes --profile P or --all, not both");
    }
    std::vector<std::string> names;
    if (all) {
        const auto configured = ctx.configured_profiles();
        std::set<std::string> set(configured.begin(), configured.end());
        for (const auto& entry : ctx.service.cached_entries()) {
            set.insert(entry.profile);
        }
        names.assign(set.begin(), set.end());
    } else {
        names.push_back(ctx.profile_name());
    }
    const bool forget_secret = ctx.invocation.has("forget-secret");
    std::string out;
    for (const auto& name : names) {
        const bool dropped = drop_token(ctx, name);
        out += dropped ? "Dropped the cached token of profile \"" + name + "\".\n"
                       : "No cached token for profile \"" + name + "\".\n";
        if (forget_secret && exists(ctx.paths.secret_db())) {
            store::SecretStore store(ctx.paths.secret_db());
            if (store.erase(name)) {
                out += "Deleted the stored client secret of profile \"" + name + "\".\n";
            }
            if (store.erase(store::next_secret_slot(name))) {
                out += "Deleted the stored next client secret of profile \"" + name + "\".\n";
            }
            if (store.erase(service::redis_password_slot(name))) {
                out += "Deleted the stored Redis password of profile \"" + name + "\".\n";
            }
        }
    }
    print(out);
    return 0;
}

} // namespace iotspot::cli
