#include "core/local_endpoint.h"

#include "core/crypto.h"
#include "core/error.h"
#include "core/output.h"
#include "util/strings.h"

namespace iotspot::core {

namespace {

LocalResponse refuse(int status, const std::string& error, const std::string& message) {
    return LocalResponse{
        status, "{\"error\":" + json_string(error) + ",\"message\":" + json_string(message) + "}\n",
        error};
}

bool host_allowed(const std::map<std::string, std::string>& headers, int port) {
    const auto it = headers.find("host");
    if (it == headers.end()) {
        return false;
    }
    const std::string host = util::ascii_lower(it->second);
    const std::string suffix = ":" + std::to_string(port);
    return host == "127.0.0.1" + suffix || host == "localhost" + suffix;
}

// The value of `name` in a query string "a=1&b=2"; empty when absent.
std::string query_value(std::string_view query, std::string_view name) {
    for (const auto pair : util::split(query, '&')) {
        const auto equals = pair.find('=');
        if (pair.substr(0, equals) == name) {
            return equals == std::string_view::npos ? std::string()
                                                    : std::string(pair.substr(equals + 1));
        }
    }
    return {};
}

int status_for(Exit code) {
    switch (code) {
    case Exit::usage:
        return 400;
    case Exit::not_configured:
        return 404;
    case Exit::rejected:
    case Exit::network:
        return 502;
    default:
        return 500;
    }
}

const char* error_for(Exit code) {
    switch (code) {
    case Exit::usage:
        return "bad_request";
    case Exit::not_configured:
        return "not_configured";
    case Exit::rejected:
    case Exit::network:
        return "token_server";
    default:
        return "local_store";
    }
}

// The answer to DELETE: whether a cached token of `profile` was dropped.
std::string erase_answer(const std::string& profile, bool dropped) {
    return "{\"profile\":" + json_string(profile) + ",\"dropped\":" + (dropped ? "true" : "false") +
           "}\n";
}

} // namespace

LocalResponse answer_local_request(const LocalRequest& request, const std::string& key, int port,
                                   const std::string& default_profile, const TokenLookup& lookup,
                                   const TokenEraser& erase) {
    if (request.headers.count("origin") != 0) {
        return refuse(403, "forbidden",
                      "requests from web pages (with an Origin header) are refused");
    }
    if (!host_allowed(request.headers, port)) {
        return refuse(403, "forbidden",
                      "the Host header must be 127.0.0.1:" + std::to_string(port) +
                          " or localhost:" + std::to_string(port));
    }
    const auto question = request.target.find('?');
    const std::string path = request.target.substr(0, question);
    if (path != "/v1/token") {
        return refuse(404, "not_found",
                      "the only endpoint is GET (or DELETE) /v1/token?profile=NAME");
    }
    if (request.method != "GET" && request.method != "DELETE") {
        return refuse(405, "method_not_allowed",
                      "use GET /v1/token?profile=NAME, or DELETE to drop a refused token");
    }
    const auto given = request.headers.find("x-iotspot-key");
    if (given == request.headers.end()) {
        return refuse(
            401, "missing_key",
            "send the header X-Iotspot-Key; `iotspot-helper serve --print-key` prints it");
    }
    if (!equal_constant_time(given->second, key)) {
        return refuse(401, "wrong_key",
                      "the X-Iotspot-Key header is wrong; `iotspot-helper serve --print-key` "
                      "prints the right one");
    }
    std::string profile =
        question == std::string::npos
            ? std::string()
            : query_value(std::string_view(request.target).substr(question + 1), "profile");
    if (profile.empty()) {
        profile = default_profile;
    }
    if (!util::is_valid_profile_name(profile)) {
        return refuse(400, "bad_request", "invalid profile name");
    }
    try {
        if (request.method == "DELETE") {
            const bool dropped = erase(profile);
            return LocalResponse{200, erase_answer(profile, dropped),
                                 (dropped ? "dropped the token of profile \"" : "no token of \"") +
                                     profile + "\""};
        }
        return LocalResponse{200, lookup(profile), "profile \"" + profile + "\""};
    } catch (const Error& error) {
        return refuse(status_for(error.code()), error_for(error.code()), error.what());
    }
}

} // namespace iotspot::core
