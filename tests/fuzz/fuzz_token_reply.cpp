// The token server's answer, written like an HTTP response:
//
//   200                       status line: the status, then " truncated" when the body was cut
//   Date: Wed, 26 Nov 2025 09:40:00 GMT
//   Retry-After: 3            header lines up to a blank line
//
//   {"access_token":"...","expires_in":3600,"token_type":"Bearer"}
//
// Any answer is classified without crashing: ok only for a complete 200 with a token, a
// rejection only for a 4xx, every message one line, every Retry-After non-negative.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "net/token_reply.h"
#include "util/strings.h"

using namespace iotspot;

namespace {

constexpr std::int64_t now = 1764150000; // 2025-11-26T09:40:00Z

// Splits the input into the answer; `rest` keeps what follows the blank line.
net::HttpAnswer parse_answer(std::string_view input) {
    net::HttpAnswer answer;
    const auto next_line = [&input]() {
        const auto end = input.find('\n');
        const std::string_view line = input.substr(0, end);
        input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
        return util::trim(line);
    };
    const std::string_view status_line = next_line();
    const auto space = status_line.find(' ');
    answer.status =
        static_cast<int>(util::parse_int(status_line.substr(0, space)).value_or(0) % 1000);
    answer.truncated =
        space != std::string_view::npos && util::trim(status_line.substr(space)) == "truncated";
    while (!input.empty()) {
        const std::string_view line = next_line();
        if (line.empty()) {
            break;
        }
        const auto colon = line.find(':');
        answer.headers[util::ascii_lower(util::trim(line.substr(0, colon)))] =
            colon == std::string_view::npos ? std::string()
                                            : std::string(util::trim(line.substr(colon + 1)));
    }
    answer.body = std::string(input);
    return answer;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const net::HttpAnswer answer =
        parse_answer(std::string_view(reinterpret_cast<const char*>(data), size));
    const core::FetchResult result = net::interpret_answer(answer, "iotspot/openapi", now);

    switch (result.code) {
    case core::Exit::ok:
        FUZZ_CHECK(answer.status == 200 && !answer.truncated);
        FUZZ_CHECK(!result.access_token.empty() && result.message.empty());
        break;
    case core::Exit::rejected:
        FUZZ_CHECK(answer.status >= 400 && answer.status < 500);
        FUZZ_CHECK(!result.retryable);
        break;
    case core::Exit::network:
        break;
    default:
        FUZZ_FAIL("an exit code the token client never returns");
    }
    if (result.code != core::Exit::ok) {
        FUZZ_CHECK(!result.message.empty() && iotspot::fuzz::is_one_line(result.message));
        FUZZ_CHECK(result.access_token.empty());
    }
    FUZZ_CHECK(!result.retry_after || *result.retry_after >= 0);

    if (const auto date = answer.headers.find("date"); date != answer.headers.end()) {
        net::parse_http_date(date->second);
    }
    return 0;
}
