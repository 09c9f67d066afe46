#pragma once
// The shared cache's client on Poco::Redis (core/shared_cache.h): RESP commands and replies
// with Poco::Redis's Array, RedisType and streams, over a Poco::Net::StreamSocket, or a
// SecureStreamSocket for rediss:// that verifies the chain (system store plus the profile's
// ca_file) and the host name. Poco 1.11's Redis::Client (Debian 12) cannot take a socket of
// ours, so the connection is ours and the protocol is Poco's (docs/architecture.md).
//
// Every connect, read and write is bounded by SharedCacheSettings::timeout_ms. A failure
// closes the connection and comes back as a SharedReply naming Redis; nothing is thrown.

#include <memory>
#include <vector>

#include "core/shared_cache.h"

namespace iotspot::net {

class RedisSharedCache : public core::SharedCacheClient {
public:
    explicit RedisSharedCache(core::SharedCacheSettings settings);
    ~RedisSharedCache() override;

    core::SharedReply get(const std::string& key) override;
    core::SharedReply set(const std::string& key, const std::string& value, std::int64_t ttl_ms,
                          bool only_if_absent) override;
    core::SharedReply delete_if_equal(const std::string& key, const std::string& expected) override;
    core::SharedReply ping() override;

private:
    struct Connection;
    core::SharedReply run(const std::vector<std::string>& command);
    void connect();

    core::SharedCacheSettings settings_;
    std::unique_ptr<Connection> connection_;
};

} // namespace iotspot::net
