#include "net/token_reply.h"

#include <cmath>
#include <cstdint>
#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <vector>

#include "util/strings.h"

namespace iotspot::net {

namespace {

using core::Exit;
using core::FetchResult;

FetchResult network(std::string message, bool retryable = false) {
    FetchResult result;
    result.code = Exit::network;
    result.message = std::move(message);
    result.retryable = retryable;
    return result;
}

// Server-provided text, made safe for one line of a message.
std::string printable(const std::string& text, std::size_t limit = 160) {
    std::string out;
    for (const char c : text) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
    }
    return out;
}

using Json = nlohmann::json;

// The body as a JSON object, or null. nlohmann's parser keeps its nesting on a heap stack, so
// no input can make it recurse; it never throws with allow_exceptions off.
Json parse_object(const std::string& body) {
    Json value = Json::parse(body, nullptr, false);
    return value.is_object() ? value : Json();
}

std::optional<std::string> string_field(const Json& object, const char* name) {
    if (!object.is_object()) {
        return std::nullopt;
    }
    const auto field = object.find(name);
    if (field == object.end() || !field->is_string()) {
        return std::nullopt;
    }
    return field->get<std::string>();
}

// A JSON number: an integer within int64, or why not.
struct WholeNumber {
    std::optional<std::int64_t> value;
    bool fraction = false;     ///< a number with a fraction or an exponent
    bool out_of_range = false; ///< an integer beyond 2^63-1 (or below -2^63)
};

WholeNumber whole_number(const Json& object, const char* name) {
    WholeNumber number;
    if (!object.is_object()) {
        return number;
    }
    const auto field = object.find(name);
    // A boolean, a string or null is no number: true is not 1 s.
    if (field == object.end() || !field->is_number()) {
        return number;
    }
    if (field->is_number_unsigned()) {
        const auto value = field->get<std::uint64_t>();
        number.out_of_range = value > static_cast<std::uint64_t>(INT64_MAX);
        if (!number.out_of_range) {
            number.value = static_cast<std::int64_t>(value);
        }
    } else if (field->is_number_integer()) {
        number.value = field->get<std::int64_t>();
    } else {
        const double real = field->get<double>();
        number.out_of_range =
            std::isfinite(real) && real == std::floor(real) && std::fabs(real) >= 9.2e18;
        number.fraction = !number.out_of_range;
    }
    return number;
}

std::optional<std::int64_t> integer_field(const Json& object, const char* name) {
    return whole_number(object, name).value;
}

// base64url without padding (a JWT part) decoded, or nothing when it is not base64.
std::optional<std::string> base64url_decode(std::string_view text) {
    std::string padded(text);
    for (char& c : padded) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    const std::size_t padding = (4 - padded.size() % 4) % 4;
    if (padding == 3) {
        return std::nullopt;
    }
    padded.append(padding, '=');
    std::vector<unsigned char> out(padded.size() / 4 * 3 + 1);
    const int length =
        EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(padded.data()),
                        static_cast<int>(padded.size()));
    if (length < 0 || static_cast<std::size_t>(length) < padding) {
        return std::nullopt;
    }
    return std::string(out.begin(), out.begin() + (length - static_cast<int>(padding)));
}

std::optional<std::int64_t> retry_after(const HttpAnswer& answer, std::int64_t now) {
    const auto it = answer.headers.find("retry-after");
    if (it == answer.headers.end()) {
        return std::nullopt;
    }
    const auto text = std::string(util::trim(it->second));
    if (const auto seconds = util::parse_int(text)) {
        return *seconds < 0 ? 0 : *seconds;
    }
    if (const auto date = parse_http_date(text)) {
        return *date > now ? *date - now : 0;
    }
    return std::nullopt;
}

bool is_throttling(const HttpAnswer& answer, const Json& body) {
    if (answer.status == 429) {
        return true;
    }
    const auto header = answer.headers.find("x-amzn-errortype");
    if (header != answer.headers.end() &&
        header->second.find("TooManyRequests") != std::string::npos) {
        return true;
    }
    const auto type = string_field(body, "__type");
    const auto code = string_field(body, "code");
    const auto matches = [](const std::optional<std::string>& s) {
        return s && (s->find("TooManyRequests") != std::string::npos ||
                     s->find("Throttl") != std::string::npos);
    };
    return matches(type) || matches(code);
}

