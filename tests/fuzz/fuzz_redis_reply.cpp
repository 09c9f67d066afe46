// A Redis reply as bytes off the wire, read as the shared cache's client reads it
// (net/redis_reply.h) for the reply shape the first byte picks (GET's value, a status, an
// integer, a flat array, an array nested once). Whatever arrives, reading never crashes and
// stays bounded: a reply read is one the shape accepts (its kinds, a bulk string no longer
// than announced may be, arrays no longer or deeper than allowed), never more bytes than the
// cap, and the same however the bytes are split into reads (all at once, one at a time,
// seven at a time); a refusal's reason prints on one line.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "net/redis_reply.h"

using namespace iotspot;

namespace {

net::ReplyShape shape_for(std::uint8_t selector) {
    switch (selector % 5) {
    case 0:
        return net::ReplyShape::value();
    case 1:
        return net::ReplyShape::status();
    case 2:
        return net::ReplyShape::integer();
    case 3:
        return net::ReplyShape::array(4);
    default: {
        net::ReplyShape nested = net::ReplyShape::array(8);
        nested.element_kinds = nested.element_kinds | net::ReplyKind::array;
        nested.max_depth = 2;
        return nested;
    }
    }
}

struct Outcome {
    net::ReplyStatus status = net::ReplyStatus::more;
    std::string summary; // the reply in a canonical form, or the reason it was refused
};

// `reply` in one canonical string, checking it against `shape` on the way.
std::string summarise(const net::Reply& reply, const net::ReplyShape& shape, int depth) {
    const unsigned kind = static_cast<unsigned>(reply.kind);
    const unsigned allowed = depth == 0 ? shape.kinds | net::ReplyKind::error : shape.element_kinds;
    FUZZ_CHECK((allowed & kind) != 0);
    FUZZ_CHECK(reply.kind != net::ReplyKind::bulk || reply.text.size() <= shape.max_bulk);
    FUZZ_CHECK(reply.kind == net::ReplyKind::array || reply.elements.empty());
    FUZZ_CHECK(depth < shape.max_depth || reply.kind != net::ReplyKind::array);
    FUZZ_CHECK(reply.elements.size() <= shape.max_elements);
    std::string text = std::to_string(kind) + ":" + std::to_string(reply.integer) + ":" +
                       std::to_string(reply.text.size()) + ":" + reply.text + "[";
    for (const auto& element : reply.elements) {
        text += summarise(element, shape, depth + 1) + ",";
    }
    return text + "]";
}

Outcome read(std::string_view wire, const net::ReplyShape& shape, std::size_t step) {
    // As the client's read loop does: never more than the reader has room for.
    net::ReplyReader reader(shape);
    for (std::size_t at = 0; at < wire.size() && reader.status() == net::ReplyStatus::more;) {
        const std::size_t piece = std::min(step, reader.room());
        reader.feed(wire.substr(at, piece));
        at += piece;
    }
    Outcome outcome{reader.status(), ""};
    if (outcome.status == net::ReplyStatus::done) {
        outcome.summary = summarise(reader.reply(), shape, 0);
    } else if (outcome.status == net::ReplyStatus::refused) {
        FUZZ_CHECK(fuzz::is_one_line(reader.problem()));
        outcome.summary = reader.problem();
    }
    return outcome;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const net::ReplyShape shape = shape_for(data[0]);
    const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
    const Outcome whole = read(wire, shape, wire.size() + 1);
    // Bytes after a complete reply refuse it only when they arrive in the same read.
    if (whole.summary == "more than one reply") {
        return 0;
    }
    for (const std::size_t step : {std::size_t{1}, std::size_t{7}}) {
        const Outcome split = read(wire, shape, step);
        FUZZ_CHECK(split.status == whole.status);
        FUZZ_CHECK(split.summary == whole.summary);
    }
    return 0;
}
