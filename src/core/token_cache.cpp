#include "core/token_cache.h"

#include <cstdio>
#include <ctime>

#include "core/error.h"

namespace iotspot::core {

namespace {

const std::vector<const char*> migrations = {
    "CREATE TABLE tokens (profile TEXT PRIMARY KEY, obtained_at INTEGER NOT NULL, "
    "expires_at INTEGER NOT NULL, sealed BLOB NOT NULL)",
};

std::string token_ad(const TokenBinding& b, const TokenTimes& t) {
    const auto obtained = std::to_string(t.obtained_at);
    const auto expires = std::to_string(t.expires_at);
    return associated_data("iotspot-helper token v1",
                           {b.profile, b.client_id, b.token_url, b.scope, obtained, expires});
}

std::unique_ptr<Database> open_or_rebuild(const std::string& path, const Log& log) {
    try {
        return std::make_unique<Database>(path, migrations, "token cache");
    } catch (const DamagedDatabase& damaged) {
        const std::string aside = path + ".damaged";
        std::rename(path.c_str(), aside.c_str());
        std::remove((path + "-wal").c_str());
        std::remove((path + "-shm").c_str());
        log.warning(std::string(damaged.what()) + "; moved it to " + aside +
                    " and started a new cache");
        return std::make_unique<Database>(path, migrations, "token cache");
    }
}

} // namespace

TokenCache::TokenCache(const std::string& path, const Log& log)
    : db_(open_or_rebuild(path, log)), log_(log) {}

std::optional<CachedToken> TokenCache::load(const TokenBinding& binding, const Key& key) {
    try {
        auto stmt =
            db_->prepare("SELECT obtained_at, expires_at, sealed FROM tokens WHERE profile = ?");
        stmt.bind(1, binding.profile);
        if (!stmt.step()) {
            return std::nullopt;
        }
        CachedToken token;
        token.times = TokenTimes{stmt.integer(0), stmt.integer(1)};
        auto plain = open(key, stmt.blob(2), token_ad(binding, token.times));
        if (!plain) {
            log_.note("the cached token of profile \"" + binding.profile +
                      "\" does not match its settings or key; ignoring it");
            return std::nullopt;
        }
        token.access_token = std::move(*plain);
        return token;
    } catch (const DamagedDatabase& damaged) {
        log_.warning(std::string(damaged.what()) + "; treating it as empty");
        return std::nullopt;
    }
}

void TokenCache::save(const TokenBinding& binding, const Key& key, const CachedToken& token) {
    auto stmt = db_->prepare("INSERT OR REPLACE INTO tokens (profile, obtained_at, expires_at, "
                             "sealed) VALUES (?, ?, ?, ?)");
    stmt.bind(1, binding.profile)
        .bind(2, token.times.obtained_at)
        .bind(3, token.times.expires_at)
        .bind_blob(4, seal(key, token.access_token, token_ad(binding, token.times)));
    stmt.step();
    db_->checkpoint();
}

bool TokenCache::erase(const std::string& profile) {
    auto stmt = db_->prepare("DELETE FROM tokens WHERE profile = ? RETURNING profile");
    stmt.bind(1, profile);
    const bool found = stmt.step();
    while (stmt.step()) {
    }
    db_->checkpoint();
    return found;
}

std::vector<TokenCache::Entry> TokenCache::entries() {
    std::vector<Entry> out;
    auto stmt =
        db_->prepare("SELECT profile, obtained_at, expires_at FROM tokens ORDER BY profile");
    while (stmt.step()) {
        out.push_back(Entry{stmt.text(0), TokenTimes{stmt.integer(1), stmt.integer(2)}});
    }
    return out;
}

} // namespace iotspot::core
