#include "core/output.h"

#include <cstdio>

#include "util/time.h"

namespace iotspot::core {

namespace {

std::string single_quoted_posix(std::string_view value) {
    std::string out = "'";
    for (const char c : value) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out.push_back(c);
        }
    }
    return out + "'";
}

std::string single_quoted_fish(std::string_view value) {
    std::string out = "'";
    for (const char c : value) {
        if (c == '\'' || c == '\\') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    return out + "'";
}

// PowerShell also takes U+2018..U+201B (curly single quotes, UTF-8 E2 80 98..9B) for ', so
// each of them is doubled like ' itself.
std::string single_quoted_powershell(std::string_view value) {
    std::string out = "'";
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        out.push_back(c);
        if (c == '\'') {
            out.push_back('\'');
        } else if (value.substr(i, 2) == "\xE2\x80" && i + 2 < value.size() &&
                   static_cast<unsigned char>(value[i + 2]) >= 0x98 &&
                   static_cast<unsigned char>(value[i + 2]) <= 0x9B) {
            out.append(value.substr(i + 1, 2));
            out.append(value.substr(i, 3));
            i += 2;
        }
    }
    return out + "'";
}

std::string assignment(Shell shell, const char* name, std::string_view value) {
    switch (shell) {
    case Shell::fish:
        return std::string("set -gx ") + name + " " + single_quoted_fish(value) + ";\n";
    case Shell::powershell:
        return std::string("$env:") + name + " = " + single_quoted_powershell(value) + ";\n";
    case Shell::sh:
        break;
    }
    return std::string("export ") + name + "=" + single_quoted_posix(value) + ";\n";
}

} // namespace

std::optional<Shell> parse_shell(std::string_view name) {
    if (name == "sh" || name == "bash" || name == "zsh" || name == "dash" || name == "ksh") {
        return Shell::sh;
    }
    if (name == "fish") {
        return Shell::fish;
    }
    if (name == "powershell" || name == "pwsh") {
        return Shell::powershell;
    }
    return std::nullopt;
}

std::string format_token(std::string_view token) {
    return std::string(token) + "\n";
}

std::string format_header(std::string_view token) {
    return "Authorization: Bearer " + std::string(token) + "\n";
}

std::string format_env(std::string_view token, std::int64_t expires_at, Shell shell) {
    return assignment(shell, "IOTSPOT_ACCESS_TOKEN", token) +
           assignment(shell, "IOTSPOT_TOKEN_EXPIRES_AT", std::to_string(expires_at));
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
                out += escaped;
            } else {
                out.push_back(c);
            }
        }
    }
    return out + "\"";
}

std::string format_json(std::string_view token, std::int64_t expires_at, std::int64_t now) {
    return "{\"access_token\":" + json_string(token) +
           ",\"token_type\":\"Bearer\",\"expires_at\":" +
           json_string(util::format_rfc3339(expires_at)) +
           ",\"expires_in\":" + std::to_string(expires_at > now ? expires_at - now : 0) + "}\n";
}

} // namespace iotspot::core
