#include "core/credential_protocol.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "util/strings.h"

namespace iotspot::core {

namespace {

constexpr const char* format_hint = "expected key=value lines, see git-credential(1)";

struct UrlParts {
    std::string scheme;
    std::string username;
    std::string password;
    std::string host;
    std::string path; // decoded, without leading or trailing '/'
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// %XX escapes decoded; anything else, malformed escapes included, kept as it is (as git does).
std::string url_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high >= 0 && low >= 0) {
                out.push_back(static_cast<char>(high * 16 + low));
                i += 2;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

bool has_line_break_or_nul(std::string_view text) {
    return text.find_first_of(std::string_view("\n\r\0", 3)) != std::string_view::npos;
}

// scheme://[user[:password]@]host[:port][/path][?query][#fragment], split as git's
// credential_from_url() does; nullopt without "://" or with an encoded line break or NUL.
std::optional<UrlParts> split_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) {
        return std::nullopt;
    }
    UrlParts parts;
    parts.scheme = std::string(url.substr(0, scheme_end));
    std::string_view rest = url.substr(scheme_end + 3);
    const auto host_end = std::min(rest.find_first_of("/?#"), rest.size());
    std::string_view authority = rest.substr(0, host_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        const auto colon = userinfo.find(':');
        parts.username = url_decode(userinfo.substr(0, colon));
        if (colon != std::string_view::npos) {
            parts.password = url_decode(userinfo.substr(colon + 1));
        }
        authority = authority.substr(at + 1);
    }
    parts.host = url_decode(authority);
    std::string_view path = rest.substr(host_end);
    while (!path.empty() && path.front() == '/') {
        path.remove_prefix(1);
    }
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    parts.path = url_decode(path);
    for (const auto* part :
         {&parts.scheme, &parts.username, &parts.password, &parts.host, &parts.path}) {
        if (has_line_break_or_nul(*part)) {
            return std::nullopt;
        }
    }
    return parts;
}

// Lower-cased host with the scheme's default port removed: "Example.COM:443" -> "example.com".
std::string normalize_host(const std::string& host, const std::string& scheme) {
    std::string lower = util::ascii_lower(host);
    const auto bracket = lower.rfind(']'); // IPv6 literal: the port follows "]:"
    const auto colon = lower.rfind(':');
    if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) {
        return lower;
    }
    if (bracket == std::string::npos && lower.find(':') != colon) {
        return lower; // a bare IPv6 address, no port
    }
    const std::string port = lower.substr(colon + 1);
    if (port.empty() || (scheme == "https" && port == "443") ||
        (scheme == "http" && port == "80")) {
        lower.resize(colon);
    }
    return lower;
}

// True when the normalized `host` is `pattern`, or, for a pattern "*.DOMAIN", DOMAIN itself or
// any host whose name ends in ".DOMAIN".
bool host_matches(const std::string& host, const std::string& pattern) {
    if (pattern.rfind("*.", 0) != 0) {
        return host == pattern;
    }
    const std::string domain = pattern.substr(2);
    const std::string suffix = "." + domain;
    return host == domain ||
           (host.size() > suffix.size() &&
            host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0);
}

// The non-empty '/'-separated segments of `path`, which ends at '?' or '#'.
std::vector<std::string_view> path_segments(std::string_view path) {
    path = path.substr(0, std::min(path.find_first_of("?#"), path.size()));
    std::vector<std::string_view> segments;
    for (const auto segment : util::split(path, '/')) {
        if (!segment.empty()) {
            segments.push_back(segment);
        }
    }
    return segments;
}

[[noreturn]] void protocol_error(std::size_t line, const std::string& problem) {
    throw Error(Exit::usage, "credential input line " + std::to_string(line) + " " + problem +
                                 "; " + format_hint);
}

