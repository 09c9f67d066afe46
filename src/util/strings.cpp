#include "util/strings.h"

#include <cctype>
#include <limits>
#include <utility>

namespace iotspot::util {

std::string_view trim(std::string_view text) {
    constexpr std::string_view blanks = " \t\r\n";
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(blanks);
    return text.substr(first, last - first + 1);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (;;) {
        const auto end = text.find(separator, start);
        if (end == std::string_view::npos) {
            fields.push_back(text.substr(start));
            return fields;
        }
        fields.push_back(text.substr(start, end - start));
        start = end + 1;
    }
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    bool negative = false;
    if (!text.empty() && text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    if (text.empty() || text.size() > 18) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return negative ? -value : value;
}

bool is_valid_profile_name(std::string_view text) {
    if (text.empty() || text.size() > 64 || text.front() == '.') {
        return false;
    }
    for (const char c : text) {
        const bool ok =
            std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool is_b64token(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    std::size_t i = 0;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
                        c == '+' || c == '/';
        if (!ok) {
            break;
        }
    }
    if (i == 0) {
        return false;
    }
    for (; i < text.size(); ++i) {
        if (text[i] != '=') {
            return false;
        }
    }
    return true;
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

namespace {

// Where the authority of `url` starts and ends (after "scheme://", up to '/', '?' or '#').
std::pair<std::size_t, std::size_t> authority(std::string_view url) {
    const auto scheme = url.find("://");
    const std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
    const auto end = url.find_first_of("/?#", start);
    return {start, end == std::string_view::npos ? url.size() : end};
}

void append_escaped(std::string& out, unsigned char byte) {
    static const char hex[] = "0123456789abcdef";
    out += "\\x";
    out.push_back(hex[byte >> 4]);
    out.push_back(hex[byte & 0xf]);
}

// The length of the well-formed UTF-8 sequence that starts `text`, or 0 (RFC 3629: no
// overlong form, no surrogate, nothing above U+10FFFF).
std::size_t utf8_length(std::string_view text) {
    const auto byte = [&text](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        low = lead == 0xe0 ? 0xa0 : low;
        high = lead == 0xed ? 0x9f : high;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        low = lead == 0xf0 ? 0x90 : low;
        high = lead == 0xf4 ? 0x8f : high;
    }
    if (length == 0 || text.size() < length || byte(1) < low || byte(1) > high) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xbf) {
            return 0;
        }
    }
    return length;
}

} // namespace

std::string escape_control(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x80) {
            if (byte < 0x20 || byte == 0x7f) {
                append_escaped(out, byte);
            } else {
                out.push_back(text[i]);
            }
            ++i;
            continue;
        }
        const std::size_t length = utf8_length(text.substr(i));
        const bool c1 =
            length == 2 && byte == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0;
        if (length == 0 || c1) {
            const std::size_t n = c1 ? 2 : 1;
            for (std::size_t k = 0; k < n; ++k) {
                append_escaped(out, static_cast<unsigned char>(text[i + k]));
            }
            i += n;
        } else {
            out.append(text.substr(i, length));
            i += length;
        }
    }
    return out;
}

bool has_userinfo(std::string_view url) {
    const auto [start, end] = authority(url);
    return url.substr(start, end - start).find('@') != std::string_view::npos;
}

std::string without_userinfo(std::string_view url) {
    const auto [start, end] = authority(url);
    const auto at = url.substr(start, end - start).rfind('@');
    if (at == std::string_view::npos) {
        return std::string(url);
    }
    return std::string(url.substr(0, start)) + "***" + std::string(url.substr(start + at));
}

} // namespace iotspot::util
