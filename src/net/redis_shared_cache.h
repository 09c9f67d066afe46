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
//
// Which server a command goes to:
// - redis://: the URL's server. A Cluster node answers a key of another node's slot with
//   MOVED (the slot lives there: later commands go there too) or ASK (it is moving: this
//   command goes there, after ASKING); up to max_redirections of them are followed. The
//   token's keys share a hash tag, so one token's commands all go to one node.
// - redis+sentinel://: the primary the Sentinels name (SENTINEL get-master-addr-by-name,
//   asked in the URL's order), once ROLE has confirmed that it is a primary.
// A sign of a failover (the connection refused or closed, READONLY, a ROLE other than
// master) makes a command start over once, all within its deadline: after asking the
// Sentinels again, or from the URL's node after a redirection.

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

/// The most MOVED or ASK redirections one command follows.
inline constexpr int max_redirections = 5;

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
    Reply route(const std::vector<std::string>& command, const ReplyShape& shape,
                Clock::time_point until);
    Reply attempt(const std::vector<std::string>& command, const ReplyShape& shape, bool asking,
                  Clock::time_point until);
    /// Whether a command that failed with `error` starts over: with Sentinels, after asking
    /// them again; after a redirection, from the URL's node. Forgets the node when it does.
    bool start_over(const std::exception_ptr& error);
    core::SharedCacheNode find_primary(Clock::time_point until);
    core::SharedCacheNode ask_sentinel(const core::SharedCacheNode& sentinel,
                                       Clock::time_point until);
    std::unique_ptr<Connection> open(const core::SharedCacheNode& node, Clock::time_point until);
    void authenticate(Connection& connection, Clock::time_point until);
    void start(Clock::time_point until);
    core::SharedReply failure(const std::exception_ptr& error, Clock::time_point until);
    core::SharedReply describe(const std::exception_ptr& error);
    core::SharedReply server_error(const std::string& text);

    bool sentinel() const { return !settings_.url.master.empty(); }

    core::SharedCacheSettings settings_;
    std::unique_ptr<Connection> connection_;
    /// Where commands go (the URL's server, a redirection's, the Sentinels' primary); none:
    /// to be found before the next command.
    std::optional<core::SharedCacheNode> node_;
    std::string contacted_;      ///< "Redis at host:port", for messages: the server last contacted
    std::string contacted_host_; ///< its host, whose name its certificate must hold
    std::optional<Clock::time_point> limit_; ///< the caller's deadline
    bool limited_ = false;                   ///< the current command ends at limit_
};

} // namespace iotspot::net
