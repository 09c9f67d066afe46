#include "net/http_head.h"

#include <algorithm>
#include <vector>

#include "util/strings.h"

namespace iotspot::net {

namespace {

bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= '0' && u <= '9') {
        return true;
    }
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    for (const char c : text) {
        if (!is_token_char(c)) {
            return false;
        }
    }
    return true;
}

bool is_visible_ascii(std::string_view text) {
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e) {
            return false;
        }
    }
    return !text.empty();
}

// A field value: visible ASCII, spaces and tabs, and (as RFC 9110 allows) bytes >= 0x80.
bool is_field_value(std::string_view text) {
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f) {
            return false;
        }
    }
    return true;
}

std::string_view trim_spaces(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

// The head's lines without their line ends, up to (not including) the blank line.
std::vector<std::string_view> head_lines(std::string_view head) {
    std::vector<std::string_view> lines;
    while (!head.empty()) {
        const auto end = head.find('\n');
        std::string_view line = head.substr(0, end);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            break;
        }
        lines.push_back(line);
        if (end == std::string_view::npos) {
            break;
        }
        head.remove_prefix(end + 1);
    }
    return lines;
}

ParsedHead refused(int status, std::string problem) {
    ParsedHead parsed;
    parsed.status = status;
    parsed.problem = std::move(problem);
    return parsed;
}

} // namespace

std::optional<std::size_t> request_head_end(std::string_view received) {
    for (std::size_t at = received.find('\n'); at != std::string_view::npos;
         at = received.find('\n', at + 1)) {
        if (at + 1 < received.size() && received[at + 1] == '\n') {
            return at + 2;
        }
        if (at + 2 < received.size() && received[at + 1] == '\r' && received[at + 2] == '\n') {
            return at + 3;
        }
    }
    return std::nullopt;
}

ParsedHead parse_request_head(std::string_view head) {
    const auto lines = head_lines(head);
    if (lines.empty()) {
        return refused(400, "empty request");
    }
    const std::string_view line = lines.front();
    const auto first_space = line.find(' ');
    const auto last_space = line.rfind(' ');
    if (first_space == std::string_view::npos || first_space == last_space) {
        return refused(400, "malformed request line");
    }
    const std::string_view method = line.substr(0, first_space);
    const std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
    const std::string_view version = line.substr(last_space + 1);
    if (!is_token(method)) {
        return refused(400, "malformed method");
    }
    if (!is_visible_ascii(target) || target.front() != '/') {
        return refused(400, "malformed request target");
    }
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        return refused(version.substr(0, 5) == "HTTP/" ? 505 : 400, "unsupported HTTP version");
    }
    if (lines.size() - 1 > max_header_fields) {
        return refused(400, "too many header fields");
    }

    core::LocalRequest request;
    request.method = std::string(method);
    request.target = std::string(target);
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::string_view field = lines[i];
        if (field.front() == ' ' || field.front() == '\t') {
            return refused(400, "folded header field");
        }
        const auto colon = field.find(':');
        if (colon == std::string_view::npos || !is_token(field.substr(0, colon))) {
            return refused(400, "malformed header field");
        }
        const std::string_view value = trim_spaces(field.substr(colon + 1));
        if (!is_field_value(value)) {
            return refused(400, "control character in a header field");
        }
        const std::string name = util::ascii_lower(field.substr(0, colon));
        if (!request.headers.emplace(name, std::string(value)).second) {
            return refused(400, "header field " + name + " given twice");
        }
    }
    if (request.headers.count("transfer-encoding") != 0) {
        return refused(400, "a request body is not accepted");
    }
    if (const auto length = request.headers.find("content-length");
        length != request.headers.end() && length->second != "0") {
        return refused(400, "a request body is not accepted");
    }
    ParsedHead parsed;
    parsed.request = std::move(request);
    return parsed;
}

std::string printable(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '\\') {
            out.push_back(c);
        } else {
            out += "\\x";
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0xf]);
        }
    }
    return out;
}

} // namespace iotspot::net
