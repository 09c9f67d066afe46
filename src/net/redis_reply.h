#pragma once
// One RESP2 reply from Redis or Valkey, read against what the command that asked for it can
// get back. The parsing is hiredis's reply reader (its redisReader API, the same in hiredis
// 0.14 and 1.x), with reply functions of our own that build the reply and refuse, before
// anything is allocated for it, a type the command does not expect, an array longer or
// deeper than it allows, and with a cap on the bytes of the whole reply:
//
//   ReplyReader reader(ReplyShape::value());       // GET: a bulk string or nil, <= 64 KiB
//   while (reader.status() == ReplyStatus::more)
//       reader.feed(bytes_read_from_the_socket);   // at most reader.room() bytes
//   reader.status() == ReplyStatus::done  -> reader.reply()
//   reader.status() == ReplyStatus::refused -> reader.problem(), e.g. "a reply of the wrong
//                                             type (an array)"
//
// The first line of the reply is checked before hiredis sees it: its type byte, and for a
// bulk string the length it announces, so `$2000000000` is refused at once instead of
// waited for. Nothing here recurses on input: hiredis reads nested arrays with a task
// stack, and the shape bounds their depth and length. An error reply (`-ERR ...`) is
// always accepted, as Redis reports a failed command with one.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotspot::net {

/// RESP2's reply types, as bits of a ReplyShape's sets.
enum class ReplyKind : unsigned {
    nil = 1,     ///< `$-1` or `*-1` (RESP3's `_` too)
    bulk = 2,    ///< `$<length>` and that many bytes
    status = 4,  ///< `+OK`
    integer = 8, ///< `:1`
    error = 16,  ///< `-ERR ...`
    array = 32,  ///< `*<count>` and that many replies
};

constexpr unsigned operator|(ReplyKind a, ReplyKind b) {
    return static_cast<unsigned>(a) | static_cast<unsigned>(b);
}
constexpr unsigned operator|(unsigned a, ReplyKind b) {
    return a | static_cast<unsigned>(b);
}

/// What a command can get back.
struct ReplyShape {
    unsigned kinds = 0;           ///< accepted at the top (an error always is)
    std::size_t max_bytes = 4096; ///< the whole reply on the wire
    std::size_t max_bulk = 512;   ///< the length a bulk string may announce
    std::size_t max_elements = 0; ///< of an array, at any depth
    unsigned element_kinds = 0;   ///< of an array's elements (array: nested arrays)
    int max_depth = 1;            ///< 1: an array of non-arrays

    /// GET: a bulk string of at most `shared_value_limit` bytes, or nil.
    static ReplyShape value();
    /// SET, AUTH, SELECT, PING: a status; nil for a SET NX that did not set.
    static ReplyShape status();
    /// EVAL of a script that returns a number.
    static ReplyShape integer();
    /// An array of at most `elements` bulk strings, integers or nils (Sentinel's
    /// get-master-addr-by-name, for instance).
    static ReplyShape array(std::size_t elements);
    /// ROLE: `master`, its offset and its replicas as [host, port, offset] arrays; or
    /// `slave`/`sentinel` and a few fields. At most 256 replicas.
    static ReplyShape role();
};

/// A reply, once read. Arrays hold their elements; nothing else does.
struct Reply {
    ReplyKind kind = ReplyKind::nil;
    std::string text; ///< bulk, status or error
    long long integer = 0;
    std::vector<Reply> elements;
};

enum class ReplyStatus { more, done, refused };

class ReplyReader {
public:
    explicit ReplyReader(ReplyShape shape);
    ~ReplyReader();
    ReplyReader(const ReplyReader&) = delete;
    ReplyReader& operator=(const ReplyReader&) = delete;

    /// Takes the next bytes of the reply: at most room(), or the reply is refused as too
    /// large. Bytes after a complete reply refuse it too: Redis sends one reply per command.
    ReplyStatus feed(std::string_view bytes);
    ReplyStatus status() const { return status_; }
    /// How many more bytes the reply may have.
    std::size_t room() const { return shape_.max_bytes - fed_; }
    /// The reply, once status() is done.
    const Reply& reply() const { return root_; }
    /// Why the reply was refused, in words for a message (printable ASCII only).
    const std::string& problem() const { return problem_; }

    // hiredis's reply functions call these (redis_reply.cpp).
    Reply* add(const void* parent, ReplyKind kind, std::size_t elements, int depth);
    void refuse(std::string problem);

private:
    void check_first_line();
    void check_length(const std::string& length, ReplyKind kind);
    ReplyStatus take_reply();

    ReplyShape shape_;
    void* reader_; // redisReader*
    std::size_t fed_ = 0;
    std::string first_line_; // until its CRLF has arrived
    bool first_line_checked_ = false;
    Reply root_;
    bool have_root_ = false;
    ReplyStatus status_ = ReplyStatus::more;
    std::string problem_;
};

/// The RESP encoding of a command: an array of bulk strings.
std::string resp_command(const std::vector<std::string>& words);

/// A kind in words, for messages: "an array", "a bulk string"...
const char* kind_name(ReplyKind kind);

} // namespace iotspot::net
