#pragma once
// HTTP/1.1 request heads, strictly: serve's reading of a request head (anything a
// well-behaved client would not send is refused, so that nothing odd reaches the endpoint's
// policy or its log). Pure functions of the bytes read; the server (net/local_server.cpp)
// does the I/O.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/local_endpoint.h"

namespace iotspot::net {

/// The most header fields a request may have.
inline constexpr std::size_t max_header_fields = 64;

/// The largest request head serve reads; a longer one is refused with 431.
inline constexpr std::size_t max_request_head_bytes = 8192;

/// Where the head in `received` ends (just after its blank line), or nullopt when the blank
/// line has not arrived yet. Lines end in CRLF or a bare LF.
std::optional<std::size_t> request_head_end(std::string_view received);

/// A parsed head, or the status to refuse it with and why.
struct ParsedHead {
    std::optional<core::LocalRequest> request;
    int status = 400;    ///< when there is no request: 400, 501 or 505
    std::string problem; ///< when there is no request: what was wrong, for the answer and log
};

/// Parses `head` (up to and including its blank line). Refused: a request line that is not
/// `METHOD SP origin-form-target SP HTTP/1.x`, a target with anything but visible ASCII,
/// header names that are not tokens, values with control characters, folded lines, a
/// header given twice, more than 64 headers, and any request body (a Content-Length other
/// than 0, or a Transfer-Encoding): the endpoint takes none.
ParsedHead parse_request_head(std::string_view head);

/// `text` with every byte outside printable ASCII (and the backslash) written as \xNN, so
/// that a request cannot put terminal control sequences into serve's log.
std::string printable(std::string_view text);

} // namespace iotspot::net
