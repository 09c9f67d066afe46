#include "net/redis_reply.h"

#include <algorithm>
#include <cstdio>
#include <hiredis/read.h>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "core/shared_cache.h"
#include "util/strings.h"

namespace iotspot::net {

namespace {

// The longest first line whose length matters: `$` or `*`, a sign and 19 digits, CRLF.
constexpr std::size_t first_line_limit = 24;

ReplyReader& owner(const redisReadTask* task) {
    return *static_cast<ReplyReader*>(task->privdata);
}

const void* parent_of(const redisReadTask* task) {
    return task->parent != nullptr ? task->parent->obj : nullptr;
}

// How deep the reply being read sits: 0 at the top. The shape bounds it (ReplyReader::add).
int depth_of(const redisReadTask* task) {
    int depth = 0;
    for (const redisReadTask* up = task->parent; up != nullptr; up = up->parent) {
        ++depth;
    }
    return depth;
}

void* refuse_type(const redisReadTask* task, const char* what) {
    owner(task).refuse(std::string("a reply of a type iotspot-helper does not ask for (") + what +
                       ")");
    return nullptr;
}

void* create_string(const redisReadTask* task, char* text, std::size_t length) {
    ReplyKind kind = ReplyKind::bulk;
    switch (task->type) {
    case REDIS_REPLY_STRING:
        break;
    case REDIS_REPLY_STATUS:
        kind = ReplyKind::status;
        break;
    case REDIS_REPLY_ERROR:
        kind = ReplyKind::error;
        break;
    default: // RESP3's verbatim strings and big numbers
        return refuse_type(task, "a RESP3 string");
    }
    Reply* reply = owner(task).add(parent_of(task), kind, 0, depth_of(task));
    if (reply != nullptr) {
        reply->text.assign(text, length);
    }
    return reply;
}

// hiredis 0.14 passes the count as an int, 1.x as a size_t.
template <typename Count> void* create_array(const redisReadTask* task, Count count) {
    if (task->type != REDIS_REPLY_ARRAY) { // RESP3's maps, sets and pushes
        return refuse_type(task, "a RESP3 aggregate");
    }
    return owner(task).add(parent_of(task), ReplyKind::array, static_cast<std::size_t>(count),
                           depth_of(task));
}

void* create_integer(const redisReadTask* task, long long value) {
    if (task->type != REDIS_REPLY_INTEGER) {
        return refuse_type(task, "a RESP3 number");
    }
    Reply* reply = owner(task).add(parent_of(task), ReplyKind::integer, 0, depth_of(task));
    if (reply != nullptr) {
        reply->integer = value;
    }
    return reply;
}

void* create_nil(const redisReadTask* task) {
    return owner(task).add(parent_of(task), ReplyKind::nil, 0, depth_of(task));
}

void free_object(void*) {
    // The ReplyReader owns every reply it built.
}

template <typename Pointer> struct ArrayCountOf;
template <typename Count> struct ArrayCountOf<void* (*)(const redisReadTask*, Count)> {
    using type = Count;
};
using ArrayCount = ArrayCountOf<decltype(redisReplyObjectFunctions::createArray)>::type;

// hiredis 1.x reads RESP3's doubles and booleans too, and without functions for them makes
// placeholder replies: refuse them. hiredis 0.14 has neither (nor these members).
template <typename Functions>
auto refuse_resp3(Functions& functions, int)
    -> decltype(functions.createDouble, functions.createBool, void()) {
    functions.createDouble = [](const redisReadTask* task, double, char*, std::size_t) {
        return refuse_type(task, "a RESP3 double");
    };
    functions.createBool = [](const redisReadTask* task, int) {
        return refuse_type(task, "a RESP3 boolean");
    };
}
template <typename Functions> void refuse_resp3(Functions&, long) {}

redisReplyObjectFunctions* reply_functions() {
    static redisReplyObjectFunctions functions = [] {
        redisReplyObjectFunctions made{};
        made.createString = &create_string;
        made.createArray = &create_array<ArrayCount>;
        made.createInteger = &create_integer;
        made.createNil = &create_nil;
        made.freeObject = &free_object;
        refuse_resp3(made, 0);
        return made;
    }();
    return &functions;
}

redisReader* as_reader(void* reader) {
    return static_cast<redisReader*>(reader);
}

// The kind a first line announces, from its type byte; nullopt for one RESP2 lacks.
std::optional<ReplyKind> kind_of_type_byte(char byte) {
    switch (byte) {
    case '$':
        return ReplyKind::bulk;
    case '*':
        return ReplyKind::array;
    case '+':
        return ReplyKind::status;
    case '-':
        return ReplyKind::error;
    case ':':
        return ReplyKind::integer;
    default:
        return std::nullopt;
    }
}

} // namespace

ReplyShape ReplyShape::value() {
    ReplyShape shape;
    shape.kinds = ReplyKind::bulk | ReplyKind::nil;
    shape.max_bulk = core::shared_value_limit;
    shape.max_bytes = core::shared_value_limit + 16; // "$65536\r\n" and the closing CRLF
    return shape;
}

ReplyShape ReplyShape::status() {
    ReplyShape shape;
    shape.kinds = ReplyKind::status | ReplyKind::nil;
    return shape;
}

ReplyShape ReplyShape::integer() {
    ReplyShape shape;
    shape.kinds = static_cast<unsigned>(ReplyKind::integer);
    return shape;
}

ReplyShape ReplyShape::array(std::size_t elements) {
    ReplyShape shape;
    shape.kinds = ReplyKind::array | ReplyKind::nil;
    shape.max_elements = elements;
    shape.element_kinds = ReplyKind::bulk | ReplyKind::integer | ReplyKind::nil;
    return shape;
}

ReplyShape ReplyShape::role() {
    ReplyShape shape;
    shape.kinds = static_cast<unsigned>(ReplyKind::array);
    shape.element_kinds = ReplyKind::bulk | ReplyKind::integer | ReplyKind::array;
    shape.max_elements = 256;
    shape.max_depth = 3;
    shape.max_bytes = 64 * 1024;
    return shape;
}

ReplyReader::ReplyReader(ReplyShape shape)
    : shape_(shape), reader_(redisReaderCreateWithFunctions(reply_functions())) {
    if (reader_ == nullptr) {
        throw std::bad_alloc();
    }
    as_reader(reader_)->privdata = this;
}

ReplyReader::~ReplyReader() {
    redisReaderFree(as_reader(reader_));
}

void ReplyReader::refuse(std::string problem) {
    if (problem_.empty()) {
        problem_ = std::move(problem);
    }
    status_ = ReplyStatus::refused;
}

Reply* ReplyReader::add(const void* parent, ReplyKind kind, std::size_t elements, int depth) {
    const bool top = parent == nullptr;
    const unsigned allowed = top ? (shape_.kinds | ReplyKind::error) : shape_.element_kinds;
    if ((allowed & static_cast<unsigned>(kind)) == 0) {
        refuse(std::string("a reply of the wrong type (") + kind_name(kind) +
               (top ? ")" : " in an array)"));
        return nullptr;
    }
    if (kind == ReplyKind::array && (depth >= shape_.max_depth || elements > shape_.max_elements)) {
        refuse("an array deeper or longer than the command ever gets (" + std::to_string(elements) +
               " elements at depth " + std::to_string(depth + 1) + ")");
        return nullptr;
    }
    Reply* reply = &root_;
    if (top) {
        have_root_ = true;
    } else {
        auto* array = static_cast<Reply*>(const_cast<void*>(parent));
        // hiredis adds as many elements as the array announced, for which add() reserved
        // room: elements never move, so hiredis's pointers to them stay valid.
        if (array->elements.size() == array->elements.capacity()) {
            refuse("an array with more elements than it announced");
            return nullptr;
        }
        reply = &array->elements.emplace_back();
    }
    reply->kind = kind;
    reply->elements.reserve(elements);
    return reply;
}

void ReplyReader::check_first_line() {
    std::optional<ReplyKind> kind = kind_of_type_byte(first_line_[0]);
    if (!kind) {
        char byte[8];
        std::snprintf(byte, sizeof byte, "\\x%02x", static_cast<unsigned char>(first_line_[0]));
        refuse(std::string("a reply that is not RESP2 (first byte ") + byte + ")");
        return;
    }
    // `$` and `*` announce a length; -1 makes them a nil.
    const bool counted = *kind == ReplyKind::bulk || *kind == ReplyKind::array;
    std::string length;
    if (counted) {
        const std::size_t end = first_line_.find("\r\n");
        if (end == std::string::npos) {
            if (first_line_.size() >= first_line_limit) {
                refuse("a length that is not a number");
            }
            return; // the rest of the line is still to come
        }
        length = first_line_.substr(1, end - 1);
        if (length == "-1") {
            kind = ReplyKind::nil;
        }
    }
    first_line_checked_ = true; // hiredis reads the rest, and add() checks it
    const unsigned allowed = shape_.kinds | ReplyKind::error;
    if ((allowed & static_cast<unsigned>(*kind)) == 0) {
        refuse(std::string("a reply of the wrong type (") + kind_name(*kind) + ")");
    } else if (*kind == ReplyKind::bulk || *kind == ReplyKind::array) {
        check_length(length, *kind);
    }
}

void ReplyReader::check_length(const std::string& length, ReplyKind kind) {
    const bool digits =
        !length.empty() && length.size() <= 19 &&
        std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
        refuse("a length that is not a number");
    } else if (kind == ReplyKind::bulk && std::stoull(length) > shape_.max_bulk) {
        refuse("a reply announcing a value of " + length + " bytes, over the limit of " +
               std::to_string(shape_.max_bulk) + " bytes");
    }
}

