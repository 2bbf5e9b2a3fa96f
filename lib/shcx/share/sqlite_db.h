// The SQLite plumbing under SqliteStore (sqlite_store.cpp): prepared statements, a
// connection pool, transactions, private files and the WAL scrub. Errors throw
// std::runtime_error; open_sqlite_store turns them into IO_ERROR at the boundary, and the
// server maps an exception in a request to 500.
#pragma once

#include "shcx/detail/sqlite_api.h"

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace shcx::share::sqlite {

void exec(sqlite3* db, const char* sql);
// The first column of the first row of `sql` (a count, an id).
int64_t query_int(sqlite3* db, const char* sql);

class Stmt {
public:
    Stmt(sqlite3* db, const char* sql);
    ~Stmt() { detail::loaded_sqlite().finalize(m_stmt); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& blob(int i, std::string_view bytes);
    Stmt& text(int i, std::string_view s);
    Stmt& real(int i, double v);
    Stmt& integer(int i, int64_t v);
    Stmt& null(int i);
    // SQLITE_ROW or SQLITE_DONE; anything else (after the busy timeout) throws.
    int step();
    // Ends the statement so it holds no read snapshot (a checkpoint waits for those).
    void reset() { detail::loaded_sqlite().reset(m_stmt); }
    std::string blob(int col);
    std::string str(int col);
    double real(int col) { return detail::loaded_sqlite().column_double(m_stmt, col); }
    int64_t integer(int col) { return detail::loaded_sqlite().column_int64(m_stmt, col); }
    bool is_null(int col) { return detail::loaded_sqlite().column_type(m_stmt, col) == SQLITE_NULL; }

private:
    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

// BEGIN IMMEDIATE: the write lock is taken up front, so two writers never deadlock on an
// upgrade. Rolls back unless commit() ran. Statements must be finished (destroyed or
// reset) before commit().
class Txn {
public:
    explicit Txn(sqlite3* db);
    ~Txn();
    void commit();

private:
    sqlite3* m_db;
    bool m_done = false;
};

// One connection per thread in use: SQLite connections must not run two transactions at
// once, so each operation borrows its own.
class Pool {
public:
    explicit Pool(std::string path) : m_path(std::move(path)) {}
    ~Pool();
    sqlite3* acquire();
    void release(sqlite3* db);
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
    std::mutex m_mutex;
    std::vector<sqlite3*> m_idle;
};

struct Conn {
    explicit Conn(Pool& p) : pool(p), db(p.acquire()) {}
    ~Conn() { pool.release(db); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    Pool& pool;
    sqlite3* db;
};

// Creates `path` with mode 0600 if it does not exist, so SQLite's -wal and -shm (which
// copy the database's mode) are 0600 too; tightens an existing database and its -wal and
// -shm to 0600. Returns a note for each file it had to tighten.
std::vector<std::string> make_private(const std::string& path);

// Copies the WAL into the database and truncates it to zero bytes, so pages that held
// wiped content do not linger in the -wal file. Waits a bounded time for readers and
// writers elsewhere (each try at most `busy_ms`, a few tries with backoff); false if the
// WAL could not be truncated. The connection must have no statement in progress.
bool checkpoint_truncate(sqlite3* db, int tries = 6, int busy_ms = 250);

}  // namespace shcx::share::sqlite
