// serve's reading of a request head (server/http_request.h), as bytes off the wire:
//
//   GET /v1/token?profile=default HTTP/1.1
//   Host: 127.0.0.1:47381
//   X-Iotspot-Key: <the key>
//
// The head ends at its first blank line; a head that is accepted holds only what a
// well-behaved client sends (a token method, an origin-form target of visible ASCII,
// lower-cased token names, values without control characters, no body), and a refusal is a
// 400 or 505 with a reason. What the server logs of either (printable) is one line of
// printable ASCII.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "server/http_request.h"

using namespace iotspot;

namespace {

bool is_token(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        const bool alnum =
            (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
        if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

bool is_printable_ascii(std::string_view text) {
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e) {
            return false;
        }
    }
    return true;
}

// The end of the first blank line (LF LF or LF CR LF), found the slow way.
std::optional<std::size_t> first_blank_line_end(std::string_view text) {
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
        if (text[i] != '\n') {
            continue;
        }
        if (text[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
            return i + 3;
        }
    }
    return std::nullopt;
}

void check_accepted(const core::LocalRequest& request) {
    FUZZ_CHECK(is_token(request.method));
    FUZZ_CHECK(!request.target.empty() && request.target.front() == '/');
    FUZZ_CHECK(is_printable_ascii(request.target) && request.target.find(' ') == std::string::npos);
    FUZZ_CHECK(request.headers.size() <= server::max_header_fields);
    for (const auto& [name, value] : request.headers) {
        FUZZ_CHECK(is_token(name));
        for (const char c : name) {
            FUZZ_CHECK(c < 'A' || c > 'Z');
        }
        for (const char c : value) {
            const auto u = static_cast<unsigned char>(c);
            FUZZ_CHECK((u >= 0x20 || c == '\t') && u != 0x7f);
        }
    }
    FUZZ_CHECK(request.headers.count("transfer-encoding") == 0);
    const auto length = request.headers.find("content-length");
    FUZZ_CHECK(length == request.headers.end() || length->second == "0");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto end = server::request_head_end(input);
    FUZZ_CHECK(end == first_blank_line_end(input));
    const auto parsed = server::parse_request_head(input.substr(0, end.value_or(input.size())));
    if (parsed.request) {
        check_accepted(*parsed.request);
    } else {
        FUZZ_CHECK(parsed.status == 400 || parsed.status == 505);
        FUZZ_CHECK(!parsed.problem.empty());
        FUZZ_CHECK(is_printable_ascii(server::printable(parsed.problem)));
    }
    const std::string shown = server::printable(input);
    FUZZ_CHECK(is_printable_ascii(shown));
    FUZZ_CHECK(shown.size() >= input.size());
    return 0;
}
