#include <string>
#include <string_view>

#include "catch.h"
#include "net/http_response.h"

using namespace iotspot;
using net::Body;

namespace {

std::optional<net::Response> read(std::string_view wire, std::size_t step = 4096) {
    net::StringSource source(wire, step);
    net::BufferedReader in(source);
    return net::read_response(in, "POST");
}

const std::string body = R"({"access_token":"a.b.c","expires_in":3600,"token_type":"Bearer"})";

} // namespace

TEST_CASE("http response: Content-Length frames the body, and the connection stays reusable") {
    for (std::size_t step : {1u, 3u, 4096u}) {
        const auto response = read("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   "Content-Length: " +
                                       std::to_string(body.size()) + "\r\n\r\n" + body + "extra",
                                   step);
        REQUIRE(response);
        CHECK(response->head.status == 200);
        CHECK(response->head.headers.at("content-type") == "application/json");
        CHECK(response->body == body);
        CHECK(response->state == Body::complete);
        CHECK(response->reusable);
    }
}

TEST_CASE("http response: a chunked body is joined, its trailers skipped") {
    const auto response = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n");
    REQUIRE(response);
    CHECK(response->body == "hello world");
    CHECK(response->state == Body::complete);
    CHECK(response->reusable);
}

TEST_CASE("http response: an interim 100 Continue is skipped") {
    const auto response =
        read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many\r\nRetry-After: 3\r\n"
             "Content-Length: 2\r\n\r\n{}");
    REQUIRE(response);
    CHECK(response->head.status == 429);
    CHECK(response->head.headers.at("retry-after") == "3");
}

TEST_CASE("http response: a body cut short, too large, or ended by the close") {
    auto response = read("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    REQUIRE(response);
    CHECK(response->state == Body::cut_short);
    CHECK_FALSE(response->reusable);

    response = read("HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n");
    REQUIRE(response);
    CHECK(response->state == Body::too_large);

    response = read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    REQUIRE(response);
    CHECK(response->state == Body::cut_short);

    response = read("HTTP/1.0 200 OK\r\n\r\n" + body);
    REQUIRE(response);
    CHECK(response->body == body);
    CHECK(response->state == Body::complete);
    CHECK_FALSE(response->reusable); // the end of the stream ended it
}

TEST_CASE("http response: Connection: close, and HTTP/1.0 without keep-alive, end reuse") {
    CHECK_FALSE(
        read("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")->reusable);
    CHECK_FALSE(read("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")->reusable);
    CHECK(read("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")->reusable);
}

TEST_CASE("http response: what is not HTTP/1.x is refused, not guessed at") {
    const char* refused[] = {
        "",
        "garbage\r\n\r\n",
        "HTTP/2 200\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", // the head never ends
    };
    for (const char* wire : refused) {
        INFO(wire);
        CHECK_FALSE(read(wire));
    }
    CHECK_FALSE(read("HTTP/1.1 200 OK\r\nX-Long: " + std::string(9000, 'a') + "\r\n\r\n"));
}

TEST_CASE("http response: reading lines keeps what follows for the next read") {
    net::StringSource source("one\r\ntwo\nthree", 2);
    net::BufferedReader in(source);
    CHECK(in.line(10) == "one");
    CHECK(in.line(10) == "two");
    std::string rest;
    CHECK(in.to_end(100, rest));
    CHECK(rest == "three");
    CHECK(in.ended());
    CHECK(in.received() == 14);
}