void apply(CredentialRequest& request, const std::string& line, std::size_t number) {
    const auto equals = line.find('=');
    if (equals == std::string::npos) {
        protocol_error(number, "has no '='");
    }
    const std::string key = line.substr(0, equals);
    std::string value = line.substr(equals + 1);
    ++request.attributes;

    if (key.size() > 2 && key.compare(key.size() - 2, 2, "[]") == 0) {
        const std::string name = key.substr(0, key.size() - 2);
        std::vector<std::string>* list = name == "capability" ? &request.capabilities
                                         : name == "wwwauth"  ? &request.wwwauth
                                         : name == "state"    ? &request.state
                                                              : nullptr;
        if (list != nullptr) {
            if (value.empty()) {
                list->clear();
            } else {
                list->push_back(std::move(value));
            }
        }
    } else if (key == "protocol") {
        request.protocol = std::move(value);
    } else if (key == "host") {
        request.host = std::move(value);
    } else if (key == "path") {
        request.path = std::move(value);
    } else if (key == "username") {
        request.username = std::move(value);
    } else if (key == "password") {
        request.password = std::move(value);
    } else if (key == "url") {
        const auto parts = split_url(value);
        if (!parts) {
            protocol_error(number, "has a url= that is not scheme://host/path");
        }
        request.protocol = parts->scheme;
        request.username = parts->username;
        request.password = parts->password;
        request.host = parts->host;
        request.path = parts->path;
    }
}

} // namespace

bool CredentialRequest::has_capability(std::string_view name) const {
    return std::find(capabilities.begin(), capabilities.end(), name) != capabilities.end();
}

CredentialRequest read_credential(std::istream& in) {
    CredentialRequest request;
    std::streambuf* const buffer = in.rdbuf();
    std::size_t total = 0;
    std::string line;
    for (std::size_t number = 1;; ++number) {
        line.clear();
        bool ended = false;
        for (int c = buffer ? buffer->sbumpc() : EOF; c != EOF; c = buffer->sbumpc()) {
            if (++total > credential_max_input) {
                throw Error(Exit::usage,
                            "credential input is larger than 1 MiB; " + std::string(format_hint));
            }
            if (c == '\n') {
                ended = true;
                break;
            }
            if (c == '\0') {
                protocol_error(number, "contains a NUL byte");
            }
            line.push_back(static_cast<char>(c));
            if (line.size() > credential_max_line + 1) { // + 1: room for the CR of a CRLF
                break;
            }
        }
        if (ended && !line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.size() > credential_max_line) {
            protocol_error(number, "is longer than 65535 bytes");
        }
        if (line.empty()) {
            return request; // a blank line, or the end of input
        }
        apply(request, line, number);
        if (!ended) {
            return request;
        }
    }
}

void write_credential(std::ostream& out,
                      const std::vector<std::pair<std::string, std::string>>& attributes) {
    for (const auto& [key, value] : attributes) {
        if (key.empty() || key.find('=') != std::string::npos || has_line_break_or_nul(key) ||
            has_line_break_or_nul(value)) {
            throw Error(Exit::failure, "cannot write the credential attribute \"" +
                                           (has_line_break_or_nul(key) ? std::string("?") : key) +
                                           "\": it holds a line break or NUL byte; please report "
                                           "it");
        }
    }
    for (const auto& [key, value] : attributes) {
        out << key << '=' << value << '\n';
    }
    out.flush();
}

bool api_url_matches(const CredentialRequest& request, const std::string& api_url) {
    if (request.protocol.empty() || request.host.empty()) {
        return false;
    }
    const auto api = split_url(api_url);
    if (!api || api->host.empty()) {
        return false;
    }
    const std::string scheme = util::ascii_lower(api->scheme);
    if (util::ascii_lower(request.protocol) != scheme ||
        !host_matches(normalize_host(request.host, scheme), normalize_host(api->host, scheme))) {
        return false;
    }
    if (request.path.empty()) {
        return true;
    }
    const auto wanted = path_segments(request.path);
    const auto prefix = path_segments(api->path);
    return prefix.size() <= wanted.size() &&
           std::equal(prefix.begin(), prefix.end(), wanted.begin());
}

} // namespace iotspot::core
