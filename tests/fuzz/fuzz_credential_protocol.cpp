// The credential protocol as git speaks it: any input is read without crashing, refused with
// one usage line that never echoes the input, and what was read writes back and reads again
// to the same request.

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/credential_protocol.h"
#include "core/error.h"
#include "fuzz_check.h"

using namespace iotspot::core;

namespace {

using Attributes = std::vector<std::pair<std::string, std::string>>;

// The attributes a request holds, in the order the protocol lists them.
Attributes attributes_of(const CredentialRequest& request) {
    Attributes out;
    for (const auto& value : request.capabilities) {
        out.emplace_back("capability[]", value);
    }
    for (const auto& [key, value] :
         {std::pair<const char*, const std::string&>{"protocol", request.protocol},
          {"host", request.host},
          {"path", request.path},
          {"username", request.username},
          {"password", request.password}}) {
        if (!value.empty()) {
            out.emplace_back(key, value);
        }
    }
    for (const auto& value : request.wwwauth) {
        out.emplace_back("wwwauth[]", value);
    }
    for (const auto& value : request.state) {
        out.emplace_back("state[]", value);
    }
    return out;
}

bool same(const CredentialRequest& a, const CredentialRequest& b) {
    return a.protocol == b.protocol && a.host == b.host && a.path == b.path &&
           a.username == b.username && a.password == b.password &&
           a.capabilities == b.capabilities && a.wwwauth == b.wwwauth && a.state == b.state;
}

bool holds_cr(const Attributes& attributes) {
    for (const auto& [key, value] : attributes) {
        if (value.find('\r') != std::string::npos) {
            return true;
        }
    }
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    std::istringstream in(input);
    CredentialRequest request;
    try {
        request = read_credential(in);
    } catch (const Error& error) {
        const std::string message = error.what();
        FUZZ_CHECK(error.code() == Exit::usage);
        FUZZ_CHECK(iotspot::fuzz::is_one_line(message));
        FUZZ_CHECK(message.size() < 200); // names the line number, never echoes the line
        return 0;
    }

    // Reading back what is written gives the same request; a value with a CR (which the
    // reader keeps inside a line) is the only thing the writer refuses.
    const Attributes attributes = attributes_of(request);
    std::ostringstream out;
    try {
        write_credential(out, attributes);
    } catch (const Error& error) {
        FUZZ_CHECK(holds_cr(attributes));
        FUZZ_CHECK(out.str().empty()); // nothing half-written
        return 0;
    }
    FUZZ_CHECK(!holds_cr(attributes));
    std::istringstream again(out.str());
    const CredentialRequest reread = read_credential(again);
    FUZZ_CHECK(same(request, reread));

    for (const char* api :
         {"https://api.iotspot.co", "https://127.0.0.1:8443/api/v1", "http://[::1]:80/"}) {
        const bool matches = api_url_matches(request, api);
        FUZZ_CHECK(!matches || (!request.protocol.empty() && !request.host.empty()));
        FUZZ_CHECK(matches == api_url_matches(reread, api));
    }
    return 0;
}
