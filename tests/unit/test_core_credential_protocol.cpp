#include <sstream>

#include "catch.h"
#include "core/config.h"
#include "core/credential_protocol.h"
#include "core/error.h"

using namespace iotspot::core;

namespace {

CredentialRequest read(const std::string& text) {
    std::istringstream in(text);
    return read_credential(in);
}

// The message of the Error(usage) that reading `text` throws; fails when it does not throw.
std::string read_error(const std::string& text) {
    try {
        read(text);
    } catch (const Error& error) {
        CHECK(error.code() == Exit::usage);
        return error.what();
    }
    FAIL("read_credential accepted the input");
    return {};
}

CredentialRequest request(const std::string& protocol, const std::string& host,
                          const std::string& path = "") {
    CredentialRequest r;
    r.protocol = protocol;
    r.host = host;
    r.path = path;
    return r;
}

} // namespace

TEST_CASE("credential protocol: reads what git sends") {
    const auto r = read("protocol=https\nhost=api.iotspot.co\npath=v1/ping\n"
                        "username=someone\npassword=pw\n");
    CHECK(r.protocol == "https");
    CHECK(r.host == "api.iotspot.co");
    CHECK(r.path == "v1/ping");
    CHECK(r.username == "someone");
    CHECK(r.password == "pw");
    CHECK(r.attributes == 5);
}

TEST_CASE("credential protocol: the request ends at a blank line and the rest is not read") {
    std::istringstream in("protocol=https\nhost=a.example\n\nhost=b.example\n");
    const auto r = read_credential(in);
    CHECK(r.host == "a.example");
    std::string rest;
    std::getline(in, rest);
    CHECK(rest == "host=b.example");
}

TEST_CASE("credential protocol: end of input ends the request, even without a final newline") {
    CHECK(read("protocol=https\nhost=a.example").host == "a.example");
    CHECK(read("").attributes == 0);
    CHECK(read("\n").attributes == 0);
}

TEST_CASE("credential protocol: CRLF line endings are accepted") {
    const auto r = read("protocol=https\r\nhost=a.example\r\n\r\nhost=ignored\r\n");
    CHECK(r.protocol == "https");
    CHECK(r.host == "a.example");
}

TEST_CASE("credential protocol: unknown keys are ignored, a repeated key keeps the last value") {
    const auto r = read("future_key=x\nhost=a.example\n=empty key\nhost=b.example\nquit=0\n");
    CHECK(r.host == "b.example");
    CHECK(r.attributes == 5);
}

TEST_CASE("credential protocol: a value may contain '=' and spaces") {
    CHECK(read("path=a=b c\n").path == "a=b c");
}

TEST_CASE("credential protocol: key[] arrays append, an empty value clears them") {
    const auto r = read("capability[]=authtype\nwwwauth[]=Basic realm=\"x\"\n"
                        "capability[]=state\nwwwauth[]=\nwwwauth[]=Bearer\nunknown[]=x\n");
    CHECK(r.capabilities == std::vector<std::string>{"authtype", "state"});
    CHECK(r.wwwauth == std::vector<std::string>{"Bearer"});
    CHECK(r.has_capability("authtype"));
    CHECK_FALSE(r.has_capability("auth"));
    CHECK_FALSE(read("capability=authtype\n").has_capability("authtype"));
}

TEST_CASE("credential protocol: url= sets protocol, user, host and path like git") {
    const auto r = read("url=https://user%40corp:pw@API.example:8443//v1/things/?x=1\n");
    CHECK(r.protocol == "https");
    CHECK(r.username == "user@corp");
    CHECK(r.password == "pw");
    CHECK(r.host == "API.example:8443");
    CHECK(r.path == "v1/things/?x=1");

    const auto plain = read("path=old\nurl=https://a.example\n");
    CHECK(plain.host == "a.example");
    CHECK(plain.path.empty());
    CHECK(read("url=https://a.example/v1%2Fx/\n").path == "v1/x");
}

TEST_CASE("credential protocol: protocol errors name the line and never echo it") {
    const std::string no_equals = read_error("protocol=https\nsecret-looking-line\n");
    CHECK(no_equals.find("line 2 has no '='") != std::string::npos);
    CHECK(no_equals.find("secret-looking-line") == std::string::npos);

    CHECK(read_error(std::string("host=a\0b\n", 9)).find("line 1 contains a NUL byte") !=
          std::string::npos);
    CHECK(read_error("url=not a url\n").find("line 1 has a url=") != std::string::npos);
    CHECK(read_error("url=https://a.example/%0Ax\n").find("url=") != std::string::npos);
}

TEST_CASE("credential protocol: lines up to 65535 bytes are accepted, longer ones refused") {
    const std::string longest = "path=" + std::string(credential_max_line - 5, 'a');
    CHECK(read(longest + "\n").path.size() == credential_max_line - 5);
    CHECK(read(longest + "\r\n").path.size() == credential_max_line - 5);
    CHECK(read_error("protocol=https\n" + longest + "a\n").find("line 2 is longer than 65535") !=
          std::string::npos);
    CHECK(read_error(longest + "a").find("longer than 65535") != std::string::npos);
}

TEST_CASE("credential protocol: input over 1 MiB is refused without reading it all") {
    std::string line = "k=" + std::string(1000, 'v') + "\n";
    std::string big;
    while (big.size() <= 3 * credential_max_input) {
        big += line;
    }
    std::istringstream in(big);
    try {
        read_credential(in);
        FAIL("accepted 3 MiB");
    } catch (const Error& error) {
        CHECK(error.code() == Exit::usage);
        CHECK(std::string(error.what()).find("larger than 1 MiB") != std::string::npos);
    }
    CHECK(static_cast<std::size_t>(in.tellg()) <= credential_max_input + 1);
}

