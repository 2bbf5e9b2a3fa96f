#include "shcx/share/migrations.h"

#include <array>
#include <chrono>
#include <string_view>

#include "shcx/detail/sqlite_api.h"

namespace shcx::share {
namespace {

#include "migrations_postgresql.inc"  // kMigrationFiles_postgresql: {"0001_initial", sql}, ...
#include "migrations_sqlite.inc"      // kMigrationFiles_sqlite

// Migration files are NNNN_name.sql, numbered 1, 2, 3 ... without gaps. Checked while
// compiling, so a gap or a duplicate is a build error, not a silently skipped step.
constexpr int migration_number(std::string_view stem) {
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (stem.size() < 6 || stem[4] != '_') return -1;
    int n = 0;
    for (char c : stem.substr(0, 4)) {
        if (!digit(c)) return -1;
        n = n * 10 + (c - '0');
    }
    for (char c : stem.substr(5))
        if (!digit(c) && !(c >= 'a' && c <= 'z') && c != '_') return -1;
    return n;
}

template <size_t N>
constexpr std::array<Migration, N> to_migrations(const EmbeddedFile (&files)[N]) {
    std::array<Migration, N> out{};
    for (size_t i = 0; i < N; ++i) {
        int n = migration_number(files[i].name);
        out[i] = {n, n < 0 ? files[i].name : files[i].name.substr(5), files[i].text};
    }
    return out;
}

template <size_t N>
constexpr bool numbered_one_by_one(const std::array<Migration, N>& all) {
    for (size_t i = 0; i < N; ++i)
        if (all[i].version != static_cast<int>(i) + 1) return false;
    return N > 0;
}

constexpr auto kPostgresMigrations = to_migrations(kMigrationFiles_postgresql);
constexpr auto kSqliteMigrations = to_migrations(kMigrationFiles_sqlite);
static_assert(numbered_one_by_one(kPostgresMigrations),
              "lib/shcx/share/migrations/postgresql/: files are NNNN_name.sql, numbered 1, 2, 3 ... without gaps");
static_assert(numbered_one_by_one(kSqliteMigrations),
              "lib/shcx/share/migrations/sqlite/: files are NNNN_name.sql, numbered 1, 2, 3 ... without gaps");

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

// One SQLite connection for the migration step, closed on every path. SQLite must be
// loaded (detail::sqlite_api()) before one is made.
class SqliteHandle {
public:
    explicit SqliteHandle(const std::string& path, int flags) {
        if (detail::loaded_sqlite().open_v2(path.c_str(), &m_db, flags, nullptr) != SQLITE_OK)
            m_error = "cannot open " + path + ": " + (m_db ? detail::loaded_sqlite().errmsg(m_db) : "out of memory");
        else detail::loaded_sqlite().busy_timeout(m_db, 10000);
    }
    ~SqliteHandle() {
        if (m_db != nullptr) detail::loaded_sqlite().close(m_db);
    }
    const std::string& open_error() const { return m_error; }
    // Runs sql (several statements allowed); the error text, or "" on success.
    std::string exec(const std::string& sql) {
        char* err = nullptr;
        if (detail::loaded_sqlite().exec(m_db, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return "";
        std::string msg = err ? err : detail::loaded_sqlite().errmsg(m_db);
        detail::loaded_sqlite().free(err);
        return msg.empty() ? "unknown error" : msg;
    }
    // SELECT max(version): -1 if the table is missing.
    int version() {
        sqlite3_stmt* s = nullptr;
        if (detail::loaded_sqlite().prepare_v2(m_db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &s,
                                               nullptr) != SQLITE_OK)
            return -1;
        int v = detail::loaded_sqlite().step(s) == SQLITE_ROW ? detail::loaded_sqlite().column_int(s, 0) : -1;
        detail::loaded_sqlite().finalize(s);
        return v;
    }
    sqlite3* db() { return m_db; }

private:
    sqlite3* m_db = nullptr;
    std::string m_error;
};

}  // namespace

std::span<const Migration> migrations(Dialect dialect) {
    if (dialect == Dialect::Postgres) return kPostgresMigrations;
    return kSqliteMigrations;
}

int latest_schema_version(Dialect dialect) { return migrations(dialect).back().version; }

Error schema_too_new(int found, int known) {
    return make_error(ErrorCode::IO_ERROR, "the share database has schema version " + std::to_string(found) +
                                               ", newer than this shcx knows (" + std::to_string(known) +
                                               "): upgrade shcx before using it");
}

std::optional<Error> migrate_sqlite(const std::string& path) {
    if (auto api = detail::sqlite_api(); !api) return api.error();
    SqliteHandle h(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!h.open_error().empty()) return make_error(ErrorCode::IO_ERROR, h.open_error());
    auto failed = [&](const std::string& what, const std::string& msg) {
        h.exec("ROLLBACK");
        return make_error(ErrorCode::IO_ERROR, "cannot " + what + " " + path + ": " + msg);
    };
    // WAL before the first write, so a database created here is in WAL mode from the start.
    if (auto e = h.exec("PRAGMA journal_mode=WAL"); !e.empty()) return failed("open", e);
    // Up to date (every open but the first): no write lock, so a `share status --db` beside
    // a busy server never queues behind its writers.
    int current = h.version(), known_now = latest_schema_version(Dialect::Sqlite);
    if (current == known_now) return std::nullopt;
    if (current > known_now) return schema_too_new(current, known_now);
    // IMMEDIATE: two processes starting together take turns; the second sees the work done.
    if (auto e = h.exec("BEGIN IMMEDIATE"); !e.empty()) return failed("lock", e);
    if (auto e = h.exec(std::string(kMigrationsTable)); !e.empty()) return failed("migrate", e);
    int have = h.version(), known = latest_schema_version(Dialect::Sqlite);
    if (have < 0) return failed("read the schema version of", detail::loaded_sqlite().errmsg(h.db()));
    if (have > known) {
        h.exec("ROLLBACK");
        return schema_too_new(have, known);
    }
    for (const auto& m : migrations(Dialect::Sqlite)) {
        if (m.version <= have) continue;
        if (auto e = h.exec(std::string(m.sql)); !e.empty())
            return failed("apply migration " + std::to_string(m.version) + " to", e);
        sqlite3_stmt* s = nullptr;
        detail::loaded_sqlite().prepare_v2(
            h.db(), "INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)", -1, &s, nullptr);
        detail::loaded_sqlite().bind_int(s, 1, m.version);
        detail::loaded_sqlite().bind_text(s, 2, m.name.data(), static_cast<int>(m.name.size()), SQLITE_TRANSIENT);
        detail::loaded_sqlite().bind_double(s, 3, now_seconds());
        int rc = detail::loaded_sqlite().step(s);
        detail::loaded_sqlite().finalize(s);
        if (rc != SQLITE_DONE)
            return failed("record migration " + std::to_string(m.version) + " in",
                          detail::loaded_sqlite().errmsg(h.db()));
    }
    if (auto e = h.exec("COMMIT"); !e.empty()) return failed("commit the migrations of", e);
    return std::nullopt;
}

Result<int> sqlite_schema_version(const std::string& path) {
    if (auto api = detail::sqlite_api(); !api) return api.error();
    SqliteHandle h(path, SQLITE_OPEN_READONLY);
    if (!h.open_error().empty()) return make_error(ErrorCode::IO_ERROR, h.open_error());
    int v = h.version();
    return v < 0 ? 0 : v;
}

}  // namespace shcx::share
