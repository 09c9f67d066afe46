#pragma once
// A thin RAII layer over SQLite's C API: a connection that migrates its schema on open,
// and prepared statements. Errors become Error(store); a damaged file, or one that holds
// somebody else's tables, is reported as DamagedDatabase (an Error(store) too) so that a
// cache can rebuild it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace iotspot::store {

/// The file is not a database, a damaged one, or one without the tables this program made
/// (a foreign file at a known schema version). Exit 6 when nothing handles it.
class DamagedDatabase : public core::Error {
public:
    explicit DamagedDatabase(const std::string& message)
        : core::Error(core::Exit::store, message) {}
};

class Statement;

class Database {
public:
    /// Opens or creates the database at `path` in WAL mode with a busy timeout, and brings
    /// its schema to version migrations.size() (PRAGMA user_version) by running the missing
    /// migrations in one transaction. A schema newer than that is refused with Error(store).
    /// `what` names the file in messages ("token cache").
    Database(const std::string& path, const std::vector<const char*>& migrations, const char* what);
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    Statement prepare(const char* sql);
    /// Copies the write-ahead log into the database and empties it, when no reader is in
    /// the way (then it leaves it for later). Called after the rare writes, so that the
    /// frequent short-lived readers open an empty log.
    void checkpoint() noexcept;
    void exec(const char* sql);
    const std::string& path() const { return path_; }

    /// Throws DamagedDatabase or Error(store) for a failed SQLite call with result `rc`.
    [[noreturn]] void fail(int rc, const char* doing) const;

private:
    /// Closes a connection (sqlite3_close_v2).
    struct Close {
        void operator()(sqlite3* db) const noexcept;
    };

    void migrate(const std::vector<const char*>& migrations);

    std::unique_ptr<sqlite3, Close> db_;
    std::string path_;
    const char* what_;
};

class Statement {
public:
    Statement(Database& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
    ~Statement();
    Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
        other.stmt_ = nullptr;
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& operator=(Statement&&) = delete;

    Statement& bind(int index, std::string_view text);
    Statement& bind_blob(int index, std::string_view bytes);
    Statement& bind(int index, std::int64_t value);

    /// Steps once; true while a row is available.
    bool step();
    std::string text(int column) const;
    std::string blob(int column) const;
    std::int64_t integer(int column) const;

private:
    Database* db_;
    sqlite3_stmt* stmt_;
};

} // namespace iotspot::store
