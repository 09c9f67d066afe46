// The token server's answer as bytes off the wire, read as the token client reads it
// (net/http_response.h): the head, then the body as chunked, Content-Length or the end of
// the stream frame it. Whatever arrives, reading never crashes, stays bounded, and comes to
// the same answer however the bytes are split into reads (one byte at a time, or all at
// once); what is read is then classified like the token client does.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "net/http_response.h"
#include "net/token_reply.h"
#include "util/strings.h"

using namespace iotspot;

namespace {

constexpr std::int64_t now = 1764150000; // 2025-11-26T09:40:00Z

std::optional<net::Response> read(std::string_view wire, std::size_t step) {
    net::StringSource source(wire, step);
    net::BufferedReader in(source);
    return net::read_response(in, "POST");
}

bool same(const std::optional<net::Response>& a, const std::optional<net::Response>& b) {
    if (!a || !b) {
        return !a && !b;
    }
    return a->head.status == b->head.status && a->head.headers == b->head.headers &&
           a->body == b->body && a->state == b->state && a->reusable == b->reusable;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view wire(reinterpret_cast<const char*>(data), size);
    const auto response = read(wire, wire.size() + 1);
    FUZZ_CHECK(same(response, read(wire, 1)));
    FUZZ_CHECK(same(response, read(wire, 7)));
    if (!response) {
        return 0;
    }

    FUZZ_CHECK((response->head.status >= 200 || response->head.status == 101) &&
               response->head.status <= 999);
    for (const auto& [name, value] : response->head.headers) {
        FUZZ_CHECK(!name.empty() && std::none_of(name.begin(), name.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || c == ':' || c == ' ';
        }));
        FUZZ_CHECK(value.find_first_of("\r\n") == std::string::npos);
    }
    FUZZ_CHECK(response->body.size() <= net::max_body_bytes);
    FUZZ_CHECK(response->body.size() <= wire.size());
    FUZZ_CHECK(!response->reusable || response->state == net::Body::complete);
    const auto length = response->head.headers.find("content-length");
    const int status = response->head.status;
    if (status == 204 || status == 304 || status == 101) {
        FUZZ_CHECK(response->body.empty()); // no body, whatever Content-Length says
    } else if (response->state == net::Body::complete && length != response->head.headers.end() &&
               response->head.headers.count("transfer-encoding") == 0) {
        const auto declared = util::parse_int(util::trim(util::split(length->second, ',')[0]));
        FUZZ_CHECK(declared && static_cast<std::size_t>(*declared) == response->body.size());
    }

    net::HttpAnswer answer;
    answer.status = response->head.status;
    answer.headers = response->head.headers;
    answer.body = response->body;
    answer.truncated = response->state == net::Body::cut_short;
    const core::FetchResult result = net::interpret_answer(answer, "iotspot/openapi", now);
    if (result.code != core::Exit::ok) {
        FUZZ_CHECK(!result.message.empty() && iotspot::fuzz::is_one_line(result.message));
    } else {
        FUZZ_CHECK(answer.status == 200 && !answer.truncated);
    }
    return 0;
}
