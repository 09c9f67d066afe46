#include "core/shared_cache.h"

#include <algorithm>
#include <cctype>

#include <sodium.h>

#include "core/crypto.h"
#include "core/error.h"
#include "util/strings.h"

namespace iotspot::core {

namespace {

constexpr std::string_view key_context = "iotspot-helper shared-cache v1";
constexpr std::string_view secret_id_context = "iotspot-helper shared-cache secret id v1";
constexpr std::string_view token_purpose = "iotspot-helper shared token v1";
constexpr std::string_view value_prefix = "v1.";
constexpr std::size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t tag_size = crypto_aead_xchacha20poly1305_ietf_ABYTES;

const unsigned char* bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

std::string to_hex(std::string_view raw) {
    std::string hex(raw.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), bytes(raw), raw.size());
    hex.pop_back();
    return hex;
}

std::optional<std::string> from_hex(std::string_view hex) {
    std::string raw(hex.size() / 2, '\0');
    std::size_t written = 0;
    const char* end = nullptr;
    if (hex.size() % 2 != 0 ||
        sodium_hex2bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), hex.data(),
                       hex.size(), nullptr, &written, &end) != 0 ||
        end != hex.data() + hex.size()) {
        return std::nullopt;
    }
    raw.resize(written);
    return raw;
}

std::string token_ad(const SharedBinding& b, std::int64_t obtained_at, std::int64_t expires_at) {
    return associated_data(token_purpose,
                           {b.client_id, b.token_url, b.scope, std::to_string(obtained_at),
                            std::to_string(expires_at)});
}

std::string hash_hex(const std::string& input) {
    unsigned char digest[16];
    crypto_generichash(digest, sizeof digest, bytes(input), input.size(), nullptr, 0);
    return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string binding_hash(const SharedBinding& b) {
    return hash_hex(associated_data("", {b.client_id, b.token_url, b.scope, b.secret_id}));
}

std::string client_hash(const SharedBinding& b) {
    return hash_hex(associated_data("", {b.client_id, b.token_url, b.scope}));
}

// BLAKE2b(key = BLAKE2b-512(secret), message = context NUL client id), `size` bytes.
template <std::size_t size>
std::array<unsigned char, size> keyed_by_secret(std::string_view context,
                                                std::string_view client_secret,
                                                std::string_view client_id) {
    if (sodium_init() < 0) {
        throw Error(Exit::store, "cannot initialise libsodium (no system randomness?)");
    }
    unsigned char prk[crypto_generichash_BYTES_MAX];
    crypto_generichash(prk, sizeof prk, bytes(client_secret), client_secret.size(), nullptr, 0);
    const std::string message = associated_data(context, {client_id});
    std::array<unsigned char, size> out{};
    crypto_generichash(out.data(), out.size(), bytes(message), message.size(), prk, sizeof prk);
    sodium_memzero(prk, sizeof prk);
    return out;
}

[[noreturn]] void refuse(const std::string& why) {
    throw Error(Exit::usage, "shared_cache " + why +
                                 "; use redis://[user@]host:port[/db], rediss://..., or "
                                 "redis+sentinel://[user@]host:port[,host:port...]/MASTER[/db] "
                                 "(the password goes in IOTSPOT_REDIS_PASSWORD or "
                                 "--redis-password-stdin)");
}

// What a URL's scheme says.
struct Scheme {
    std::string_view prefix;
    bool tls;
    bool sentinel; ///< the URL names Sentinels
};

// Takes the scheme off `rest` and returns it.
Scheme take_scheme(std::string_view& rest) {
    static constexpr Scheme schemes[] = {{"rediss+sentinel://", true, true},
                                         {"redis+sentinel://", false, true},
                                         {"rediss://", true, false},
                                         {"redis://", false, false}};
    for (const auto& scheme : schemes) {
        if (rest.rfind(scheme.prefix, 0) == 0) {
            rest.remove_prefix(scheme.prefix.size());
            return scheme;
        }
    }
    refuse("must start with redis://, rediss://, redis+sentinel:// or rediss+sentinel://");
}

// Takes `user@` off `rest`, if there is one.
std::string take_user(std::string_view& rest) {
    const auto at = rest.rfind('@');
    if (at == std::string_view::npos) {
        return "";
    }
    const auto user = rest.substr(0, at);
    if (user.find(':') != std::string_view::npos) {
        refuse("must not hold a password");
    }
    if (user.empty() || user.find('@') != std::string_view::npos) {
        refuse("has an empty or malformed user name");
    }
    rest.remove_prefix(at + 1);
    return std::string(user);
}

// `host`, `host:port`, `[v6]` or `[v6]:port`.
SharedCacheNode parse_node(std::string_view authority, int default_port) {
    SharedCacheNode node{"", default_port};
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            refuse("has an unclosed [IPv6 address]");
        }
        node.host = std::string(authority.substr(1, close - 1));
        const auto after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':') {
            refuse("has text after the [IPv6 address]");
        }
        port_text = after.empty() ? after : after.substr(1);
    } else {
        const auto colon = authority.find(':');
        node.host = std::string(authority.substr(0, colon));
        port_text =
            colon == std::string_view::npos ? std::string_view() : authority.substr(colon + 1);
    }
    if (node.host.empty()) {
        refuse("has no host");
    }
    if (!port_text.empty()) {
        const auto port = util::parse_int(port_text);
        if (!port || *port < 1 || *port > 65535) {
            refuse("has a port that is not a number from 1 to 65535");
        }
        node.port = static_cast<int>(*port);
    }
    return node;
}

