#pragma once
// The shared tier: one token per organization's app client, shared by many hosts through a
// Redis or Valkey server that is never trusted with a usable token (docs/fleet.md).
//
//   profile setting   shared_cache = rediss://helper@redis.example:6380/2
//                     shared_cache = redis+sentinel://helper@s1:26379,s2:26379/mymaster
//   key names         iotspot-helper:v2:{<hash>}:token   iotspot-helper:v2:{<hash>}:lock
//                     <hash> = BLAKE2b-128(client id, token URL, scope, secret id), hex
//                     secret id = keyed BLAKE2b-128 of the client secret (shared_secret_id):
//                     each secret of a rotation has entries of its own; nothing secret;
//                     the braces are a Cluster hash tag, which keeps both in one slot
//   fleet counters    iotspot-helper:v2:{<client hash>}:count:<YYYY-MM-DD>:<counter> (INCR)
//                     <client hash> = BLAKE2b-128(client id, token URL, scope), hex: one
//                     slot for a client's counters, so one MGET reads them in a Cluster
//   token value       v1.<obtained_at>.<expires_at>.<hex(nonce || ciphertext || tag)>
//                     XChaCha20-Poly1305 under a key derived from the client secret, with
//                     associated data binding client id, token URL, scope and both times
//
// This header holds the pure parts (URL, key names, key derivation, sealing) and the
// interface the network module implements (`SharedCacheClient`, net/redis_shared_cache.h). Like
// token_client.h it is the boundary with the module: nothing is thrown across it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/environment.h"
#include "core/module_boundary.h"

namespace iotspot::core {

/// One server: a Redis or Valkey node, or a Sentinel.
struct SharedCacheNode {
    std::string host;
    int port = 6379;

    /// `host:port` (`[v6]:port`), for messages and `status`. Inline: the module uses it.
    std::string where() const {
        const bool ipv6 = host.find(':') != std::string::npos;
        return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }
    bool operator==(const SharedCacheNode& other) const {
        return host == other.host && port == other.port;
    }
    bool operator!=(const SharedCacheNode& other) const { return !(*this == other); }
};

/// Where the shared cache is: `redis://[user@]host:port[/db]` or `rediss://...` (TLS) for
/// one server or any node of a Cluster, or `redis+sentinel://[user@]host:port[,host:port...]
/// /MASTER[/db]` (`rediss+sentinel://`: TLS to the Sentinels and the primary) for a primary
/// that Sentinels watch.
struct SharedCacheUrl {
    bool tls = false;
    std::string user; ///< empty: the default user (AUTH with the password only)
    std::string host; ///< redis://: the server; Sentinel: the first Sentinel
    int port = 6379;
    int db = 0;
    std::string master;                     ///< non-empty: the Sentinels' name of the primary
    std::vector<SharedCacheNode> sentinels; ///< with `master`: where to ask, in order

    /// `redis://host:port` or `rediss+sentinel://user@a:26379,b:26379/name/db`: never a
    /// password.
    std::string text() const;
    /// `host:port`, or `name (Sentinel at a:26379,b:26379)`, for messages and `status`.
    /// Inline: the module uses it.
    std::string where() const {
        if (master.empty()) {
            return SharedCacheNode{host, port}.where();
        }
        std::string list;
        for (const auto& sentinel : sentinels) {
            list += (list.empty() ? "" : ",") + sentinel.where();
        }
        return master + " (Sentinel at " + list + ")";
    }
};

/// The most Sentinels a shared_cache setting may name.
inline constexpr std::size_t shared_sentinel_limit = 16;

/// Parses a shared_cache setting. Throws Error(usage) naming the problem; a URL holding a
/// password (`redis://user:pw@host`) is refused, so a password never lands in a config file.
SharedCacheUrl parse_shared_cache_url(const std::string& text);

inline constexpr int default_shared_cache_timeout_ms = 250;

/// The bound on each command as a whole (connecting to Redis first if need be, sending
/// it and reading its whole reply), in milliseconds: IOTSPOT_REDIS_TIMEOUT_MS (10 to
/// 10000), default 250. Throws Error(usage) for any other value.
int shared_cache_timeout_ms(const Environment& env);

/// The largest value the shared cache holds for the helper (a sealed token is a few hundred
/// bytes): a reply announcing more is refused before it is read.
inline constexpr std::size_t shared_value_limit = 64 * 1024;

/// What the module needs to reach the shared cache.
struct SharedCacheSettings {
    SharedCacheUrl url;
    std::string password; ///< empty: no AUTH
    std::string ca_file;  ///< trusted for rediss:// in addition to the system store
    int timeout_ms = 250;
};

/// Why a command failed. `auth` and `tls` get messages of their own: they need an operator.
enum class SharedFailure { none, unreachable, timeout, auth, tls, protocol };

struct SharedReply {
    SharedFailure failure = SharedFailure::none;
    std::string message; ///< for the user: never a value, a key's content or the password
    /// GET: the value, nullopt when the key is absent. SET: "OK" when it was set (with NX,
    /// nullopt when the key existed). Compare-and-delete: "1" when it deleted the key.
    std::optional<std::string> value;