ReplyStatus ReplyReader::feed(std::string_view bytes) {
    if (status_ != ReplyStatus::more || bytes.empty()) {
        return status_;
    }
    if (bytes.size() > room()) {
        refuse("a reply larger than " + std::to_string(shape_.max_bytes) + " bytes");
        return status_;
    }
    fed_ += bytes.size();
    if (!first_line_checked_) {
        first_line_.append(bytes.substr(0, first_line_limit - first_line_.size()));
        check_first_line();
        if (status_ != ReplyStatus::more) {
            return status_;
        }
    }
    if (redisReaderFeed(as_reader(reader_), bytes.data(), bytes.size()) != REDIS_OK) {
        refuse("a reply the reader could not take");
        return status_;
    }
    return take_reply();
}

ReplyStatus ReplyReader::take_reply() {
    redisReader* reader = as_reader(reader_);
    void* reply = nullptr;
    if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
        refuse("a reply that is not RESP2 (" + util::escape_control(reader->errstr) + ")");
        return status_;
    }
    if (reply == nullptr) {
        if (room() == 0) {
            refuse("a reply larger than " + std::to_string(shape_.max_bytes) + " bytes");
        }
        return status_;
    }
    if (reply != &root_ || !have_root_) {
        refuse("a reply of a type iotspot-helper does not ask for");
    } else if (reader->pos < reader->len) {
        refuse("more than one reply");
    } else {
        status_ = ReplyStatus::done;
    }
    return status_;
}

std::string resp_command(const std::vector<std::string>& words) {
    std::string wire = "*" + std::to_string(words.size()) + "\r\n";
    for (const auto& word : words) {
        wire += "$" + std::to_string(word.size()) + "\r\n";
        wire += word;
        wire += "\r\n";
    }
    return wire;
}

const char* kind_name(ReplyKind kind) {
    switch (kind) {
    case ReplyKind::nil:
        return "a nil";
    case ReplyKind::bulk:
        return "a bulk string";
    case ReplyKind::status:
        return "a status";
    case ReplyKind::integer:
        return "an integer";
    case ReplyKind::error:
        return "an error";
    case ReplyKind::array:
        return "an array";
    }
    return "an unknown type";
}

} // namespace iotspot::net
