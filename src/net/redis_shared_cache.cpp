#include "net/redis_shared_cache.h"

#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Error.h>
#include <Poco/Redis/Exception.h>
#include <Poco/Redis/RedisStream.h>
#include <Poco/Redis/Type.h>

#include "net/poco_tls_context.h"
#include "net/tls_context.h"

namespace iotspot::net {

namespace {

using core::SharedFailure;
using core::SharedReply;

// Deletes KEYS[1] only while it holds ARGV[1]: a lock is released by its holder only.
constexpr const char* compare_and_delete =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
    "else return 0 end";

// A reply the server sent as an error (`-ERR ...`, `-WRONGPASS ...`).
class ServerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

bool starts_with(const std::string& text, const char* prefix) {
    return text.rfind(prefix, 0) == 0;
}

} // namespace

struct RedisSharedCache::Connection {
    std::unique_ptr<Poco::Net::StreamSocket> socket;
    std::unique_ptr<Poco::Redis::RedisOutputStream> out;
    std::unique_ptr<Poco::Redis::RedisInputStream> in;

    // Sends `command` and reads one reply: nullopt for a nil, the text otherwise.
    std::optional<std::string> call(const std::vector<std::string>& command) {
        Poco::Redis::Array request;
        for (const auto& word : command) {
            request.add(word);
        }
        const std::string wire = request.toString();
        out->write(wire.data(), static_cast<std::streamsize>(wire.size()));
        out->flush();
        const int marker = in->get();
        if (marker == std::char_traits<char>::eof()) {
            throw Poco::Net::ConnectionResetException("the server closed the connection");
        }
        Poco::Redis::RedisType::Ptr reply =
            Poco::Redis::RedisType::createRedisType(static_cast<char>(marker));
        if (reply.isNull()) {
            throw Poco::Redis::RedisException("an answer that is not RESP");
        }
        reply->read(*in);
        using Poco::Redis::Type;
        if (auto* error = dynamic_cast<Type<Poco::Redis::Error>*>(reply.get())) {
            throw ServerError(error->value().getMessage());
        }
        if (auto* bulk = dynamic_cast<Type<Poco::Redis::BulkString>*>(reply.get())) {
            return bulk->value().isNull() ? std::nullopt
                                          : std::optional<std::string>(bulk->value().value());
        }
        if (auto* simple = dynamic_cast<Type<std::string>*>(reply.get())) {
            return simple->value();
        }
        if (auto* number = dynamic_cast<Type<Poco::Int64>*>(reply.get())) {
            return std::to_string(number->value());
        }
        throw Poco::Redis::RedisException("an answer of an unexpected type");
    }
};

RedisSharedCache::RedisSharedCache(core::SharedCacheSettings settings)
    : settings_(std::move(settings)) {}

RedisSharedCache::~RedisSharedCache() = default;

void RedisSharedCache::connect() {
    const Poco::Timespan timeout(static_cast<long>(settings_.timeout_ms) * 1000);
    const Poco::Net::SocketAddress address(settings_.url.host,
                                           static_cast<Poco::UInt16>(settings_.url.port));
    auto connection = std::make_unique<Connection>();
    if (settings_.url.tls) {
        auto secure =
            std::make_unique<Poco::Net::SecureStreamSocket>(poco_client_context(settings_.ca_file));
        forget_verify_failure();
        secure->setPeerHostName(settings_.url.host);
        secure->connect(address, timeout); // the handshake too, within `timeout`
        connection->socket = std::move(secure);
    } else {
        connection->socket = std::make_unique<Poco::Net::StreamSocket>();
        connection->socket->connect(address, timeout);
    }
    connection->socket->setReceiveTimeout(timeout);
    connection->socket->setSendTimeout(timeout);
    connection->socket->setNoDelay(true);
    connection->out = std::make_unique<Poco::Redis::RedisOutputStream>(*connection->socket);
    connection->in = std::make_unique<Poco::Redis::RedisInputStream>(*connection->socket);
    // Let the socket's exceptions (a timeout above all) through the streams.
    connection->out->exceptions(std::ios::badbit);
    connection->in->exceptions(std::ios::badbit);
    if (!settings_.password.empty()) {
        if (settings_.url.user.empty()) {
            connection->call({"AUTH", settings_.password});
        } else {
            connection->call({"AUTH", settings_.url.user, settings_.password});
        }
    }
    if (settings_.url.db != 0) {
        connection->call({"SELECT", std::to_string(settings_.url.db)});
    }
    connection_ = std::move(connection);
}

SharedReply RedisSharedCache::run(const std::vector<std::string>& command) {
    const std::string who = "Redis at " + settings_.url.where();
    const auto failure = [&](SharedFailure kind, const std::string& message) {
        connection_.reset();
        SharedReply reply;
        reply.failure = kind;
        reply.message = who + " " + message;
        return reply;
    };
    try {
        if (!connection_) {
            connect();
        }
        SharedReply reply;
        reply.value = connection_->call(command);
        return reply;
    } catch (const ServerError& error) {
        const std::string text = error.what();
        if (starts_with(text, "WRONGPASS") || starts_with(text, "NOAUTH") ||
            starts_with(text, "ERR AUTH") || starts_with(text, "ERR invalid password")) {
            return failure(SharedFailure::auth,
                           "refused the " +
                               (settings_.url.user.empty()
                                    ? std::string("password")
                                    : "user \"" + settings_.url.user + "\" or its password") +
                               " (" + text.substr(0, text.find(' ')) +
                               "); set IOTSPOT_REDIS_PASSWORD, or store it with iotspot-helper "
                               "configure --redis-password-stdin");
        }
        if (starts_with(text, "NOPERM")) {
            return failure(SharedFailure::auth,
                           "denied a command to this ACL user (NOPERM); it needs GET, SET, EVAL "
                           "and PING on keys iotspot-helper:* (docs/fleet.md)");
        }
        return failure(SharedFailure::protocol, "answered with an error: " + text.substr(0, 200));
    } catch (const Poco::TimeoutException&) {
        return failure(SharedFailure::timeout, "did not answer within " +
                                                   std::to_string(settings_.timeout_ms) +
                                                   " ms (IOTSPOT_REDIS_TIMEOUT_MS)");
    } catch (const Poco::Net::ConnectionRefusedException&) {
        return failure(SharedFailure::unreachable, "refused the connection (is it running?)");
    } catch (const Poco::Net::CertificateValidationException& error) {
        return failure(SharedFailure::tls, "presented a certificate that is not valid for " +
                                               settings_.url.host + " (" + error.message() +
                                               "); check the host name in shared_cache");
    } catch (const TlsSetupError& error) {
        return failure(SharedFailure::tls,
                       std::string("cannot be reached over TLS: ") + error.what());
    } catch (const Poco::Net::SSLException& error) {
        const std::string reason = take_verify_failure();
        return failure(SharedFailure::tls,
                       "failed the TLS handshake (" + (reason.empty() ? error.message() : reason) +
                           "); check that the profile's ca_file holds the CA of Redis's "
                           "certificate, and that the port speaks TLS");
    } catch (const Poco::Redis::RedisException& error) {
        return failure(SharedFailure::protocol, "sent " + error.message() +
                                                    "; check that shared_cache names a Redis "
                                                    "or Valkey server");
    } catch (const Poco::Exception& error) {
        return failure(SharedFailure::unreachable,
                       "cannot be reached (" + error.displayText() + ")");
    } catch (const std::exception& error) {
        return failure(SharedFailure::protocol, std::string("failed (") + error.what() + ")");
    }
}

SharedReply RedisSharedCache::get(const std::string& key) {
    return run({"GET", key});
}

SharedReply RedisSharedCache::set(const std::string& key, const std::string& value,
                                  std::int64_t ttl_ms, bool only_if_absent) {
    std::vector<std::string> command{"SET", key, value, "PX", std::to_string(ttl_ms)};
    if (only_if_absent) {
        command.emplace_back("NX");
    }
    return run(command);
}

SharedReply RedisSharedCache::delete_if_equal(const std::string& key, const std::string& expected) {
    SharedReply reply = run({"EVAL", compare_and_delete, "1", key, expected});
    if (reply.ok() && reply.value != std::optional<std::string>("1")) {
        reply.value.reset();
    }
    return reply;
}

SharedReply RedisSharedCache::ping() {
    return run({"PING"});
}

} // namespace iotspot::net