TEST_CASE("credential protocol: write_credential writes key=value lines in order") {
    std::ostringstream out;
    write_credential(out, {{"username", "id"}, {"password", "tok.en="}, {"capability[]", "x"}});
    CHECK(out.str() == "username=id\npassword=tok.en=\ncapability[]=x\n");
}

TEST_CASE("credential protocol: write_credential refuses line breaks and NUL, writing nothing") {
    for (const std::string& bad :
         {std::string("a\nb"), std::string("a\rb"), std::string("a\0b", 3)}) {
        std::ostringstream out;
        CHECK_THROWS_AS(write_credential(out, {{"username", "id"}, {"password", bad}}), Error);
        CHECK(out.str().empty());
    }
    std::ostringstream out;
    CHECK_THROWS_AS(write_credential(out, {{"a=b", "x"}}), Error);
    CHECK_THROWS_AS(write_credential(out, {{"", "x"}}), Error);
    CHECK(out.str().empty());
}

TEST_CASE("credential protocol: api_url matches scheme and host, letter case ignored") {
    const std::string api = "https://api.iotspot.co";
    CHECK(api_url_matches(request("https", "api.iotspot.co"), api));
    CHECK(api_url_matches(request("HTTPS", "API.IotSpot.CO"), api));
    CHECK(api_url_matches(request("https", "api.iotspot.co"), api + "/"));
    CHECK_FALSE(api_url_matches(request("http", "api.iotspot.co"), api));
    CHECK_FALSE(api_url_matches(request("https", "app.iotspot.co"), api));
    CHECK_FALSE(api_url_matches(request("https", "iotspot.co"), api));
    CHECK_FALSE(api_url_matches(request("https", "api.iotspot.co.evil.example"), api));
    CHECK_FALSE(api_url_matches(request("https", "evil.example"), api));
}

TEST_CASE("credential protocol: the default api_url is https on iotspot.co and every host under "
          "it") {
    const std::string api = default_api_url;
    CHECK(api == "https://*.iotspot.co");
    for (const char* host : {"iotspot.co", "api.iotspot.co", "app.iotspot.co", "API.IOTSPOT.CO",
                             "a.b.iotspot.co", "api.iotspot.co:443", "iotspot.co:443"}) {
        INFO(host);
        CHECK(api_url_matches(request("https", host), api));
        CHECK(api_url_matches(request("https", host, "v1/ping"), api));
    }
    for (const char* host : {"evil-iotspot.co", "apiiotspot.co", "iotspot.co.evil.example",
                             "api.iotspot.co.evil.example", "api.iotspot.com", "iotspot.com", "co",
                             ".iotspot.co.", "api.iotspot.co:8443", "evil.example"}) {
        INFO(host);
        CHECK_FALSE(api_url_matches(request("https", host), api));
    }
    CHECK_FALSE(api_url_matches(request("http", "api.iotspot.co"), api));
    CHECK_FALSE(api_url_matches(request("http", "iotspot.co"), api));
}

TEST_CASE("credential protocol: a '*.' host keeps the port and path rules") {
    CHECK(api_url_matches(request("https", "a.example:8443", "v1/x"), "https://*.example:8443/v1"));
    CHECK_FALSE(
        api_url_matches(request("https", "a.example", "v1/x"), "https://*.example:8443/v1"));
    CHECK_FALSE(
        api_url_matches(request("https", "a.example:8443", "v2"), "https://*.example:8443/v1"));
    CHECK_FALSE(api_url_matches(request("https", "xexample"), "https://*.example"));
}

TEST_CASE("credential protocol: default ports are implied, other ports must be equal") {
    CHECK(api_url_matches(request("https", "a.example:443"), "https://a.example"));
    CHECK(api_url_matches(request("https", "a.example"), "https://a.example:443/"));
    CHECK(api_url_matches(request("http", "a.example:80"), "http://a.example"));
    CHECK(api_url_matches(request("https", "127.0.0.1:8443"), "https://127.0.0.1:8443/"));
    CHECK_FALSE(api_url_matches(request("https", "127.0.0.1:8444"), "https://127.0.0.1:8443/"));
    CHECK_FALSE(api_url_matches(request("https", "127.0.0.1"), "https://127.0.0.1:8443/"));
    CHECK_FALSE(api_url_matches(request("https", "a.example:80"), "https://a.example"));
    CHECK(api_url_matches(request("https", "[::1]:443"), "https://[::1]/"));
    CHECK_FALSE(api_url_matches(request("https", "[::1]:8443"), "https://[::1]/"));
}

TEST_CASE("credential protocol: a request path must lie below the api_url path") {
    const std::string api = "https://a.example/v1";
    CHECK(api_url_matches(request("https", "a.example"), api)); // git sent no path
    CHECK(api_url_matches(request("https", "a.example", "v1"), api));
    CHECK(api_url_matches(request("https", "a.example", "v1/devices/7"), api));
    CHECK(api_url_matches(request("https", "a.example", "v1/devices"), api + "/"));
    CHECK_FALSE(api_url_matches(request("https", "a.example", "v10/devices"), api));
    CHECK_FALSE(api_url_matches(request("https", "a.example", "v2"), api));
    CHECK(api_url_matches(request("https", "a.example", "anything"), "https://a.example/"));
}

TEST_CASE("credential protocol: a request without protocol or host matches nothing") {
    CHECK_FALSE(api_url_matches(request("", "a.example"), "https://a.example"));
    CHECK_FALSE(api_url_matches(request("https", ""), "https://a.example"));
    CHECK_FALSE(api_url_matches(request("https", "a.example"), "not a url"));
}
