// Versioned schema migrations: lib/shcx/share/migrations/<dialect>/NNNN_name.sql, compiled
// into the binary. Opening a store applies the migrations its database lacks, all in one
// transaction, and refuses a database whose schema is newer than this binary knows
// (docs/postgresql.md, "Schema migrations").
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "shcx/error.h"

namespace shcx::share {

struct Migration {
    int version;
    std::string_view name, sql;
};

enum class Dialect { Sqlite, Postgres };

// In version order, starting at 1 without gaps (the build checks the file names).
std::span<const Migration> migrations(Dialect dialect);
int latest_schema_version(Dialect dialect);

// Where each database records what it has: one row per applied migration.
inline constexpr std::string_view kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " applied_at DOUBLE PRECISION NOT NULL)";

// The refusal to touch a database that a newer shcx has migrated.
Error schema_too_new(int found, int known);

// Creates the SQLite database at path if needed and brings its schema up to date.
std::optional<Error> migrate_sqlite(const std::string& path);
// The highest migration recorded in the SQLite database at path (0: none).
Result<int> sqlite_schema_version(const std::string& path);

}  // namespace shcx::share
