#include "net/http_response.h"

#include <algorithm>
#include <vector>

#include "util/strings.h"

namespace iotspot::net {

namespace {

// The syntax of a response head (RFC 9110 and 9112).
bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= '0' && u <= '9') {
        return true;
    }
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    for (const char c : text) {
        if (!is_token_char(c)) {
            return false;
        }
    }
    return true;
}

// A field value: visible ASCII, spaces and tabs, and (as RFC 9110 allows) bytes >= 0x80.
bool is_field_value(std::string_view text) {
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f) {
            return false;
        }
    }
    return true;
}

std::string_view trim_spaces(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

constexpr std::size_t max_line_bytes = 8192;
constexpr int max_interim_answers = 8;

// The last comma-separated element of a field value, lower-cased and trimmed.
std::string last_element(const std::string& value) {
    const auto comma = value.rfind(',');
    return util::ascii_lower(
        util::trim(comma == std::string::npos ? value : value.substr(comma + 1)));
}

bool has_element(const std::string& value, std::string_view wanted) {
    for (const auto element : util::split(value, ',')) {
        if (util::ascii_lower(util::trim(element)) == wanted) {
            return true;
        }
    }
    return false;
}

// A chunked body (RFC 9112 7.1), trailers skipped.
Body read_chunked(BufferedReader& in, std::string& body) {
    for (;;) {
        const auto line = in.line(1024);
        if (!line) {
            return Body::cut_short;
        }
        std::size_t size = 0;
        std::size_t digits = 0;
        for (const char c : *line) {
            const int value = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
            if (value < 0) {
                break;
            }
            if (++digits > 8) {
                return Body::too_large;
            }
            size = size * 16 + static_cast<std::size_t>(value);
        }
        if (digits == 0) {
            return Body::cut_short;
        }
        if (size == 0) {
            while (const auto trailer = in.line(max_line_bytes)) {
                if (trailer->empty()) {
                    return Body::complete;
                }
            }
            return Body::cut_short;
        }
        if (body.size() + size > max_body_bytes) {
            return Body::too_large;
        }
        if (!in.exactly(size, body) || !in.line(2)) {
            return Body::cut_short;
        }
    }
}

} // namespace

std::size_t StringSource::read(char* buffer, std::size_t size) {
    const std::size_t n = std::min({size, step_, data_.size()});
    std::copy_n(data_.data(), n, buffer);
    data_.remove_prefix(n);
    return n;
}

bool BufferedReader::fill() {
    if (position_ == buffer_.size()) {
        buffer_.clear();
        position_ = 0;
    }
    char chunk[16384];
    const std::size_t n = ended_ ? 0 : source_.read(chunk, sizeof chunk);
    buffer_.append(chunk, n);
    ended_ = n == 0;
    received_ += n;
    return n > 0;
}

std::optional<std::string> BufferedReader::line(std::size_t limit) {
    for (std::size_t searched = position_;;) {
        const auto end = buffer_.find('\n', searched);
        if (end != std::string::npos) {
            std::string out = buffer_.substr(position_, end - position_);
            position_ = end + 1;
            if (!out.empty() && out.back() == '\r') {
                out.pop_back();
            }
            if (out.size() > limit) {
                return std::nullopt;
            }
            return out;
        }
        if (buffer_.size() - position_ > limit + 1) {
            return std::nullopt;
        }
        searched = buffer_.size();
        const std::size_t consumed = position_;
        if (!fill()) {
            return std::nullopt;
        }
        searched -= consumed - position_; // fill() may have dropped what was consumed
    }
}

bool BufferedReader::exactly(std::size_t count, std::string& out) {
    while (count > 0) {
        if (!buffered() && !fill()) {
            return false;
        }
        const std::size_t take = std::min(count, buffer_.size() - position_);
        out.append(buffer_, position_, take);
        position_ += take;
        count -= take;
    }
    return true;
}

bool BufferedReader::to_end(std::size_t limit, std::string& out) {
    for (;;) {
        out.append(buffer_, position_, std::string::npos);
        position_ = buffer_.size();
        if (out.size() > limit) {
            return false;
        }
        if (!fill()) {
            return true;
        }
    }
}