int parse_db(std::string_view text) {
    const auto db = util::parse_int(text);
    if (!db || *db < 0 || *db > 1000) {
        refuse("has a database number that is not a whole number from 0 to 1000");
    }
    return static_cast<int>(*db);
}

// A Sentinel's name for a primary: letters, digits, '.', '_' and '-'.
std::string parse_master(std::string_view name) {
    const bool plain =
        !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
                   c == '-';
        });
    if (!plain) {
        refuse("needs the primary's name after the Sentinels (/MASTER: up to 64 letters, "
               "digits, '.', '_' or '-')");
    }
    return std::string(name);
}

// `a:26379,b:26379/MASTER[/db]`, after the scheme and the user.
void parse_sentinels(std::string_view rest, SharedCacheUrl& url) {
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
        parse_master("");
    }
    for (const auto& authority : util::split(rest.substr(0, slash), ',')) {
        if (url.sentinels.size() == shared_sentinel_limit) {
            refuse("names more than " + std::to_string(shared_sentinel_limit) + " Sentinels");
        }
        url.sentinels.push_back(parse_node(authority, 26379));
    }
    const auto path = rest.substr(slash + 1);
    const auto next = path.find('/');
    url.master = parse_master(path.substr(0, next));
    if (next != std::string_view::npos) {
        url.db = parse_db(path.substr(next + 1));
    }
    url.host = url.sentinels.front().host;
    url.port = url.sentinels.front().port;
}

} // namespace

std::string SharedCacheUrl::text() const {
    std::string scheme = tls ? "rediss" : "redis";
    std::string nodes = SharedCacheNode{host, port}.where();
    std::string path;
    if (!master.empty()) {
        scheme += "+sentinel";
        nodes.clear();
        for (const auto& sentinel : sentinels) {
            nodes += (nodes.empty() ? "" : ",") + sentinel.where();
        }
        path = "/" + master;
    }
    return scheme + "://" + (user.empty() ? "" : user + "@") + nodes + path +
           (db != 0 ? "/" + std::to_string(db) : "");
}

SharedCacheUrl parse_shared_cache_url(const std::string& text) {
    SharedCacheUrl url;
    std::string_view rest(text);
    const Scheme scheme = take_scheme(rest);
    url.tls = scheme.tls;
    const bool sentinel = scheme.sentinel;
    for (const char c : rest) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?' || c == '#') {
            refuse("contains a space, control character, '?' or '#'");
        }
    }
    url.user = take_user(rest);
    if (sentinel) {
        parse_sentinels(rest, url);
        return url;
    }
    const auto slash = rest.find('/');
    const SharedCacheNode node = parse_node(rest.substr(0, slash), 6379);
    url.host = node.host;
    url.port = node.port;
    if (slash != std::string_view::npos) {
        url.db = parse_db(rest.substr(slash + 1));
    }
    return url;
}

