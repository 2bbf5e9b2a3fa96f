// SQLite's functions, from libsqlite3.so.0 opened on first use (detail/shared_library.h),
// so that only a process that opens a SQLite share store loads SQLite.
#pragma once

#include <sqlite3.h>

#include "shcx/error.h"

namespace shcx::detail {

// The functions share/ calls, named as in SQLite without "sqlite3_".
struct SqliteApi {
    decltype(&::sqlite3_open_v2) open_v2 = nullptr;
    decltype(&::sqlite3_close) close = nullptr;
    decltype(&::sqlite3_busy_timeout) busy_timeout = nullptr;
    decltype(&::sqlite3_errmsg) errmsg = nullptr;
    decltype(&::sqlite3_exec) exec = nullptr;
    decltype(&::sqlite3_free) free = nullptr;
    decltype(&::sqlite3_prepare_v2) prepare_v2 = nullptr;
    decltype(&::sqlite3_step) step = nullptr;
    decltype(&::sqlite3_reset) reset = nullptr;
    decltype(&::sqlite3_finalize) finalize = nullptr;
    decltype(&::sqlite3_bind_blob) bind_blob = nullptr;
    decltype(&::sqlite3_bind_text) bind_text = nullptr;
    decltype(&::sqlite3_bind_double) bind_double = nullptr;
    decltype(&::sqlite3_bind_int) bind_int = nullptr;
    decltype(&::sqlite3_bind_int64) bind_int64 = nullptr;
    decltype(&::sqlite3_bind_null) bind_null = nullptr;
    decltype(&::sqlite3_column_blob) column_blob = nullptr;
    decltype(&::sqlite3_column_text) column_text = nullptr;
    decltype(&::sqlite3_column_bytes) column_bytes = nullptr;
    decltype(&::sqlite3_column_double) column_double = nullptr;
    decltype(&::sqlite3_column_int) column_int = nullptr;
    decltype(&::sqlite3_column_int64) column_int64 = nullptr;
    decltype(&::sqlite3_column_type) column_type = nullptr;
    decltype(&::sqlite3_changes) changes = nullptr;
    decltype(&::sqlite3_last_insert_rowid) last_insert_rowid = nullptr;
    decltype(&::sqlite3_wal_checkpoint_v2) wal_checkpoint_v2 = nullptr;
};

// SQLite, loaded once per process (thread-safe). INTERNAL when it cannot be loaded; the
// message names the library. Every place that opens a connection calls this first.
Result<const SqliteApi*> sqlite_api();

// The table for code that holds a connection, which only sqlite_api() could have given
// it; throws std::logic_error if SQLite was never loaded.
const SqliteApi& loaded_sqlite();

}  // namespace shcx::detail
