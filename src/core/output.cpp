#include "core/output.h"

#include "util/time.h"

#include <cstdio>

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

std::string single_quoted_powershell(std::string_view value) {
    std::string out = "'";
    for (const char c : value) {
        out.push_back(c);
        if (c == '\'') {
            out.push_back('\'');
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

std::string format_token(std::string_view token) { return std::string(token) + "\n"; }

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
    return "{\"access_token\":" + json_string(token) + ",\"token_type\":\"Bearer\",\"expires_at\":" +
           json_string(util::format_rfc3339(expires_at)) +
           ",\"expires_in\":" + std::to_string(expires_at > now ? expires_at - now : 0) + "}\n";
}

} // namespace iotspot::core