    bool ok() const { return failure == SharedFailure::none; }
};

/// The reply to a read of counters: one number per key asked for, 0 for an absent key.
struct SharedCounts {
    SharedFailure failure = SharedFailure::none;
    std::string message; ///< as SharedReply::message
    std::vector<std::int64_t> values;

    bool ok() const { return failure == SharedFailure::none; }
};

/// The most keys one read_counts() call may ask for.
inline constexpr std::size_t shared_counts_limit = 256;

/// One connection to the shared cache, opened on first use. Not thread-safe. Never throws.
/// Each command ends within SharedCacheSettings::timeout_ms, and within the time limit
/// last set, whichever comes first; past it, it fails as a timeout.
class SharedCacheClient {
public:
    virtual ~SharedCacheClient() = default;
    /// Commands from now on end within `seconds` of this call (the caller's own deadline);
    /// with none left, a command fails as a timeout without being sent.
    virtual void limit_time(double seconds) = 0;
    /// GET key.
    virtual SharedReply get(const std::string& key) = 0;
    /// SET key value PX ttl_ms [NX].
    virtual SharedReply set(const std::string& key, const std::string& value, std::int64_t ttl_ms,
                            bool only_if_absent) = 0;
    /// Deletes `key` only while it still holds `expected` (a Lua EVAL, atomic in Redis).
    virtual SharedReply delete_if_equal(const std::string& key, const std::string& expected) = 0;
    /// PING (status).
    virtual SharedReply ping() = 0;
    /// INCR key, then PEXPIRE key ttl_ms (one EVAL, atomic in Redis); value: the new count.
    virtual SharedReply increment(const std::string& key, std::int64_t ttl_ms) = 0;
    /// MGET of at most shared_counts_limit keys holding counts.
    virtual SharedCounts read_counts(const std::vector<std::string>& keys) = 0;
};

/// Bumped whenever SharedCacheSettings, SharedReply or SharedCacheClient change shape.
inline constexpr int shared_cache_abi = 4;

/// The key a token is sealed with, derived from the client secret:
/// BLAKE2b-256(key = BLAKE2b-512(secret), message = "iotspot-helper shared-cache v1" NUL
/// client id). Whoever lacks the secret cannot derive it.
class SharedKey {
public:
    static constexpr std::size_t size = 32;
    static SharedKey derive(std::string_view client_secret, std::string_view client_id);
    const unsigned char* data() const { return bytes_.data(); }

private:
    std::array<unsigned char, size> bytes_{};
};

/// An identifier of `client_secret` that names its entries in the shared cache, so hosts on
/// the two secrets of a rotation never overwrite each other's: hex of BLAKE2b-128(key =
/// BLAKE2b-512(secret), message = "iotspot-helper shared-cache secret id v1" NUL client id),
/// the sealing key's derivation with a context of its own. One-way: it tells nothing about
/// the secret that the sealed value does not (docs/fleet.md).
std::string shared_secret_id(std::string_view client_secret, std::string_view client_id);

/// What a shared token belongs to.
struct SharedBinding {
    std::string client_id;
    std::string token_url;
    std::string scope;
    std::string secret_id; ///< shared_secret_id() of the secret that fetches the token
};

/// The Redis key of the token of `binding`, and of its refresh lock.
std::string shared_token_key(const SharedBinding& binding);
std::string shared_lock_key(const SharedBinding& binding);

/// The Redis key of the fleet's count `counter` for the client of `binding` (whichever
/// secret) on UTC day `day` ("2026-12-06").
std::string shared_counter_key(const SharedBinding& binding, std::string_view day,
                               std::string_view counter);

/// A token as the shared cache holds it, once opened.
struct SharedToken {
    std::string access_token;
    std::int64_t obtained_at = 0;
    std::int64_t expires_at = 0;
};

/// Seals `token` into the value stored under shared_token_key(binding).
std::string seal_shared_token(const SharedKey& key, const SharedBinding& binding,
                              const SharedToken& token);

/// Where a locally cached token came from: another host through the shared cache, or this
/// host, which published it there; unknown without a shared cache.
enum class TokenOrigin { unknown, shared_cache, published };

enum class SharedOpen { ok, malformed, expired, foreign };

/// Opens a value read from the shared cache. `expired`: its expiry is at or before `now`
/// (a replayed old value); `foreign`: it does not open with this key and binding (tampered,
/// copied from another client, or sealed with another secret). Never throws.
SharedOpen open_shared_token(const SharedKey& key, const SharedBinding& binding,
                             std::string_view value, std::int64_t now, SharedToken& token);

} // namespace iotspot::core

/// The module's shared_cache_abi (core/module_boundary.h).
IOTSPOT_MODULE_ENTRY const int iotspot_net_shared_cache_abi;

/// The network module's entry point for the shared cache: a new client (connecting on first
/// use), or nullptr when `abi` differs from the module's shared_cache_abi. Never throws.
IOTSPOT_MODULE_ENTRY iotspot::core::SharedCacheClient*
iotspot_net_create_shared_cache(int abi, const iotspot::core::SharedCacheSettings* settings);
