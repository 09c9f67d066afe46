#include "store/sqlite.h"

#include <chrono>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <mutex>
#include <thread>
#include <unistd.h>

#include <sqlite3.h>

#include "core/error.h"
#include "store/files.h"
#include "util/defer.h"
#include "util/fd.h"

namespace iotspot::store {

namespace {

constexpr int busy_timeout_ms = 10000;

// `path` with its directory part resolved (links followed), its last component as given.
std::string resolved_dir(const std::string& path) {
    const std::string dir = parent_dir(path);
    char* real = ::realpath(dir.c_str(), nullptr);
    if (real == nullptr) {
        return path;
    }
    std::string out = std::string(real) + path.substr(path.find_last_of('/'));
    std::free(real);
    return out;
}

} // namespace

Database::Database(const std::string& path, const std::vector<const char*>& migrations,
                   const char* what)
    : path_(path), what_(what) {
    // Create the file 0600 whatever the umask; SQLite gives its -wal and -shm files the
    // database file's permissions. Only a new file is opened here: POSIX record locks belong
    // to the process, and closing any descriptor of a file drops all of them, including the
    // locks that other connections of this process (prefetch's threads) hold on it. The mutex
    // keeps those connections from opening the new file before it is closed again.
    // Never through a link, never a FIFO or device: the database and its log and index.
    for (const char* suffix : {"", "-wal", "-shm"}) {
        refuse_unless_regular(path + suffix, what);
    }
    {
        static std::mutex creating;
        const std::lock_guard<std::mutex> guard(creating);
        // O_EXCL never follows a link, not even a dangling one.
        const util::Fd created(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    }
    // SQLITE_OPEN_NOFOLLOW refuses a link anywhere in the name, so the directory (which may
    // be a link: a home directory on another disk) is resolved first.
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
    sqlite3* opened = nullptr;
    const int rc = sqlite3_open_v2(resolved_dir(path).c_str(), &opened, flags, nullptr);
    db_.reset(opened); // SQLite may allocate a connection even when it fails, for its message
    if (rc != SQLITE_OK) {
        fail(rc, "open");
    }
    sqlite3_busy_timeout(db_.get(), busy_timeout_ms);
    // Keep the -wal and -shm files when the last connection closes: recreating them costs
    // every short-lived process a dozen system calls.
    int persist = 1;
    sqlite3_file_control(db_.get(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    // Nor checkpoint at every close: that costs a cache hit three fdatasync calls. Writers
    // checkpoint after writing instead (checkpoint()).
    sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    migrate(migrations);
}

void Database::Close::operator()(sqlite3* db) const noexcept {
    sqlite3_close_v2(db);
}

void Database::checkpoint() noexcept {
    sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

void Database::fail(int rc, const char* doing) const {
    const int primary = rc & 0xff;
    const std::string detail = db_ != nullptr ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) {
        throw DamagedDatabase(std::string(what_) + " " + path_ + " is damaged (" + detail + ")");
    }
    // The schema version is ours but the tables are not: a file made by something else.
    if (primary == SQLITE_ERROR && detail.rfind("no such ", 0) == 0) {
        throw DamagedDatabase(std::string(what_) + " " + path_ +
                              " does not hold iotspot-helper's tables (" + detail + ")");
    }
    std::string hint;
    if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM) {
        hint = "; check the permissions of " + path_ + " and its directory";
    } else if (primary == SQLITE_FULL) {
        hint = "; free some disk space";
    }
    throw core::Error(core::Exit::store, std::string("cannot ") + doing + " " + what_ + " " +
                                             path_ + ": " + detail + hint);
}

void Database::exec(const char* sql) {
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        fail(rc, "update");
    }
}

Statement Database::prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        fail(rc, "read");
    }
    return Statement(*this, stmt);
}

void Database::migrate(const std::vector<const char*>& migrations) {
    const auto version = [this] {
        auto stmt = prepare("PRAGMA user_version");
        stmt.step();
        return stmt.integer(0);
    };
    const auto target = static_cast<std::int64_t>(migrations.size());
    auto current = version();
    if (current == target) {
        return;
    }
    if (current > target) {
        throw core::StoreRefused(
            std::string(what_) + " " + path_ + " was written by a newer iotspot-helper (schema " +
            std::to_string(current) + ", this one knows " + std::to_string(target) +
            "); upgrade iotspot-helper, or move the file away");
    }
    // Several processes may create the file at once: WAL is switched on outside a
    // transaction (retrying while another holds the lock), then the migrations run under
    // BEGIN IMMEDIATE and re-check the version.
    for (int attempt = 0;; ++attempt) {
        const int rc =
            sqlite3_exec(db_.get(), "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
        if (rc == SQLITE_OK) {
            break;
        }
        if ((rc & 0xff) != SQLITE_BUSY || attempt > 200) {
            fail(rc, "set up");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    exec("BEGIN IMMEDIATE");
    util::Defer roll_back(
        [this] { sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr); });
    current = version();
    for (auto i = current; i < target; ++i) {
        exec(migrations[static_cast<std::size_t>(i)]);
    }
    if (current < target) {
        exec(("PRAGMA user_version = " + std::to_string(target)).c_str());
    }
    exec("COMMIT");
    roll_back.dismiss();
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    db_->fail(rc, "use");
}

std::string Statement::text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    return data == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(data),
                             static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string Statement::blob(int column) const {
    const auto* data = sqlite3_column_blob(stmt_, column);
    return data == nullptr
               ? std::string()
               : std::string(static_cast<const char*>(data),
                             static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::int64_t Statement::integer(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

} // namespace iotspot::store
