// serve's request policy, with requests written as HTTP requests:
//
//   GET /v1/token?profile=default HTTP/1.1
//   Host: 127.0.0.1:47381
//   X-Iotspot-Key: <the key>
//
// ("KEY" in a header value stands for the right key, so the fuzzer can reach past the key
// check.) A token is handed out only to a GET of /v1/token, and dropped only for a DELETE of
// it, with the right key and Host, no Origin and a valid profile name; every answer is a JSON
// object that never holds the key.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/local_endpoint.h"
#include "fuzz_check.h"
#include "util/strings.h"

using namespace iotspot;

namespace {

constexpr int port = 47381;
const std::string key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

core::LocalRequest parse_request(std::string_view input) {
    core::LocalRequest request;
    const auto next_line = [&input]() {
        const auto end = input.find('\n');
        std::string_view line = input.substr(0, end);
        input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        return line;
    };
    const std::string_view first = next_line();
    const auto space = first.find(' ');
    request.method = std::string(first.substr(0, space));
    if (space != std::string_view::npos) {
        const std::string_view rest = first.substr(space + 1);
        request.target = std::string(rest.substr(0, rest.find(' ')));
    }
    while (!input.empty()) {
        const std::string_view line = next_line();
        const auto colon = line.find(':');
        std::string value = colon == std::string_view::npos
                                ? std::string()
                                : std::string(util::trim(line.substr(colon + 1)));
        if (value == "KEY") {
            value = key;
        }
        request.headers[util::ascii_lower(util::trim(line.substr(0, colon)))] = value;
    }
    return request;
}

bool has_header(const core::LocalRequest& request, const char* name, const std::string& value) {
    const auto it = request.headers.find(name);
    return it != request.headers.end() && it->second == value;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const core::LocalRequest request =
        parse_request(std::string_view(reinterpret_cast<const char*>(data), size));
    std::string asked;
    bool looked_up = false;
    bool erased = false;
    const auto check_profile = [&](const std::string& profile) {
        asked = profile;
        if (profile == "missing") {
            throw core::Error(core::Exit::not_configured, "profile \"missing\" is not configured");
        }
    };
    const auto response = core::answer_local_request(
        request, key, port, "default",
        [&](const std::string& profile) -> std::string {
            looked_up = true;
            check_profile(profile);
            return "{\"access_token\":\"t\"}\n";
        },
        [&](const std::string& profile) {
            erased = true;
            check_profile(profile);
            return true;
        });

    FUZZ_CHECK(!(looked_up && erased));
    if (looked_up || erased) {
        FUZZ_CHECK(request.method == (looked_up ? "GET" : "DELETE"));
        FUZZ_CHECK(request.target.substr(0, request.target.find('?')) == "/v1/token");
        FUZZ_CHECK(has_header(request, "x-iotspot-key", key));
        FUZZ_CHECK(request.headers.count("origin") == 0);
        const std::string host = util::ascii_lower(request.headers.at("host"));
        FUZZ_CHECK(host == "127.0.0.1:47381" || host == "localhost:47381");
        FUZZ_CHECK(util::is_valid_profile_name(asked));
    }
    FUZZ_CHECK((response.status == 200) == ((looked_up || erased) && asked != "missing"));
    FUZZ_CHECK(response.body.size() >= 3 && response.body.front() == '{' &&
               response.body.substr(response.body.size() - 2) == "}\n");
    FUZZ_CHECK(response.body.find(key) == std::string::npos);
    FUZZ_CHECK(response.note.find(key) == std::string::npos);
    return 0;
}
