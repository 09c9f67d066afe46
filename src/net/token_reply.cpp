#include "net/token_reply.h"

#include <cmath>
#include <cstdint>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

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

Poco::JSON::Object::Ptr parse_object(const std::string& body) {
    try {
        Poco::JSON::Parser parser;
        const auto value = parser.parse(body);
        if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
            return value.extract<Poco::JSON::Object::Ptr>();
        }
    } catch (const Poco::Exception&) {
    } catch (const std::exception&) {
    }
    return nullptr;
}

std::optional<std::string> string_field(const Poco::JSON::Object::Ptr& object, const char* name) {
    if (!object || !object->has(name)) {
        return std::nullopt;
    }
    const auto value = object->get(name);
    if (!value.isString()) {
        return std::nullopt;
    }
    return value.convert<std::string>();
}

// A JSON number written as an integer: Poco holds it as Int64, or UInt64 when it is at least
// 2^63, or a double when it is beyond 2^64 or has a fraction or exponent.
struct WholeNumber {
    std::optional<std::int64_t> value;
    bool present = false;      ///< the field is a JSON number (not a string, bool or null)
    bool fraction = false;     ///< a number with a fraction, or written with one
    bool out_of_range = false; ///< an integer beyond 2^63-1 (or below -2^63)
};

WholeNumber whole_number(const Poco::JSON::Object::Ptr& object, const char* name) {
    WholeNumber number;
    if (!object || !object->has(name)) {
        return number;
    }
    const auto value = object->get(name);
    // Poco counts a bool as an integer: true would be 1 s.
    if (value.type() == typeid(bool) || value.isString() || value.isEmpty() || !value.isNumeric()) {
        return number;
    }
    number.present = true;
    try {
        if (!value.isInteger()) {
            const double real = value.convert<double>();
            number.out_of_range = real == std::floor(real) && std::fabs(real) >= 9.2e18;
            number.fraction = !number.out_of_range;
        } else if (value.isSigned()) {
            number.value = value.convert<std::int64_t>();
        } else if (const auto unsigned_value = value.convert<std::uint64_t>();
                   unsigned_value > static_cast<std::uint64_t>(INT64_MAX)) {
            number.out_of_range = true;
        } else {
            number.value = static_cast<std::int64_t>(unsigned_value);
        }
    } catch (const Poco::Exception&) {
        number.out_of_range = true;
    }
    return number;
}

std::optional<std::int64_t> integer_field(const Poco::JSON::Object::Ptr& object, const char* name) {
    return whole_number(object, name).value;
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

bool is_throttling(const HttpAnswer& answer, const Poco::JSON::Object::Ptr& body) {
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

} // namespace

std::optional<std::int64_t> parse_http_date(const std::string& text) {
    try {
        int tzd = 0;
        const auto date = Poco::DateTimeParser::parse(Poco::DateTimeFormat::HTTP_FORMAT, text, tzd);
        return static_cast<std::int64_t>(date.timestamp().epochTime()) - tzd;
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>
jwt_times(const std::string& token) {
    const auto parts = util::split(token, '.');
    if (parts.size() != 3) {
        return {};
    }
    std::string payload(parts[1]);
    for (char& c : payload) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    payload.append((4 - payload.size() % 4) % 4, '=');
    try {
        std::istringstream in(payload);
        Poco::Base64Decoder decoder(in);
        const std::string json((std::istreambuf_iterator<char>(decoder)),
                               std::istreambuf_iterator<char>());
        const auto object = parse_object(json);
        return {integer_field(object, "iat"), integer_field(object, "exp")};
    } catch (const Poco::Exception&) {
        return {};
    }
}

FetchResult interpret_answer(const HttpAnswer& answer, const std::string& scope, std::int64_t now) {
    const auto object = parse_object(answer.body);
    if (answer.truncated) {
        return network("the token server's answer was cut short (connection closed early)", true);
    }
    if (answer.status == 200) {
        if (!object) {
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
