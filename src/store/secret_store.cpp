#include "store/secret_store.h"

#include <ctime>

#include "core/error.h"

namespace iotspot::store {

namespace {

const std::vector<const char*> migrations = {
    "CREATE TABLE secrets (profile TEXT PRIMARY KEY, updated_at INTEGER NOT NULL, "
    "sealed BLOB NOT NULL)",
};

std::string secret_ad(const std::string& profile, const std::string& client_id) {
    return core::associated_data("iotspot-helper client secret v1", {profile, client_id});
}

// Secrets cannot be rebuilt: a damaged store is the user's to move away, with this remedy.
template <typename Op> auto with_remedy(Op op) {
    try {
        return op();
    } catch (const DamagedDatabase& damaged) {
        throw core::Error(core::Exit::store,
                          std::string(damaged.what()) +
                              "; move it away and run iotspot-helper configure again");
    }
}

} // namespace

SecretStore::SecretStore(const std::string& path)
    : db_(with_remedy(
          [&] { return std::make_unique<Database>(path, migrations, "secret store"); })) {}

void SecretStore::save(const std::string& profile, const std::string& client_id,
                       const core::Key& key, const std::string& secret) {
    with_remedy([&] { save_row(profile, client_id, key, secret); });
}

SecretStore::Lookup SecretStore::load(const std::string& profile, const std::string& client_id,
                                      const core::Key& key) {
    return with_remedy([&] { return load_row(profile, client_id, key); });
}

bool SecretStore::erase(const std::string& profile) {
    return with_remedy([&] { return erase_row(profile); });
}

void SecretStore::save_row(const std::string& profile, const std::string& client_id,
                           const core::Key& key, const std::string& secret) {
    auto stmt = db_->prepare(
        "INSERT OR REPLACE INTO secrets (profile, updated_at, sealed) VALUES (?, ?, ?)");
    stmt.bind(1, profile)
        .bind(2, static_cast<std::int64_t>(std::time(nullptr)))
        .bind_blob(3, seal(key, secret, secret_ad(profile, client_id)));
    stmt.step();
    db_->checkpoint();
}

SecretStore::Lookup SecretStore::load_row(const std::string& profile, const std::string& client_id,
                                          const core::Key& key) {
    auto stmt = db_->prepare("SELECT sealed FROM secrets WHERE profile = ?");
    stmt.bind(1, profile);
    if (!stmt.step()) {
        return {};
    }
    auto plain = open(key, stmt.blob(0), secret_ad(profile, client_id));
    if (!plain) {
        return {Status::unreadable, {}};
    }
    return {Status::found, std::move(*plain)};
}

bool SecretStore::erase_row(const std::string& profile) {
    auto stmt = db_->prepare("DELETE FROM secrets WHERE profile = ? RETURNING profile");
    stmt.bind(1, profile);
    const bool found = stmt.step();
    while (stmt.step()) {
    }
    db_->checkpoint();
    return found;
}

std::string next_secret_slot(const std::string& profile) {
    return "next:" + profile;
}

} // namespace iotspot::store