FetchResult oauth_error(const std::string& error, const std::optional<std::string>& description,
                        const std::string& scope) {
    FetchResult result;
    result.code = Exit::rejected;
    const std::string detail = description ? " (" + printable(*description) + ")" : "";
    if (error == "invalid_client") {
        result.message = "the token server rejected the client id or secret (invalid_client)" +
                         detail +
                         "; check them with your organization admin in the iotspot Control "
                         "Center, then run iotspot-helper configure again";
    } else if (error == "unauthorized_client") {
        result.message = "this client may not use the client-credentials grant "
                         "(unauthorized_client)" +
                         detail +
                         "; ask your organization admin to enable it in the Control Center";
    } else if (error == "invalid_scope") {
        result.message = "the token server refused the scope \"" + printable(scope) +
                         "\" (invalid_scope)" + detail + "; iotspot's scope is iotspot/openapi";
    } else if (error == "unsupported_grant_type") {
        result.message = "the token server does not support the client-credentials grant "
                         "(unsupported_grant_type)" +
                         detail + "; check that token_url is a Cognito token endpoint";
    } else if (error == "invalid_request") {
        result.message = "the token server called the request malformed (invalid_request)" +
                         detail + "; check token_url and the client id";
    } else {
        result.message = "the token server rejected the request (" + printable(error, 60) + ")" +
                         detail + "; check the profile's settings";
    }
    return result;
}

// A 200 answer: the token and its lifetime, or what is wrong with them.
FetchResult success(const Json& object) {
    if (!object.is_object()) {
        return network("the token server's answer is not a JSON object; check token_url");
    }
    const auto token = string_field(object, "access_token");
    if (!token || token->empty()) {
        return network("the token server's answer has no access_token; check token_url");
    }
    const auto expires_in = whole_number(object, "expires_in");
    if (expires_in.out_of_range) {
        return network("the token server's answer has an expires_in beyond 2^63-1 s; check "
                       "token_url");
    }
    if (expires_in.fraction) {
        return network("the token server's answer has an expires_in that is not a whole "
                       "number of seconds; check token_url");
    }
    if (!expires_in.value) {
        return network("the token server's answer has no numeric expires_in; check token_url");
    }
    const auto type = string_field(object, "token_type");
    if (type && util::ascii_lower(*type) != "bearer") {
        return network("the token server issued a \"" + printable(*type, 30) +
                       "\" token, not a Bearer token; check token_url");
    }
    FetchResult result;
    result.access_token = *token;
    result.expires_in = *expires_in.value;
    std::tie(result.jwt_issued_at, result.jwt_expires_at) = jwt_times(*token);
    return result;
}

} // namespace

std::optional<std::int64_t> parse_http_date(const std::string& text) {
    // curl_getdate reads the three HTTP date formats (RFC 9110 5.6.7); -1 is its failure.
    const time_t parsed = curl_getdate(text.c_str(), nullptr);
    if (parsed == -1) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(parsed);
}

std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>
jwt_times(const std::string& token) {
    const auto parts = util::split(token, '.');
    if (parts.size() != 3) {
        return {};
    }
    const auto payload = base64url_decode(parts[1]);
    if (!payload) {
        return {};
    }
    const auto object = parse_object(*payload);
    return {integer_field(object, "iat"), integer_field(object, "exp")};
}

FetchResult interpret_answer(const HttpAnswer& answer, const std::string& scope, std::int64_t now) {
    const auto object = parse_object(answer.body);
    if (answer.truncated) {
        return network("the token server's answer was cut short (connection closed early)", true);
    }
    if (answer.status == 200) {
        return success(object);
    }
    if (is_throttling(answer, object)) {
        auto result = network("the token server is throttling requests (HTTP " +
                                  std::to_string(answer.status) + "); try again shortly",
                              true);
        result.retry_after = retry_after(answer, now);
        return result;
    }
    if (answer.status >= 400 && answer.status < 500) {
        if (const auto error = string_field(object, "error")) {
            return oauth_error(*error, string_field(object, "error_description"), scope);
        }
        return network("the token server answered HTTP " + std::to_string(answer.status) +
                       " without an OAuth error; check token_url");
    }
    if (answer.status >= 500) {
        auto result = network("the token server failed (HTTP " + std::to_string(answer.status) +
                                  "); try again later",
                              true);
        result.retry_after = retry_after(answer, now);
        return result;
    }
    return network("the token server answered HTTP " + std::to_string(answer.status) +
                   "; check token_url");
}

} // namespace iotspot::net
