#pragma once
// Reading an HTTP/1.1 response from a stream of bytes: the token server's answer, and an
// HTTP proxy's answer to CONNECT. Bounded everywhere: the head's lines and fields, the
// body's size, interim 1xx answers. The source is abstract, so the same code reads from a
// TLS connection (net/tls_socket.h) and, in the fuzz harness, from a string.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotspot::net {

/// The most header fields a response may have.
inline constexpr std::size_t max_header_fields = 64;

/// The status line and fields of a response.
struct ResponseHead {
    int status = 0;
    int minor_version = 1;                      ///< HTTP/1.x
    std::map<std::string, std::string> headers; ///< names lower-cased; repeats joined by ", "
};

/// Parses the status line and field lines of a response (`lines`, without line ends or the
/// blank line). nullopt when it is not HTTP/1.x: a status line other than
/// `HTTP/1.x SP 3DIGIT [SP reason]`, a field name that is not a token, a value with control
/// characters, a folded line, or more than 64 fields.
std::optional<ResponseHead> parse_response_head(const std::vector<std::string>& lines);

/// Where the bytes come from. read() returns how many bytes it put in `buffer` (at least
/// one), or 0 at the end of the stream; it throws on errors of its own.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual std::size_t read(char* buffer, std::size_t size) = 0;
};

/// The bytes of a string, in reads of at most `step` bytes (the reader's result must not
/// depend on how reads split the bytes; the tests and the fuzz harness check that).
class StringSource : public ByteSource {
public:
    explicit StringSource(std::string_view data, std::size_t step = 16384)
        : data_(data), step_(step) {}
    std::size_t read(char* buffer, std::size_t size) override;

private:
    std::string_view data_;
    std::size_t step_;
};

/// A ByteSource read through a buffer, by lines and by counts.
class BufferedReader {
public:
    explicit BufferedReader(ByteSource& source) : source_(source) {}

    /// The next line without its LF (and CR), at most `limit` bytes; nullopt when the stream
    /// ends first or the line is longer.
    std::optional<std::string> line(std::size_t limit);
    /// Appends the next `count` bytes to `out`; false when the stream ends first.
    bool exactly(std::size_t count, std::string& out);
    /// Appends everything up to the end of the stream to `out`; false when that is more
    /// than `limit` bytes in all (`out` then holds more than `limit`).
    bool to_end(std::size_t limit, std::string& out);
    /// Whether bytes that were read from the source are still waiting here.
    bool buffered() const { return position_ < buffer_.size(); }
    /// Whether the source has ended.
    bool ended() const { return ended_; }
    /// How many bytes have come from the source so far.
    std::size_t received() const { return received_; }

private:
    bool fill();

    ByteSource& source_;
    std::string buffer_;
    std::size_t position_ = 0;
    bool ended_ = false;
    std::size_t received_ = 0;
};

/// How a body arrived.
enum class Body { complete, too_large, cut_short };

struct Response {
    ResponseHead head;
    std::string body;
    Body state = Body::complete;
    /// The answer ended where its framing said, and the server keeps the connection open.
    bool reusable = false;
};

/// The largest answer body read.
inline constexpr std::size_t max_body_bytes = 1 << 20;

/// Reads a response head (skipping interim 1xx answers); nullopt when what arrives is not
/// HTTP/1.x (parse_response_head) or the stream ends before the blank line.
std::optional<ResponseHead> read_response_head(BufferedReader& in);

/// Reads a whole response to a request with method `method`: the head, then the body as
/// Transfer-Encoding: chunked, Content-Length or the end of the stream frame it, at most
/// max_body_bytes. nullopt when the head is not HTTP/1.x or ends early.
std::optional<Response> read_response(BufferedReader& in, std::string_view method);

} // namespace iotspot::net