std::optional<ResponseHead> parse_response_head(const std::vector<std::string>& lines) {
    if (lines.empty() || lines.size() - 1 > max_header_fields) {
        return std::nullopt;
    }
    // HTTP/1.x SP 3DIGIT [SP reason-phrase]
    const std::string_view line = lines.front();
    if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[7] < '0' || line[7] > '9' ||
        line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
        return std::nullopt;
    }
    ResponseHead head;
    head.minor_version = line[7] - '0';
    for (std::size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') {
            return std::nullopt;
        }
        head.status = head.status * 10 + (line[i] - '0');
    }
    if (head.status < 100 || !is_field_value(line.substr(std::min<std::size_t>(12, line.size())))) {
        return std::nullopt;
    }
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::string_view field = lines[i];
        if (field.empty() || field.front() == ' ' || field.front() == '\t') {
            return std::nullopt;
        }
        const auto colon = field.find(':');
        if (colon == std::string_view::npos || !is_token(field.substr(0, colon))) {
            return std::nullopt;
        }
        const std::string_view value = trim_spaces(field.substr(colon + 1));
        if (!is_field_value(value)) {
            return std::nullopt;
        }
        auto [entry, added] =
            head.headers.emplace(util::ascii_lower(field.substr(0, colon)), std::string(value));
        if (!added) {
            entry->second.append(", ").append(value);
        }
    }
    return head;
}

std::optional<ResponseHead> read_response_head(BufferedReader& in) {
    for (int interim = 0; interim <= max_interim_answers; ++interim) {
        std::vector<std::string> lines;
        for (;;) {
            auto line = in.line(max_line_bytes);
            if (!line) {
                return std::nullopt;
            }
            if (line->empty()) {
                break;
            }
            lines.push_back(std::move(*line));
            if (lines.size() > 1 + max_header_fields) { // the status line, then the fields
                return std::nullopt;
            }
        }
        auto head = parse_response_head(lines);
        if (!head || head->status >= 200 || head->status == 101) {
            return head;
        }
    }
    return std::nullopt;
}

std::optional<Response> read_response(BufferedReader& in, std::string_view method) {
    auto head = read_response_head(in);
    if (!head) {
        return std::nullopt;
    }
    Response response;
    response.head = std::move(*head);
    const auto& headers = response.head.headers;
    const auto connection = headers.find("connection");
    const bool keep_alive =
        response.head.minor_version >= 1
            ? connection == headers.end() || !has_element(connection->second, "close")
            : connection != headers.end() && has_element(connection->second, "keep-alive");

    // No body: after HEAD, 204 and 304; and 101, after which the connection is no longer
    // HTTP (the token server has no business switching protocols).
    const int status = response.head.status;
    if (method == "HEAD" || status == 204 || status == 304 || status == 101) {
        response.reusable = keep_alive && status != 101;
        return response;
    }
    if (const auto coding = headers.find("transfer-encoding"); coding != headers.end()) {
        if (last_element(coding->second) == "chunked") {
            response.state = read_chunked(in, response.body);
            response.reusable = keep_alive && response.state == Body::complete;
            return response;
        }
        // Another coding last: the body ends with the connection (RFC 9112 6.3).
    } else if (const auto length = headers.find("content-length"); length != headers.end()) {
        // Repeated (joined by ", ") only with one value throughout.
        std::optional<std::int64_t> value;
        for (const auto element : util::split(length->second, ',')) {
            const auto trimmed = util::trim(element);
            const bool digits = !trimmed.empty() && trimmed.size() <= 18 &&
                                std::all_of(trimmed.begin(), trimmed.end(),
                                            [](char c) { return c >= '0' && c <= '9'; });
            const auto parsed = digits ? util::parse_int(trimmed) : std::nullopt;
            if (!parsed || (value && *value != *parsed)) {
                return std::nullopt;
            }
            value = parsed;
        }
        if (!value) {
            return std::nullopt;
        }
        if (static_cast<std::uint64_t>(*value) > max_body_bytes) {
            response.state = Body::too_large;
            return response;
        }
        response.state = in.exactly(static_cast<std::size_t>(*value), response.body)
                             ? Body::complete
                             : Body::cut_short;
        response.reusable = keep_alive && response.state == Body::complete;
        return response;
    }
    response.state = in.to_end(max_body_bytes, response.body) ? Body::complete : Body::too_large;
    return response;
}

} // namespace iotspot::net
