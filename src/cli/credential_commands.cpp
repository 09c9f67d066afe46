// get, store, erase: the git credential-helper protocol (core/credential_protocol.h).

#include <set>
#include <sstream>

#include "cli/context.h"
#include "cli/standard_input.h"
#include "core/credential_protocol.h"
#include "core/error.h"

namespace iotspot::cli {

namespace {

using core::Error;
using core::Exit;

core::CredentialRequest read_request() {
    auto request = core::read_credential(standard_input());
    if (request.attributes == 0) {
        throw Error(Exit::usage, "no credential request on standard input; expected key=value "
                                 "lines such as protocol=https and host=..., see "
                                 "git-credential(1)");
    }
    return request;
}

std::string describe(const core::CredentialRequest& request) {
    return request.protocol + "://" + request.host + (request.path.empty() ? "" : "/") +
           request.path;
}

// The profile that answers `request`: the one named by --profile or IOTSPOT_PROFILE if its
// api_url matches, else the first matching profile in name order; nullopt when none matches.
std::optional<core::Profile> answering_profile(Context& ctx,
                                               const core::CredentialRequest& request) {
    const bool named = ctx.invocation.has("profile") || ctx.env.get("IOTSPOT_PROFILE");
    const std::vector<std::string> names =
        named ? std::vector<std::string>{ctx.profile_name()} : ctx.configured_profiles();
    for (const auto& name : names) {
        const auto found = ctx.config().profiles.find(name);
        const std::string api_url = found != ctx.config().profiles.end() && found->second.api_url
                                        ? *found->second.api_url
                                        : core::default_api_url;
        if (!core::api_url_matches(request, api_url)) {
            ctx.log.note("profile \"" + name + "\" (api_url " + api_url + ") does not match " +
                         describe(request));
            continue;
        }
        core::Profile profile = ctx.profile(name);
        if (!request.username.empty() && request.username != profile.client_id) {
            ctx.log.note("profile \"" + name + "\" matches " + describe(request) +
                         ", but the request is for user \"" + request.username +
                         "\", not its client id");
            continue;
        }
        ctx.log.note("profile \"" + name + "\" answers " + describe(request));
        return profile;
    }
    ctx.log.note("no profile answers " + describe(request) +
                 "; answering nothing, so git asks its next helper");
    return std::nullopt;
}

} // namespace

int get_command(Context& ctx) {
    const auto min_ttl = ctx.invocation.seconds("min-ttl");
    const auto request = read_request();
    const auto profile = answering_profile(ctx, request);
    if (!profile) {
        return 0;
    }
    const auto token = ctx.service.get(*profile, min_ttl);
    std::vector<std::pair<std::string, std::string>> answer;
    if (request.has_capability("authtype")) {
        answer = {{"capability[]", "authtype"},
                  {"authtype", "Bearer"},
                  {"credential", token.access_token},
                  {"ephemeral", "1"}};
    }
    answer.emplace_back("username", profile->client_id);
    answer.emplace_back("password", token.access_token);
    answer.emplace_back("password_expiry_utc", std::to_string(token.times.expires_at));
    std::ostringstream out;
    core::write_credential(out, answer);
    print(out.str());
    return 0;
}

int store_command(Context& ctx) {
    read_request();
    ctx.log.note("store: ignored; tokens come only from the token server");
    return 0;
}

int erase_command(Context& ctx) {
    const auto request = read_request();
    if (const auto profile = answering_profile(ctx, request)) {
        const bool dropped = ctx.service.forget_refused_token(*profile);
        ctx.log.note(dropped
                         ? "erase: dropped the cached token of profile \"" + profile->name + "\""
                         : "erase: no cached token for profile \"" + profile->name + "\"");
    }
    return 0;
}

} // namespace iotspot::cli
