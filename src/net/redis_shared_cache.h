#pragma once
// The shared cache's client (core/shared_cache.h): RESP over a socket of ours, a
// Poco::Net::StreamSocket, or a SecureStreamSocket for rediss:// that verifies the chain
// (system store plus the profile's ca_file) and the host name. Replies are read by
// net/redis_reply.h (hiredis's reader, with the type, length and size checked before
// anything is allocated for them); no other code sees a byte from Redis.
//
// Each command is bounded as a whole, not per read: connecting if need be (resolving the
// name, TCP, the TLS handshake, AUTH and SELECT), sending it and reading the whole reply
// end within SharedCacheSettings::timeout_ms and within the caller's limit_time(). A
// watchdog shuts the socket down at that moment, which ends a read however slowly the
// server drips. A failure closes the connection and comes back as a SharedReply naming
// Redis, with every byte that came from Redis escaped; nothing is thrown.

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/shared_cache.h"

namespace iotspot::net {

struct ReplyShape;
struct Reply;

class RedisSharedCache : public core::SharedCacheClient {
public:
    explicit RedisSharedCache(core::SharedCacheSettings settings);
    ~RedisSharedCache() override;

    void limit_time(double seconds) override;
    core::SharedReply get(const std::string& key) override;
    core::SharedReply set(const std::string& key, const std::string& value, std::int64_t ttl_ms,
                          bool only_if_absent) override;
    core::SharedReply delete_if_equal(const std::string& key, const std::string& expected) override;
    core::SharedReply ping() override;
    core::SharedReply increment(const std::string& key, std::int64_t ttl_ms) override;
    core::SharedCounts read_counts(const std::vector<std::string>& keys) override;

private:
    using Clock = std::chrono::steady_clock;
    struct Connection;

    /// Runs `command`; with `whole`, the reply is also kept there (an array's elements).
    core::SharedReply run(const std::vector<std::string>& command, const ReplyShape& shape,
                          Reply* whole = nullptr);
    core::SharedReply failure(const std::exception_ptr& error, Clock::time_point until);
    core::SharedReply describe(const std::exception_ptr& error);
    core::SharedReply server_error(const std::string& text);
    void start(Clock::time_point until);

    core::SharedCacheSettings settings_;
    std::unique_ptr<Connection> connection_;
    std::optional<Clock::time_point> limit_; ///< the caller's deadline
    bool limited_ = false;                   ///< the current command ends at limit_
};

} // namespace iotspot::net
