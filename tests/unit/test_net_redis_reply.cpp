#include <string>
#include <vector>

#include "catch.h"
#include "core/shared_cache.h"
#include "net/redis_reply.h"

using iotspot::net::Reply;
using iotspot::net::ReplyKind;
using iotspot::net::ReplyReader;
using iotspot::net::ReplyShape;
using iotspot::net::ReplyStatus;

namespace {

// Feeds `wire` in pieces of `piece` bytes (the last may be shorter), as reads would, and
// stops when the reader does.
ReplyStatus feed_in_pieces(ReplyReader& reader, const std::string& wire, std::size_t piece) {
    for (std::size_t at = 0; at < wire.size() && reader.status() == ReplyStatus::more;
         at += piece) {
        reader.feed(std::string_view(wire).substr(at, piece));
    }
    return reader.status();
}

// The reply, or the reason it was refused, however the bytes are split.
std::string read_split(const ReplyShape& shape, const std::string& wire) {
    std::string first;
    for (const std::size_t piece : {wire.size(), std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
        ReplyReader reader(shape);
        const ReplyStatus status = feed_in_pieces(reader, wire, piece);
        std::string seen = status == ReplyStatus::done      ? "done: " + reader.reply().text
                           : status == ReplyStatus::refused ? "refused: " + reader.problem()
                                                            : "more";
        if (first.empty()) {
            first = seen;
        }
        CHECK(seen == first);
    }
    return first;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("redis reply: a value, a nil and an error, however the bytes are split") {
    CHECK(read_split(ReplyShape::value(), "$5\r\nhello\r\n") == "done: hello");
    CHECK(read_split(ReplyShape::value(), "$0\r\n\r\n") == "done: ");
    CHECK(read_split(ReplyShape::value(), "$-1\r\n") == "done: ");
    CHECK(read_split(ReplyShape::value(), "-ERR no\r\n") == "done: ERR no");
    CHECK(read_split(ReplyShape::value(), "$5\r\nhel") == "more");

    ReplyReader nil(ReplyShape::value());
    REQUIRE(nil.feed("$-1\r\n") == ReplyStatus::done);
    CHECK(nil.reply().kind == ReplyKind::nil);
    ReplyReader error(ReplyShape::value());
    REQUIRE(error.feed("-WRONGPASS invalid\r\n") == ReplyStatus::done);
    CHECK(error.reply().kind == ReplyKind::error);
}

TEST_CASE("redis reply: a nil, as `$-1` or `*-1`, for every command that can get one") {
    CHECK(read_split(ReplyShape::status(), "$-1\r\n") == "done: "); // SET NX that did not set
    CHECK(read_split(ReplyShape::status(), "*-1\r\n") == "done: ");
    CHECK(read_split(ReplyShape::value(), "*-1\r\n") == "done: ");
    CHECK(contains(read_split(ReplyShape::integer(), "$-1\r\n"), "wrong type (a nil)"));
    ReplyReader set_nx(ReplyShape::status());
    REQUIRE(set_nx.feed("$-1\r\n") == ReplyStatus::done);
    CHECK(set_nx.reply().kind == ReplyKind::nil);
}

TEST_CASE("redis reply: a type the command does not get is refused at its first line") {
    // 200,000 nested arrays: refused on the first `*`, nothing else is read.
    ReplyReader nested(ReplyShape::value());
    CHECK(nested.feed("*1\r\n*1\r\n*1\r\n") == ReplyStatus::refused);
    CHECK(nested.problem() == "a reply of the wrong type (an array)");
    CHECK(contains(read_split(ReplyShape::value(), ":1\r\n"), "wrong type (an integer)"));
    CHECK(contains(read_split(ReplyShape::value(), "+OK\r\n"), "wrong type (a status)"));
    CHECK(contains(read_split(ReplyShape::integer(), "$1\r\n1\r\n"), "wrong type (a bulk"));
    CHECK(contains(read_split(ReplyShape::status(), "*0\r\n"), "wrong type (an array)"));
    // RESP3's types and anything else: refused, the byte shown escaped.
    CHECK(contains(read_split(ReplyShape::value(), "_\r\n"), "not RESP2 (first byte \\x5f)"));
    CHECK(contains(read_split(ReplyShape::value(), "%1\r\n"), "not RESP2"));
    CHECK(contains(read_split(ReplyShape::value(), "\x1b[2J"), "(first byte \\x1b)"));
}

TEST_CASE("redis reply: a value's announced length is checked before it is read") {
    const auto limit = std::to_string(iotspot::core::shared_value_limit);
    CHECK(read_split(ReplyShape::value(), "$2000000000\r\nabc") ==
          "refused: a reply announcing a value of 2000000000 bytes, over the limit of " + limit +
              " bytes");
    CHECK(contains(read_split(ReplyShape::value(), "$99999999999999999999\r\n"),
                   "a length that is not a number"));
    CHECK(contains(read_split(ReplyShape::value(), "$-5\r\n"), "a length that is not a number"));
    CHECK(contains(read_split(ReplyShape::value(), "$12345678901234567890123456\r\n"),
                   "a length that is not a number"));
    ReplyShape short_bulk = ReplyShape::status();
    short_bulk.kinds = short_bulk.kinds | ReplyKind::bulk;
    CHECK(contains(read_split(short_bulk, "$513\r\n"), "over the limit of 512"));

    const std::string at_limit(iotspot::core::shared_value_limit, 'v');
    CHECK(read_split(ReplyShape::value(), "$" + limit + "\r\n" + at_limit + "\r\n") ==
          "done: " + at_limit);
    CHECK(contains(read_split(ReplyShape::value(), "$" + std::to_string(at_limit.size() + 1) +
                                                       "\r\n" + at_limit + "v\r\n"),
                   "over the limit"));
}

TEST_CASE("redis reply: the whole reply is capped, and more than one reply is refused") {
    ReplyReader status(ReplyShape::status());
    CHECK(status.room() == 4096);
    const std::string long_line = "+" + std::string(5000, 'a');
    CHECK(feed_in_pieces(status, long_line, 1000) == ReplyStatus::refused);
    CHECK(status.problem() == "a reply larger than 4096 bytes");

    ReplyReader exact(ReplyShape::status());
    CHECK(exact.feed(std::string(4096, '+')) == ReplyStatus::refused);
    // Bytes after a reply, in the same read: Redis never sends them.
    ReplyReader two(ReplyShape::status());
    CHECK(two.feed("+OK\r\n+OK\r\n") == ReplyStatus::refused);
    CHECK(two.problem() == "more than one reply");
}

TEST_CASE("redis reply: an array where a command gets one, bounded in length and depth") {
    ReplyReader pair(ReplyShape::array(2));
    REQUIRE(feed_in_pieces(pair, "*2\r\n$9\r\n127.0.0.1\r\n:6380\r\n", 3) == ReplyStatus::done);
    const Reply& reply = pair.reply();
    REQUIRE(reply.kind == ReplyKind::array);
    REQUIRE(reply.elements.size() == 2);
    CHECK(reply.elements[0].text == "127.0.0.1");
    CHECK(reply.elements[1].integer == 6380);
    CHECK(read_split(ReplyShape::array(2), "*-1\r\n") == "done: ");

    CHECK(contains(read_split(ReplyShape::array(2), "*3\r\n:1\r\n:2\r\n:3\r\n"),
                   "deeper or longer than the command ever gets (3 elements at depth 1)"));
    CHECK(contains(read_split(ReplyShape::array(2), "*1\r\n*1\r\n*1\r\n:1\r\n"),
                   "wrong type (an array in an array)"));
    CHECK(contains(read_split(ReplyShape::array(2), "*1\r\n+OK\r\n"),
                   "wrong type (a status in an array)"));
    CHECK(contains(read_split(ReplyShape::array(2), "*1\r\n-ERR x\r\n"), "an error in an array"));
    // hiredis 0.14 refuses this count itself, 1.x lets add() do it: refused either way.
    CHECK(read_split(ReplyShape::array(2), "*4294967296\r\n").rfind("refused: ", 0) == 0);

    ReplyShape nested = ReplyShape::array(4);
    nested.element_kinds = nested.element_kinds | ReplyKind::array;
    nested.max_depth = 2;
    CHECK(read_split(nested, "*1\r\n*2\r\n:1\r\n:2\r\n") == "done: ");
    CHECK(contains(read_split(nested, "*1\r\n*1\r\n*1\r\n:1\r\n"), "at depth 3"));
}

TEST_CASE("redis reply: ROLE of a primary with replicas, of a replica, and nothing deeper") {
    ReplyReader primary(ReplyShape::role());
    const std::string wire = "*3\r\n$6\r\nmaster\r\n:3129659\r\n*2\r\n"
                             "*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9001\r\n$7\r\n3129242\r\n"
                             "*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9002\r\n$7\r\n3129543\r\n";
    REQUIRE(feed_in_pieces(primary, wire, 5) == ReplyStatus::done);
    REQUIRE(primary.reply().elements.size() == 3);
    CHECK(primary.reply().elements[0].text == "master");
    CHECK(primary.reply().elements[2].elements.size() == 2);
    CHECK(read_split(ReplyShape::role(), wire) == "done: ");

    const std::string replica = "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:9000\r\n"
                                "$9\r\nconnected\r\n:3167038\r\n";
    ReplyReader role(ReplyShape::role());
    REQUIRE(feed_in_pieces(role, replica, 3) == ReplyStatus::done);
    CHECK(role.reply().elements[0].text == "slave");

    CHECK(contains(read_split(ReplyShape::role(), "*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"), "at depth 4"));
    CHECK(contains(read_split(ReplyShape::role(), "$6\r\nmaster\r\n"), "wrong type"));
    CHECK(contains(read_split(ReplyShape::role(), "*257\r\n"), "257 elements"));
}

TEST_CASE("redis reply: a command is an array of bulk strings") {
    CHECK(iotspot::net::resp_command({"GET", "k"}) == "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    CHECK(iotspot::net::resp_command({"SET", "a b", ""}) ==
          "*3\r\n$3\r\nSET\r\n$3\r\na b\r\n$0\r\n\r\n");
}
