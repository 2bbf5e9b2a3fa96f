#include "shcx/detail/sqlite_api.h"

#include <stdexcept>

#include "shcx/detail/shared_library.h"

// SQLite 3's soname has been libsqlite3.so.0 since 3.0 (2004).
static_assert(SQLITE_VERSION_NUMBER >= 3000000 && SQLITE_VERSION_NUMBER < 4000000, "check SQLite's soname");

namespace shcx::detail {
namespace {

constexpr const char* kSoname = "libsqlite3.so.0";

const Result<SqliteApi>& loaded() {
    static const Result<SqliteApi> api = load_table<SqliteApi>(kSoname, [](SharedLibrary& lib, SqliteApi& a) {
        lib.need("sqlite3_open_v2", a.open_v2);
        lib.need("sqlite3_close", a.close);
        lib.need("sqlite3_busy_timeout", a.busy_timeout);
        lib.need("sqlite3_errmsg", a.errmsg);
        lib.need("sqlite3_exec", a.exec);
        lib.need("sqlite3_free", a.free);
        lib.need("sqlite3_prepare_v2", a.prepare_v2);
        lib.need("sqlite3_step", a.step);
        lib.need("sqlite3_reset", a.reset);
        lib.need("sqlite3_finalize", a.finalize);
        lib.need("sqlite3_bind_blob", a.bind_blob);
        lib.need("sqlite3_bind_text", a.bind_text);
        lib.need("sqlite3_bind_double", a.bind_double);
        lib.need("sqlite3_bind_int", a.bind_int);
        lib.need("sqlite3_bind_int64", a.bind_int64);
        lib.need("sqlite3_bind_null", a.bind_null);
        lib.need("sqlite3_column_blob", a.column_blob);
        lib.need("sqlite3_column_text", a.column_text);
        lib.need("sqlite3_column_bytes", a.column_bytes);
        lib.need("sqlite3_column_double", a.column_double);
        lib.need("sqlite3_column_int", a.column_int);
        lib.need("sqlite3_column_int64", a.column_int64);
        lib.need("sqlite3_column_type", a.column_type);
        lib.need("sqlite3_changes", a.changes);
        lib.need("sqlite3_last_insert_rowid", a.last_insert_rowid);
        lib.need("sqlite3_wal_checkpoint_v2", a.wal_checkpoint_v2);
    });
    return api;
}

}  // namespace

Result<const SqliteApi*> sqlite_api() { return table_of(loaded()); }

const SqliteApi& loaded_sqlite() {
    if (!loaded()) throw std::logic_error("SQLite used before sqlite_api() loaded it: " + loaded().error().message);
    return loaded().value();
}

}  // namespace shcx::detail