int shared_cache_timeout_ms(const Environment& env) {
    const auto value = env.get("IOTSPOT_REDIS_TIMEOUT_MS");
    if (!value) {
        return default_shared_cache_timeout_ms;
    }
    const auto ms = util::parse_int(*value);
    if (!ms || *ms < 10 || *ms > 10000) {
        throw Error(Exit::usage, "IOTSPOT_REDIS_TIMEOUT_MS must be a whole number of "
                                 "milliseconds from 10 to 10000, not \"" +
                                     *value + "\"; unset it for the default of " +
                                     std::to_string(default_shared_cache_timeout_ms));
    }
    return static_cast<int>(*ms);
}

SharedKey SharedKey::derive(std::string_view client_secret, std::string_view client_id) {
    SharedKey key;
    key.bytes_ = keyed_by_secret<size>(key_context, client_secret, client_id);
    return key;
}

std::string shared_secret_id(std::string_view client_secret, std::string_view client_id) {
    const auto id = keyed_by_secret<16>(secret_id_context, client_secret, client_id);
    return to_hex(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

// v2: the hash is a Cluster hash tag, so a token and its lock share a slot (v1 keys were
// iotspot-helper:v1:token:<hash> and iotspot-helper:v1:lock:<hash>).
std::string shared_token_key(const SharedBinding& binding) {
    return "iotspot-helper:v2:{" + binding_hash(binding) + "}:token";
}

std::string shared_lock_key(const SharedBinding& binding) {
    return "iotspot-helper:v2:{" + binding_hash(binding) + "}:lock";
}

std::string shared_counter_key(const SharedBinding& binding, std::string_view day,
                               std::string_view counter) {
    return "iotspot-helper:v2:{" + client_hash(binding) + "}:count:" + std::string(day) + ":" +
           std::string(counter);
}

std::string seal_shared_token(const SharedKey& key, const SharedBinding& binding,
                              const SharedToken& token) {
    const std::string ad = token_ad(binding, token.obtained_at, token.expires_at);
    const std::string_view plain = token.access_token;
    std::string sealed(nonce_size + plain.size() + tag_size, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(sealed.data());
    randombytes_buf(nonce, nonce_size);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + nonce_size, &written, bytes(plain),
                                               plain.size(), bytes(ad), ad.size(), nullptr, nonce,
                                               key.data());
    sealed.resize(nonce_size + written);
    return std::string(value_prefix) + std::to_string(token.obtained_at) + "." +
           std::to_string(token.expires_at) + "." + to_hex(sealed);
}

SharedOpen open_shared_token(const SharedKey& key, const SharedBinding& binding,
                             std::string_view value, std::int64_t now, SharedToken& token) {
    if (value.size() > shared_value_limit || value.rfind(value_prefix, 0) != 0) {
        return SharedOpen::malformed;
    }
    const auto fields = util::split(value.substr(value_prefix.size()), '.');
    if (fields.size() != 3) {
        return SharedOpen::malformed;
    }
    const auto obtained_at = util::parse_int(fields[0]);
    const auto expires_at = util::parse_int(fields[1]);
    const auto sealed = from_hex(fields[2]);
    if (!obtained_at || !expires_at || !sealed || sealed->size() < nonce_size + tag_size) {
        return SharedOpen::malformed;
    }
    if (*expires_at <= now) {
        return SharedOpen::expired;
    }
    const std::string ad = token_ad(binding, *obtained_at, *expires_at);
    std::string plain(sealed->size() - nonce_size - tag_size, '\0');
    unsigned long long written = 0;
    const auto* nonce = bytes(*sealed);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(plain.data()), &written, nullptr, nonce + nonce_size,
            sealed->size() - nonce_size, bytes(ad), ad.size(), nonce, key.data()) != 0) {
        return SharedOpen::foreign;
    }
    plain.resize(written);
    if (!util::is_b64token(plain)) {
        return SharedOpen::foreign;
    }
    token = SharedToken{std::move(plain), *obtained_at, *expires_at};
    return SharedOpen::ok;
}

} // namespace iotspot::core
