#include "catch.h"
#include "server/http_request.h"

using namespace iotspot;
using server::parse_request_head;
using server::request_head_end;

TEST_CASE("http request: the end of a head is its blank line, CRLF or bare LF") {
    CHECK(request_head_end("GET / HTTP/1.1\r\nHost: a\r\n") == std::nullopt);
    CHECK(request_head_end("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 27u);
    CHECK(request_head_end("GET / HTTP/1.1\nHost: a\n\nrest") == 24u);
}

TEST_CASE("http request: a good request gives method, target and lower-cased headers") {
    const auto parsed = parse_request_head(
        "GET /v1/token?profile=a HTTP/1.1\r\nHost: 127.0.0.1:1\r\nX-Iotspot-Key:  k \r\n\r\n");
    REQUIRE(parsed.request);
    CHECK(parsed.request->method == "GET");
    CHECK(parsed.request->target == "/v1/token?profile=a");
    CHECK(parsed.request->headers.at("host") == "127.0.0.1:1");
    CHECK(parsed.request->headers.at("x-iotspot-key") == "k");
}

TEST_CASE("http request: anything a well-behaved client would not send is refused") {
    const char* refused[] = {
        "\r\n",
        "GARBAGE\r\n\r\n",
        "GET /v1/\x1b[31m HTTP/1.1\r\n\r\n",
        "GET http://evil/ HTTP/1.1\r\n\r\n",
        "G\x07T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n",
        "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\x1b]0;t\x07\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
        "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (const char* head : refused) {
        INFO(server::printable(head));
        const auto parsed = parse_request_head(head);
        CHECK_FALSE(parsed.request);
        CHECK(parsed.status == 400);
        CHECK_FALSE(parsed.problem.empty());
    }
    CHECK(parse_request_head("GET / HTTP/2.0\r\n\r\n").status == 505);
    CHECK(parse_request_head("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").request);
}

TEST_CASE("http request: printable escapes control bytes, backslashes and non-ASCII") {
    CHECK(server::printable("/v1/\x1b[31m\x07") == "/v1/\\x1b[31m\\x07");
    CHECK(server::printable("a\\b") == "a\\x5cb");
    CHECK(server::printable("\xc3\xa9") == "\\xc3\\xa9");
}
