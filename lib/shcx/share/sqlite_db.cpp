#include "shcx/share/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace shcx::share::sqlite {
namespace {
constexpr int kBusyTimeoutMs = 10000;

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
    throw std::runtime_error("SQLite " + what + ": " + detail::loaded_sqlite().errmsg(db));
}
}  // namespace

void exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    if (detail::loaded_sqlite().exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown";
        detail::loaded_sqlite().free(err);
        throw std::runtime_error("SQLite: " + msg);
    }
}

Stmt::Stmt(sqlite3* db, const char* sql) : m_db(db) {
    if (detail::loaded_sqlite().prepare_v2(db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) fail(db, "prepare");
}

Stmt& Stmt::blob(int i, std::string_view bytes) {
    detail::loaded_sqlite().bind_blob(m_stmt, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
}
Stmt& Stmt::text(int i, std::string_view s) {
    detail::loaded_sqlite().bind_text(m_stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
}
Stmt& Stmt::real(int i, double v) {
    detail::loaded_sqlite().bind_double(m_stmt, i, v);
    return *this;
}
Stmt& Stmt::integer(int i, int64_t v) {
    detail::loaded_sqlite().bind_int64(m_stmt, i, v);
    return *this;
}
Stmt& Stmt::null(int i) {
    detail::loaded_sqlite().bind_null(m_stmt, i);
    return *this;
}

int Stmt::step() {
    int rc = detail::loaded_sqlite().step(m_stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail(m_db, "step");
    return rc;
}

std::string Stmt::blob(int col) {
    auto* p = static_cast<const char*>(detail::loaded_sqlite().column_blob(m_stmt, col));
    return p ? std::string(p, static_cast<size_t>(detail::loaded_sqlite().column_bytes(m_stmt, col))) : std::string();
}

std::string Stmt::str(int col) {
    auto* p = reinterpret_cast<const char*>(detail::loaded_sqlite().column_text(m_stmt, col));
    return p ? std::string(p, static_cast<size_t>(detail::loaded_sqlite().column_bytes(m_stmt, col))) : std::string();
}

int64_t query_int(sqlite3* db, const char* sql) {
    Stmt s(db, sql);
    s.step();
    return s.integer(0);
}

Txn::Txn(sqlite3* db) : m_db(db) { exec(db, "BEGIN IMMEDIATE"); }

Txn::~Txn() {
    if (!m_done) detail::loaded_sqlite().exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Txn::commit() {
    exec(m_db, "COMMIT");
    m_done = true;
}

Pool::~Pool() {
    for (auto* db : m_idle) detail::loaded_sqlite().close(db);
}

sqlite3* Pool::acquire() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_idle.empty()) {
            sqlite3* db = m_idle.back();
            m_idle.pop_back();
            return db;
        }
    }
    auto api = detail::sqlite_api();
    if (!api) throw std::runtime_error(api.error().message);
    sqlite3* db = nullptr;
    if (detail::loaded_sqlite().open_v2(m_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
        std::string msg = db ? detail::loaded_sqlite().errmsg(db) : "out of memory";
        detail::loaded_sqlite().close(db);
        throw std::runtime_error("cannot open " + m_path + ": " + msg);
    }
    try {
        detail::loaded_sqlite().busy_timeout(db, kBusyTimeoutMs);
        // secure_delete zeroes deleted content in the database file; WAL lets readers run
        // beside the writer (the scrub after a wipe empties the WAL: checkpoint_truncate).
        exec(db, "PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
    } catch (...) {
        detail::loaded_sqlite().close(db);
        throw;
    }
    return db;
}

void Pool::release(sqlite3* db) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_idle.push_back(db);
}

std::vector<std::string> make_private(const std::string& path) {
    std::vector<std::string> tightened;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    bool ok = fstat(fd, &st) == 0;
    if (ok && (st.st_mode & 077)) {
        ok = fchmod(fd, st.st_mode & 0700) == 0;
        tightened.push_back(path);
    }
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot make " + path + " private (mode 0600): " + std::strerror(errno));
    for (const char* suffix : {"-wal", "-shm"}) {
        std::string side = path + suffix;
        if (stat(side.c_str(), &st) == 0 && (st.st_mode & 077)) {
            if (chmod(side.c_str(), st.st_mode & 0700) != 0)
                throw std::runtime_error("cannot make " + side + " private (mode 0600): " + std::strerror(errno));
            tightened.push_back(side);
        }
    }
    return tightened;
}

bool checkpoint_truncate(sqlite3* db, int tries, int busy_ms) {
    // A short busy timeout per try: a pending checkpoint blocks new writers, so it must
    // not sit on the lock for the full 10 s a statement may wait.
    detail::loaded_sqlite().busy_timeout(db, busy_ms);
    bool done = false;
    for (int i = 0; i < tries && !done; ++i) {
        if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10 << (i - 1)));
        int rc = detail::loaded_sqlite().wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
        done = rc == SQLITE_OK;  // BUSY: a reader or writer elsewhere kept some frames
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    }
    detail::loaded_sqlite().busy_timeout(db, kBusyTimeoutMs);
    return done;
}

}  // namespace shcx::share::sqlite
