#include "store/token_cache.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/error.h"

namespace iotspot::store {

namespace {

const std::vector<const char*> migrations = {
    "CREATE TABLE tokens (profile TEXT PRIMARY KEY, obtained_at INTEGER NOT NULL, "
    "expires_at INTEGER NOT NULL, sealed BLOB NOT NULL)",
};

std::string token_ad(const TokenBinding& b, const core::TokenTimes& t) {
    const auto obtained = std::to_string(t.obtained_at);
    const auto expires = std::to_string(t.expires_at);
    return core::associated_data("iotspot-helper token v1",
                                 {b.profile, b.client_id, b.token_url, b.scope, obtained, expires});
}

std::unique_ptr<Database> open_database(const std::string& path) {
    return std::make_unique<Database>(path, migrations, "token cache");
}

// The cache syncs nothing (docs/architecture.md): a miss wrote its token and checkpoint with
// five fdatasync calls, for a token it can fetch again; a file that a power cut damaged is
// moved aside and rebuilt. Set before each write rather than at open, which every cache hit
// pays for.
void without_sync(Database& db) {
    db.exec("PRAGMA synchronous=OFF");
}

} // namespace

TokenCache::TokenCache(const std::string& path, const core::Log& log) : path_(path), log_(log) {
    open_or_recover();
}

void TokenCache::open_or_recover() {
    try {
        db_ = open_database(path_);
    } catch (const DamagedDatabase& damaged) {
        recover(damaged);
    }
}

void TokenCache::recover(const DamagedDatabase& damaged) {
    db_.reset();
    const std::string aside = path_ + ".damaged";
    if (std::rename(path_.c_str(), aside.c_str()) != 0) {
        const std::string reason = std::strerror(errno);
        log_.warning(std::string(damaged.what()) + "; cannot move it aside to " + aside + " (" +
                     reason + "); continuing without the token cache: remove " + path_ + " (and " +
                     aside + " if it is in the way)");
        return;
    }
    // The log and the shared-memory index belong to the damaged file.
    std::remove((path_ + "-wal").c_str());
    std::remove((path_ + "-shm").c_str());
    try {
        db_ = open_database(path_);
    } catch (const DamagedDatabase& again) {
        log_.warning(std::string(again.what()) + "; continuing without the token cache");
        return;
    }
    log_.warning(std::string(damaged.what()) + "; moved it to " + aside +
                 " and started a new cache");
}

template <typename T, typename Op> T TokenCache::guarded(Op op, T fallback, bool retry) {
    if (!db_) {
        return fallback;
    }
    try {
        return op(*db_);
    } catch (const DamagedDatabase& damaged) {
        recover(damaged);
    }
    if (!db_ || !retry) {
        return fallback;
    }
    try {
        return op(*db_);
    } catch (const DamagedDatabase& damaged) {
        recover(damaged);
        return fallback;
    }
}

namespace {

// The cached row of `binding`, opened with `key`; nullopt when there is none or it does not
// open (another key, other settings).
std::optional<CachedToken> read_token(Database& db, const TokenBinding& binding,
                                      const core::Key& key, const core::Log& log) {
    auto stmt = db.prepare("SELECT obtained_at, expires_at, sealed FROM tokens WHERE profile = ?");
    stmt.bind(1, binding.profile);
    if (!stmt.step()) {
        return std::nullopt;
    }
    CachedToken token;
    token.times = core::TokenTimes{stmt.integer(0), stmt.integer(1)};
    auto plain = open(key, stmt.blob(2), token_ad(binding, token.times));
    if (!plain) {
        log.note("the cached token of profile \"" + binding.profile +
                 "\" does not match its settings or key; ignoring it");
        return std::nullopt;
    }
    token.access_token = std::move(*plain);
    return token;
}

// Writes `token` sealed into the row of `binding`, then empties the log.
void write_token(Database& db, const TokenBinding& binding, const core::Key& key,
                 const CachedToken& token) {
    without_sync(db);
    auto stmt = db.prepare("INSERT OR REPLACE INTO tokens (profile, obtained_at, "
                           "expires_at, sealed) VALUES (?, ?, ?, ?)");
    stmt.bind(1, binding.profile)
        .bind(2, token.times.obtained_at)
        .bind(3, token.times.expires_at)
        .bind_blob(4, seal(key, token.access_token, token_ad(binding, token.times)));
    stmt.step();
    // An empty log for the next cache hit: the first process to open a database with a
    // non-empty log rebuilds its index from the whole log (callgrind: a hit took 3.3 million
    // instructions instead of 0.69 million).
    db.checkpoint();
}

} // namespace

std::optional<CachedToken> TokenCache::load(const TokenBinding& binding, const core::Key& key) {
    return guarded([&](Database& db) { return read_token(db, binding, key, log_); },
                   std::optional<CachedToken>{}, false);
}

void TokenCache::save(const TokenBinding& binding, const core::Key& key, const CachedToken& token) {
    guarded(
        [&](Database& db) {
            write_token(db, binding, key, token);
            return true;
        },
        false, true);
}

bool TokenCache::erase(const std::string& profile) {
    return guarded(
        [&](Database& db) {
            without_sync(db);
            auto stmt = db.prepare("DELETE FROM tokens WHERE profile = ? RETURNING profile");
            stmt.bind(1, profile);
            const bool found = stmt.step();
            while (stmt.step()) {
            }
            db.checkpoint();
            return found;
        },
        false, false);
}

std::vector<TokenCache::Entry> TokenCache::entries() {
    return guarded(
        [&](Database& db) {
            std::vector<Entry> out;
            auto stmt =
                db.prepare("SELECT profile, obtained_at, expires_at FROM tokens ORDER BY profile");
            while (stmt.step()) {
                out.push_back(
                    Entry{stmt.text(0), core::TokenTimes{stmt.integer(1), stmt.integer(2)}});
            }
            return out;
        },
        std::vector<Entry>{}, false);
}

} // namespace iotspot::store
