#include "core/api_request.h"

#include <algorithm>
#include <cctype>

#include "core/credential_protocol.h"
#include "core/error.h"
#include "util/strings.h"

namespace iotspot::core {

namespace {

bool is_token_char(unsigned char c) {
    return std::isalnum(c) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return is_token_char(static_cast<unsigned char>(c));
    });
}

// True when `text` holds a space, a control character or DEL: never part of a URL we send.
bool has_blank_or_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte <= 0x20 || byte == 0x7f;
    });
}

Error refused_url(const std::string& target, const std::string& why) {
    return Error(Exit::usage, "refusing to send the token to " +
                                  util::escape_control(util::without_userinfo(target)) + ": " +
                                  why);
}

// The base a PATH is appended to: the profile's api_url when it is a URL, without a trailing
// '/'; the documented API host when it is a pattern.
std::string path_base(const std::string& api_url) {
    if (api_url.find('*') != std::string::npos) {
        return default_api_base;
    }
    std::string base = api_url;
    base.erase(std::min(base.find_first_of("?#"), base.size()));
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    return base;
}

std::string url_for_path(const std::string& target, const std::string& api_url) {
    const std::string base = path_base(api_url);
    if (util::ascii_lower(base.substr(0, 8)) != "https://") {
        throw refused_url(base + target, "the profile's api_url " + api_url +
                                             " is not https; the token is only sent over https");
    }
    return base + target;
}

std::string url_as_given(const std::string& target, const std::string& api_url) {
    const auto scheme_end = target.find("://");
    const std::string scheme = util::ascii_lower(target.substr(0, scheme_end));
    if (scheme != "https") {
        throw refused_url(target, scheme == "http" ? "it is plain http; use https://"
                                                   : "only https:// URLs are accepted");
    }
    const std::string rest = target.substr(scheme_end + 3);
    const auto host_end = std::min(rest.find_first_of("/?#"), rest.size());
    const std::string authority = rest.substr(0, host_end);
    if (authority.find('@') != std::string::npos) {
        throw refused_url(target, "it carries a user name or password");
    }
    CredentialRequest request;
    request.protocol = "https";
    request.host = authority;
    std::string path = rest.substr(host_end);
    path.erase(0, path.find_first_not_of('/'));
    request.path = path.substr(0, std::min(path.find('#'), path.size()));
    if (authority.empty() || !api_url_matches(request, api_url)) {
        throw refused_url(target, "it is not the profile's API (api_url " + api_url +
                                      "); pass a PATH such as /v1/... or configure --api-url");
    }
    return "https://" + authority + rest.substr(host_end, rest.find('#') - host_end);
}

} // namespace

std::string api_request_url(const std::string& target, const std::string& api_url) {
    if (target.empty() || has_blank_or_control(target)) {
        throw Error(Exit::usage, "the PATH or URL is empty or holds spaces or control "
                                 "characters; encode them (%20)");
    }
    if (target.front() == '/') {
        return url_for_path(target, api_url);
    }
    if (target.find("://") != std::string::npos) {
        return url_as_given(target, api_url);
    }
    throw Error(Exit::usage, "\"" + util::escape_control(target) +
                                 "\" is neither a PATH starting with / (/v1/...) nor an https:// "
                                 "URL");
}

std::string checked_header(const std::string& line) {
    const auto colon = line.find(':');
    const std::string name(util::trim(std::string_view(line).substr(0, colon)));
    if (colon == std::string::npos || !is_token(name)) {
        throw Error(Exit::usage, "-H takes 'Name: value' with a header name, not \"" +
                                     util::escape_control(line) + "\"");
    }
    if (line.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
        throw Error(Exit::usage, "the -H value for " + name + " holds a line break or NUL");
    }
    const std::string lower = util::ascii_lower(name);
    if (lower == "authorization" || lower == "host" || lower == "content-length" ||
        lower == "transfer-encoding") {
        throw Error(Exit::usage, "-H " + name + " is not accepted: " +
                                     (lower == "host"            ? "the URL decides the host"
                                      : lower == "authorization" ? "the helper sends the token"
                                                                 : "--data decides the body"));
    }
    return name + ": " + std::string(util::trim(std::string_view(line).substr(colon + 1)));
}

std::string checked_method(const std::string& method) {
    if (!is_token(method) || method.size() > 32) {
        throw Error(Exit::usage, "-X takes an HTTP method such as GET or POST, not \"" +
                                     util::escape_control(method) + "\"");
    }
    std::string upper = method;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return upper;
}

ApiDecision decide_api_step(long status, std::optional<std::int64_t> retry_after, bool renewed,
                            double seconds_left) {
    if (status == 401) {
        return ApiDecision{renewed ? ApiStep::done : ApiStep::renew_token, 0};
    }
    const bool throttled = status == 429 || (status == 503 && retry_after);
    if (!throttled) {
        return ApiDecision{ApiStep::done, 0};
    }
    const double wait = retry_after ? static_cast<double>(*retry_after) : 1.0;
    if (wait >= seconds_left) {
        return ApiDecision{ApiStep::out_of_time, wait};
    }
    return ApiDecision{ApiStep::wait_and_send, wait};
}

bool is_api_error(long status) {
    return status >= 400 && status <= 599;
}

} // namespace iotspot::core
