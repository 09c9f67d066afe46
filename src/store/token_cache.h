#pragma once
// The per-user token cache: one row per profile in $XDG_CACHE_HOME/iotspot-helper/tokens.db.
// The access token is sealed (crypto.h) with associated data naming the profile, client id,
// token URL, scope and the row's times, so a row that was copied, edited, or belongs to a
// profile since reconfigured simply fails to open and counts as a miss.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/expiry.h"
#include "core/log.h"
#include "store/sqlite.h"

namespace iotspot::store {

/// What a cached token is bound to.
struct TokenBinding {
    std::string profile;
    std::string client_id;
    std::string token_url;
    std::string scope;
};

struct CachedToken {
    std::string access_token;
    core::TokenTimes times;
};

/// A damaged file (or one holding foreign tables), found by any of the operations below, is
/// moved aside to `PATH.damaged` and rebuilt, with a warning; the operation then goes on
/// with the new file (load and entries find it empty). When it cannot be moved (a read-only
/// directory, a directory in the way) the cache carries on without a file, and says so: a
/// miss for every load, nothing saved. A file of a newer schema is refused with
/// StoreRefused.
class TokenCache {
public:
    /// Opens the cache at `path`, creating it.
    TokenCache(const std::string& path, const core::Log& log);

    /// The token cached for `binding`, or nullopt when there is none or it fails to open.
    std::optional<CachedToken> load(const TokenBinding& binding, const core::Key& key);

    void save(const TokenBinding& binding, const core::Key& key, const CachedToken& token);

    /// Drops the token of `profile`; true when there was one.
    bool erase(const std::string& profile);

    struct Entry {
        std::string profile;
        core::TokenTimes times;
    };
    /// Every cached row's profile and times (no token), ordered by profile.
    std::vector<Entry> entries();

    /// False once the file turned out damaged and could not be moved aside.
    bool usable() const { return db_ != nullptr; }

private:
    /// Runs `op` on the database; on damage recovers (recover()) and, when that leaves a new
    /// file, runs `op` once more if `retry`, else returns `fallback`.
    template <typename T, typename Op> T guarded(Op op, T fallback, bool retry);
    /// Closes the damaged file, moves it aside and opens a new one, or leaves db_ empty.
    void recover(const DamagedDatabase& damaged);
    void open_or_recover();

    std::string path_;
    std::unique_ptr<Database> db_;
    const core::Log& log_;
};

} // namespace iotspot::store
