// api: one request to the iotspot API with the profile's token, in the manner of `gh api`
// (core/api_request.h has the policy, the network module's ApiClient sends it).

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "cli/context.h"
#include "cli/net_module.h"
#include "core/api_client.h"
#include "core/api_request.h"
#include "core/error.h"
#include "util/fd.h"
#include "util/strings.h"

namespace iotspot::cli {

namespace {

using core::Error;
using core::Exit;
using Clock = std::chrono::steady_clock;

// Everything read from `fd` up to its end; Error(usage) past core::max_api_request_body. The
// buffer grows only by what arrived, so the bound holds before anything larger is allocated.
std::string read_bounded(int fd, const std::string& what) {
    std::string out;
    char block[65536];
    for (;;) {
        const ssize_t n = ::read(fd, block, sizeof block);
        if (n == 0) {
            return out;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(Exit::usage, "cannot read " + what + ": " + std::strerror(errno));
        }
        if (static_cast<std::size_t>(n) > core::max_api_request_body - out.size()) {
            throw Error(Exit::usage, what + " is larger than 16 MiB, the most --data sends");
        }
        out.append(block, static_cast<std::size_t>(n));
    }
}

// --data STRING, @FILE or @- (standard input), read once: a repeat sends the same bytes.
std::optional<std::string> request_body(const Invocation& invocation) {
    const auto data = invocation.value("data");
    if (!data) {
        return std::nullopt;
    }
    if (data->empty() || data->front() != '@') {
        if (data->size() > core::max_api_request_body) {
            throw Error(Exit::usage, "--data is larger than 16 MiB");
        }
        return *data;
    }
    const std::string path = data->substr(1);
    if (path == "-") {
        return read_bounded(STDIN_FILENO, "standard input");
    }
    const util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        throw Error(Exit::usage, "cannot open --data file " + util::escape_control(path) + ": " +
                                     std::strerror(errno));
    }
    return read_bounded(fd.get(), "--data file " + util::escape_control(path));
}

// The request as the command line gives it, without the token.
core::ApiRequest planned_request(Context& ctx, const core::Profile& profile) {
    const auto& invocation = ctx.invocation;
    if (invocation.arguments.empty()) {
        throw Error(Exit::usage,
                    "api needs a PATH (/v1/...) or URL; see iotspot-helper api --help");
    }
    core::ApiRequest request;
    request.url = core::api_request_url(invocation.arguments.front(), profile.api_url);
    request.body = request_body(invocation);
    const auto method = invocation.value("method");
    request.method = core::checked_method(method ? *method : request.body ? "POST" : "GET");
    bool has_content_type = false;
    bool has_accept = false;
    for (const auto& line : invocation.values("header")) {
        request.headers.push_back(core::checked_header(line));
        const std::string name = util::ascii_lower(util::trim(line.substr(0, line.find(':'))));
        has_content_type |= name == "content-type";
        has_accept |= name == "accept";
    }
    if (request.body && !has_content_type) {
        request.headers.emplace_back("Content-Type: application/json");
    }
    if (!has_accept) {
        request.headers.emplace_back("Accept: application/json, */*");
    }
    request.ca_file = profile.ca_file;
    return request;
}

// The status line and header fields for --include: each line escaped, CRLF kept.
std::string printable_head(const std::string& head) {
    std::string out;
    for (const auto line : util::split(head, '\n')) {
        const auto text = util::trim(line);
        if (!text.empty()) {
            out += util::escape_control(text) + "\r\n";
        }
    }
    return out + "\r\n";
}

std::string status_text(const core::ApiRequest& request, const core::ApiResponse& response) {
    return request.method + " " + util::escape_control(request.url) + " -> " +
           std::to_string(response.status);
}

// Prints the answer and returns the exit status (throws Error(api_error) for 4xx and 5xx).
int finish(Context& ctx, const core::ApiRequest& request, const core::ApiResponse& response) {
    std::string out = ctx.invocation.has("include") ? printable_head(response.head) : "";
    print(out + response.body);
    if (response.status >= 300 && response.status < 400) {
        ctx.log.warning("the API answered " + std::to_string(response.status) +
                        "; redirects are not followed with the token");
    }
    if (core::is_api_error(response.status)) {
        throw Error(Exit::api_error, "the API answered " + status_text(request, response) +
                                         "; its answer is on standard output");
    }
    return 0;
}

// How many seconds IOTSPOT_TIMEOUT leaves after `started`.
double seconds_left(const Context& ctx, Clock::time_point started) {
    const std::chrono::duration<double> spent = Clock::now() - started;
    return ctx.service.time_budget() - spent.count();
}

// Sends `request` with a token of `profile`, fetched from the cache or the token server.
core::ApiResponse send_with_token(Context& ctx, core::ApiClient& client, core::ApiRequest request,
                                  const core::Profile& profile, double left) {
    if (left <= 0) {
        throw Error(Exit::network, "api: IOTSPOT_TIMEOUT (" +
                                       std::to_string(ctx.service.time_budget()) +
                                       " s) ran out before the request could be sent again; "
                                       "try again, or raise IOTSPOT_TIMEOUT");
    }
    const auto token = ctx.service.get(profile, std::nullopt);
    request.headers.push_back("Authorization: Bearer " + token.access_token);
    request.timeout_seconds = std::max(1, static_cast<int>(std::ceil(left)));
    auto response = client.send(request, ctx.log);
    if (response.code != Exit::ok) {
        throw Error(response.code, response.message);
    }
    char timing[32];
    std::snprintf(timing, sizeof timing, " (%.3f s)", response.seconds);
    ctx.log.note("api: " + status_text(request, response) + timing);
    return response;
}

} // namespace

int api_command(Context& ctx) {
    const auto started = Clock::now();
    // A second token (after a 401) comes out of the same IOTSPOT_TIMEOUT.
    ctx.service.end_by(started + std::chrono::seconds(ctx.service.time_budget()));
    const core::Profile profile = ctx.profile();
    const core::ApiRequest request = planned_request(ctx, profile);
    const auto client = new_net_api_client();
    bool renewed = false;
    for (;;) {
        const auto response =
            send_with_token(ctx, *client, request, profile, seconds_left(ctx, started));
        const auto next = core::decide_api_step(response.status, response.retry_after, renewed,
                                                seconds_left(ctx, started));
        switch (next.step) {
        case core::ApiStep::done:
            return finish(ctx, request, response);
        case core::ApiStep::renew_token:
            ctx.service.forget_refused_token(profile);
            renewed = true;
            ctx.log.note("api: the API refused the cached token; fetching a fresh one and "
                         "sending the request once more");
            break;
        case core::ApiStep::wait_and_send:
            ctx.log.note("api: the API asked to wait " + std::to_string(next.wait) + " s");
            std::this_thread::sleep_for(std::chrono::duration<double>(next.wait));
            break;
        case core::ApiStep::out_of_time:
            print(response.body);
            throw Error(Exit::api_error,
                        "the API answered " + status_text(request, response) + " and asked to " +
                            "wait " + std::to_string(static_cast<long long>(next.wait)) +
                            " s, longer than IOTSPOT_TIMEOUT leaves; try again later");
        }
    }
}

} // namespace iotspot::cli
