// The shell and JSON writers. Input: a first line "EXPIRES_AT NOW" (Unix seconds), then the
// token. For any token, each shell's assignment reads back, by that shell's quoting rules, to
// the token itself, and the JSON reads back to the token, the time and the lifetime. For a
// token that passes validation (RFC 6750 b64token, as every cached token does) no quoting
// beyond the plain '...' is needed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/output.h"
#include "fuzz_check.h"
#include "util/strings.h"
#include "util/time.h"

using namespace iotspot;

namespace {

// A reader over one writer's output that fails the run on anything unexpected.
class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    void expect(std::string_view literal) {
        FUZZ_CHECK(text_.substr(0, literal.size()) == literal);
        text_.remove_prefix(literal.size());
    }
    bool next_is(std::string_view literal) const {
        return text_.substr(0, literal.size()) == literal;
    }
    char take() {
        FUZZ_CHECK(!text_.empty());
        const char c = text_.front();
        text_.remove_prefix(1);
        return c;
    }
    bool done() const { return text_.empty(); }

    // sh: '...' pieces joined by \' ; nothing is special inside '...'.
    std::string posix_word() {
        std::string value;
        for (;;) {
            expect("'");
            for (char c = take(); c != '\''; c = take()) {
                value.push_back(c);
            }
            if (!next_is("\\'")) {
                return value;
            }
            expect("\\'");
            value.push_back('\'');
        }
    }

    // fish: inside '...', \' and \\ are escapes and a backslash before anything else is itself.
    std::string fish_word() {
        std::string value;
        expect("'");
        for (char c = take(); c != '\''; c = take()) {
            if (c == '\\' && (next_is("'") || next_is("\\"))) {
                c = take();
            }
            value.push_back(c);
        }
        return value;
    }

    // PowerShell: inside '...', any single quote (' or U+2018..U+201B) ends the string unless
    // another one follows, which then stands for itself.
    std::string powershell_word() {
        std::string value;
        expect("'");
        for (;;) {
            if (const auto quote = single_quote(); quote > 0) {
                text_.remove_prefix(quote);
                const auto second = single_quote();
                if (second == 0) {
                    return value;
                }
                value.append(text_.substr(0, second));
                text_.remove_prefix(second);
            } else {
                value.push_back(take());
            }
        }
    }

    // A JSON string literal, decoded (escapes from RFC 8259; \u for the BMP only).
    std::string json_string() {
        std::string value;
        expect("\"");
        for (char c = take(); c != '"'; c = take()) {
            FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);
            if (c != '\\') {
                value.push_back(c);
                continue;
            }
            switch (c = take()) {
            case '"':
            case '\\':
            case '/':
                value.push_back(c);
                break;
            case 'b':
                value.push_back('\b');
                break;
            case 'f':
                value.push_back('\f');
                break;
            case 'n':
                value.push_back('\n');
                break;
            case 'r':
                value.push_back('\r');
                break;
            case 't':
                value.push_back('\t');
                break;
            case 'u':
                append_utf8(value, hex4());
                break;
            default:
                FUZZ_FAIL("an escape JSON does not have");
            }
        }
        return value;
    }

    // A JSON number that is a whole non-negative integer.
    std::int64_t json_count() {
        std::string digits;
        while (!text_.empty() && text_.front() >= '0' && text_.front() <= '9') {
            digits.push_back(take());
        }
        FUZZ_CHECK(!digits.empty() && (digits == "0" || digits.front() != '0'));
        const auto value = util::parse_int(digits);
        FUZZ_CHECK(value.has_value() || digits.size() == 19);
        return value.value_or(-1);
    }

private:
    // The length of a PowerShell single quote at the front, or 0.
    std::size_t single_quote() const {
        if (next_is("'")) {
            return 1;
        }
        const bool curly = text_.size() >= 3 && text_.substr(0, 2) == "\xE2\x80" &&
                           static_cast<unsigned char>(text_[2]) >= 0x98 &&
                           static_cast<unsigned char>(text_[2]) <= 0x9B;
        return curly ? 3 : 0;
    }

    unsigned hex4() {
        unsigned value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = take();
            const bool digit = c >= '0' && c <= '9';
            const bool lower = c >= 'a' && c <= 'f';
            const bool upper = c >= 'A' && c <= 'F';
            FUZZ_CHECK(digit || lower || upper);
            value = value * 16 + static_cast<unsigned>(digit   ? c - '0'
                                                       : lower ? c - 'a' + 10
                                                               : c - 'A' + 10);
        }
        FUZZ_CHECK(value < 0xD800 || value > 0xDFFF);
        return value;
    }

    static void append_utf8(std::string& out, unsigned code) {
        if (code < 0x80) {
            out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (code >> 6)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xE0 | (code >> 12)));
            out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
    }

    std::string_view text_;
};

void check_env(std::string_view token, std::int64_t expires_at, core::Shell shell) {
    const std::string expiry = std::to_string(expires_at);
    const std::string text = core::format_env(token, expires_at, shell);
    Reader reader(text);
    for (const auto& [name, value] :
         {std::pair<const char*, std::string_view>{"IOTSPOT_ACCESS_TOKEN", token},
          {"IOTSPOT_TOKEN_EXPIRES_AT", expiry}}) {
        switch (shell) {
        case core::Shell::sh:
            reader.expect(std::string("export ") + name + "=");
            FUZZ_CHECK(reader.posix_word() == value);
            break;
        case core::Shell::fish:
            reader.expect(std::string("set -gx ") + name + " ");
            FUZZ_CHECK(reader.fish_word() == value);
            break;
        case core::Shell::powershell:
            reader.expect(std::string("$env:") + name + " = ");
            FUZZ_CHECK(reader.powershell_word() == value);
            break;
        }
        reader.expect(";\n");
    }
    FUZZ_CHECK(reader.done());
    if (util::is_b64token(token)) {
        FUZZ_CHECK(text.find("'" + std::string(token) + "';\n") != std::string::npos);
    }
}

void check_json(std::string_view token, std::int64_t expires_at, std::int64_t now) {
    const std::string json = core::format_json(token, expires_at, now);
    Reader reader(json);
    reader.expect("{\"access_token\":");
    FUZZ_CHECK(reader.json_string() == token);
    reader.expect(",\"token_type\":");
    FUZZ_CHECK(reader.json_string() == "Bearer");
    reader.expect(",\"expires_at\":");
    FUZZ_CHECK(reader.json_string() == util::format_rfc3339(expires_at));
    reader.expect(",\"expires_in\":");
    const std::int64_t expires_in = reader.json_count();
    if (expires_at <= now) {
        FUZZ_CHECK(expires_in == 0);
    } else if (expires_in >= 0) {
        FUZZ_CHECK(expires_in == expires_at - now);
    }
    reader.expect("}\n");
    FUZZ_CHECK(reader.done());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto end = input.find('\n');
    const std::string_view times = input.substr(0, end);
    const std::string_view token =
        end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const auto space = times.find(' ');
    const std::int64_t expires_at = util::parse_int(times.substr(0, space)).value_or(0);
    const std::int64_t now =
        space == std::string_view::npos ? 0 : util::parse_int(times.substr(space + 1)).value_or(0);

    for (const auto shell : {core::Shell::sh, core::Shell::fish, core::Shell::powershell}) {
        check_env(token, expires_at, shell);
    }
    check_json(token, expires_at, now);
    FUZZ_CHECK(core::format_token(token) == std::string(token) + "\n");
    FUZZ_CHECK(core::format_header(token) == "Authorization: Bearer " + std::string(token) + "\n");
    return 0;
}
