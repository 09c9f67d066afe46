#include "store/counter_store.h"

#include <cstdio>

#include "core/error.h"

namespace iotspot::store {

namespace {

const std::vector<const char*> migrations = {
    "CREATE TABLE counters (profile TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, "
    "PRIMARY KEY (profile, name)); "
    "CREATE TABLE secret_use (profile TEXT PRIMARY KEY, accepted TEXT NOT NULL, "
    "refused TEXT NOT NULL, at INTEGER NOT NULL)",
};

std::unique_ptr<Database> open_store(const std::string& path) {
    try {
        return std::make_unique<Database>(path, migrations, "counter store");
    } catch (const DamagedDatabase&) {
        // Counts only: start afresh rather than keep failing.
        std::remove(path.c_str());
        std::remove((path + "-wal").c_str());
        std::remove((path + "-shm").c_str());
        return std::make_unique<Database>(path, migrations, "counter store");
    }
}

} // namespace

CounterStore::CounterStore(const std::string& path) : db_(open_store(path)) {
    // Counts can be lost in a power cut; they are not worth a sync on every miss.
    db_->exec("PRAGMA synchronous=OFF");
}

void CounterStore::add(const std::string& profile, const std::string& counter) {
    auto stmt = db_->prepare("INSERT INTO counters (profile, name, value) VALUES (?, ?, 1) "
                             "ON CONFLICT (profile, name) DO UPDATE SET value = value + 1");
    stmt.bind(1, profile).bind(2, counter);
    stmt.step();
}

std::map<std::string, std::int64_t> CounterStore::counts(const std::string& profile) {
    std::map<std::string, std::int64_t> out;
    auto stmt = db_->prepare("SELECT name, value FROM counters WHERE profile = ?");
    stmt.bind(1, profile);
    while (stmt.step()) {
        out[stmt.text(0)] = stmt.integer(1);
    }
    return out;
}

void CounterStore::note_secret_use(const std::string& profile, const SecretUse& use) {
    auto stmt = db_->prepare(
        "INSERT OR REPLACE INTO secret_use (profile, accepted, refused, at) VALUES (?, ?, ?, ?)");
    stmt.bind(1, profile).bind(2, use.accepted).bind(3, use.refused).bind(4, use.at);
    stmt.step();
}

std::optional<CounterStore::SecretUse> CounterStore::secret_use(const std::string& profile) {
    auto stmt = db_->prepare("SELECT accepted, refused, at FROM secret_use WHERE profile = ?");
    stmt.bind(1, profile);
    if (!stmt.step()) {
        return std::nullopt;
    }
    return SecretUse{stmt.text(0), stmt.text(1), stmt.integer(2)};
}

void CounterStore::forget_secret_use(const std::string& profile) {
    auto stmt = db_->prepare("DELETE FROM secret_use WHERE profile = ?");
    stmt.bind(1, profile);
    stmt.step();
}

} // namespace iotspot::store
