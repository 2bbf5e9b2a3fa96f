#include <sqlite3.h>

#include <mutex>
#include <stdexcept>

#include "shcx/secure.h"
#include "shcx/share/store.h"

namespace shcx::share {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash BLOB NOT NULL UNIQUE,
  created_at REAL NOT NULL DEFAULT (unixepoch('now'))
);
CREATE TABLE IF NOT EXISTS shares (
  h BLOB PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner INTEGER NOT NULL REFERENCES users(id),
  state TEXT NOT NULL,
  created_at REAL NOT NULL,
  expires_at REAL NOT NULL,
  max_reveals INTEGER NOT NULL,
  reveals_left INTEGER NOT NULL,
  fails_left INTEGER NOT NULL,
  salt BLOB NOT NULL,
  kdf_params TEXT NOT NULL,
  verifier BLOB NOT NULL,
  nonce BLOB,
  sealed BLOB,
  content_bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS shares_live ON shares(state, expires_at);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  share_id TEXT NOT NULL,
  at REAL NOT NULL,
  event TEXT NOT NULL,
  client TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_share ON audit(share_id);
CREATE TABLE IF NOT EXISTS counters (
  key TEXT NOT NULL,
  window INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key, window)
);
)sql";

class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : m_db(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("SQLite prepare: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(m_stmt); }
    Stmt& bind(int i, const std::string& blob) {
        sqlite3_bind_blob(m_stmt, i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& text(int i, const std::string& s) {
        sqlite3_bind_text(m_stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, double v) {
        sqlite3_bind_double(m_stmt, i, v);
        return *this;
    }
    Stmt& bind(int i, int64_t v) {
        sqlite3_bind_int64(m_stmt, i, v);
        return *this;
    }
    // SQLITE_ROW or SQLITE_DONE; anything else (after the busy timeout) throws.
    int step() {
        int rc = sqlite3_step(m_stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            throw std::runtime_error(std::string("SQLite: ") + sqlite3_errmsg(m_db));
        return rc;
    }
    std::string blob(int col) {
        auto* p = static_cast<const char*>(sqlite3_column_blob(m_stmt, col));
        return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, col))) : std::string();
    }
    std::string str(int col) {
        auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
        return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, col))) : std::string();
    }
    double real(int col) { return sqlite3_column_double(m_stmt, col); }
    int64_t integer(int col) { return sqlite3_column_int64(m_stmt, col); }

private:
    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

void exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown";
        sqlite3_free(err);
        throw std::runtime_error("SQLite: " + msg);
    }
}

class SqliteStore final : public Store {
public:
    explicit SqliteStore(std::string path) : m_path(std::move(path)) {}
    ~SqliteStore() override {
        for (auto* db : m_idle) sqlite3_close(db);
    }

    void init() {
        Conn c(*this);
        exec(c.db, kSchema);
    }

    Result<int64_t> add_user(const std::string& name, const std::string& token_hash) override {
        Conn c(*this);
        Stmt s(c.db, "INSERT INTO users(name, token_hash) VALUES(?, ?) ON CONFLICT(name) DO NOTHING");
        s.text(1, name).bind(2, token_hash).step();
        if (sqlite3_changes(c.db) == 0) return make_error(ErrorCode::USAGE, "a user named \"" + name + "\" already exists");
        return static_cast<int64_t>(sqlite3_last_insert_rowid(c.db));
    }

    std::optional<int64_t> user_by_token_hash(const std::string& token_hash) override {
        Conn c(*this);
        Stmt s(c.db, "SELECT id FROM users WHERE token_hash = ?");
        if (s.bind(1, token_hash).step() != SQLITE_ROW) return std::nullopt;
        return s.integer(0);
    }

    int64_t local_user() override {
        Conn c(*this);
        Stmt ins(c.db, "INSERT INTO users(name, token_hash) VALUES('(local)', randomblob(32)) ON CONFLICT(name) DO NOTHING");
        ins.step();
        Stmt s(c.db, "SELECT id FROM users WHERE name = '(local)'");
        s.step();
        return s.integer(0);
    }

    int64_t bump_counter(const std::string& key, int64_t window) override {
        Conn c(*this);
        Stmt s(c.db,
               "INSERT INTO counters(key, window, count) VALUES(?, ?, 1) "
               "ON CONFLICT(key, window) DO UPDATE SET count = count + 1 RETURNING count");
        s.text(1, key).bind(2, window);
        s.step();
        int64_t n = s.integer(0);
        Stmt cleanup(c.db, "DELETE FROM counters WHERE key = ? AND window < ?");
        cleanup.text(1, key).bind(2, window - 1).step();
        return n;
    }

    std::optional<Error> insert(const ShareRecord& r) override {
        Conn c(*this);
        exec(c.db, "BEGIN IMMEDIATE");
        try {
            insert_row(c.db, r);
            Stmt a(c.db, "INSERT INTO audit(share_id, at, event, client) VALUES(?, ?, 'created', '')");
            a.text(1, r.id).bind(2, r.created_at).step();
            exec(c.db, "COMMIT");
        } catch (...) {
            sqlite3_exec(c.db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
        return std::nullopt;
    }

    static void insert_row(sqlite3* db, const ShareRecord& r) {
        Stmt s(db,
               "INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left, fails_left,"
               " salt, kdf_params, verifier, nonce, sealed, content_bytes) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        s.bind(1, r.h).text(2, r.id).bind(3, r.owner).text(4, r.state).bind(5, r.created_at).bind(6, r.expires_at);
        s.bind(7, static_cast<int64_t>(r.max_reveals)).bind(8, static_cast<int64_t>(r.reveals_left));
        s.bind(9, static_cast<int64_t>(r.fails_left)).bind(10, r.salt).text(11, r.kdf_params).bind(12, r.verifier);
        s.bind(13, r.nonce).bind(14, r.sealed).bind(15, r.content_bytes);
        s.step();
    }

    bool is_live(const std::string& h, double now) override {
        Conn c(*this);
        Stmt s(c.db, "SELECT 1 FROM shares WHERE h = ? AND state = 'live' AND expires_at > ? AND reveals_left > 0");
        return s.bind(1, h).bind(2, now).step() == SQLITE_ROW;
    }

    bool precharge(const std::string& h, double now) override {
        Conn c(*this);
        Stmt s(c.db,
               "UPDATE shares SET fails_left = fails_left - 1 WHERE h = ? AND state = 'live' AND fails_left > 0"
               " AND reveals_left > 0 AND expires_at > ?");
        s.bind(1, h).bind(2, now).step();
        return sqlite3_changes(c.db) == 1;
    }

    std::optional<KdfInputs> kdf_inputs(const std::string& h) override {
        Conn c(*this);
        Stmt s(c.db, "SELECT id, salt, kdf_params, verifier, expires_at, max_reveals, fails_left FROM shares WHERE h = ?");
        if (s.bind(1, h).step() != SQLITE_ROW) return std::nullopt;
        return KdfInputs{s.str(0), s.blob(1), s.str(2), s.blob(3), s.real(4), static_cast<int>(s.integer(5)),
                         static_cast<int>(s.integer(6))};
    }

    bool destroy_if_exhausted(const std::string& h) override {
        Conn c(*this);
        Stmt s(c.db,
               "UPDATE shares SET state = 'destroyed', sealed = NULL, nonce = NULL"
               " WHERE h = ? AND state = 'live' AND fails_left <= 0");
        s.bind(1, h).step();
        bool destroyed = sqlite3_changes(c.db) == 1;
        if (destroyed) checkpoint(c.db);
        return destroyed;
    }

    std::optional<Taken> take_reveal(const std::string& h, double now, const std::string& client) override {
        Conn c(*this);
        exec(c.db, "BEGIN IMMEDIATE");
        try {
            Stmt s(c.db,
                   "SELECT id, nonce, sealed, expires_at, max_reveals, reveals_left FROM shares"
                   " WHERE h = ? AND state = 'live' AND expires_at > ? AND reveals_left > 0");
            if (s.bind(1, h).bind(2, now).step() != SQLITE_ROW) {
                exec(c.db, "ROLLBACK");
                return std::nullopt;
            }
            Taken t{s.str(0), s.blob(1), s.blob(2), s.real(3), static_cast<int>(s.integer(4)),
                    static_cast<int>(s.integer(5)) - 1};
            Stmt u(c.db,
                   "UPDATE shares SET fails_left = fails_left + 1, reveals_left = reveals_left - 1,"
                   " state = CASE WHEN reveals_left - 1 <= 0 THEN 'used' ELSE state END,"
                   " sealed = CASE WHEN reveals_left - 1 <= 0 THEN NULL ELSE sealed END,"
                   " nonce = CASE WHEN reveals_left - 1 <= 0 THEN NULL ELSE nonce END"
                   " WHERE h = ?");
            u.bind(1, h).step();
            Stmt a(c.db, "INSERT INTO audit(share_id, at, event, client) VALUES(?, ?, 'revealed', ?)");
            a.text(1, t.id).bind(2, now).text(3, client).step();
            exec(c.db, "COMMIT");
            if (t.reveals_left <= 0) checkpoint(c.db);
            return t;
        } catch (...) {
            sqlite3_exec(c.db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }

    bool revoke(const std::string& id, int64_t owner) override {
        Conn c(*this);
        Stmt s(c.db,
               "UPDATE shares SET state = 'revoked', sealed = NULL, nonce = NULL"
               " WHERE id = ? AND (owner = ? OR ? < 0) AND state = 'live'");
        s.text(1, id).bind(2, owner).bind(3, owner).step();
        bool done = sqlite3_changes(c.db) == 1;
        if (done) checkpoint(c.db);
        return done;
    }

    std::optional<ShareRecord> find(const std::string& id, int64_t owner) override {
        Conn c(*this);
        Stmt s(c.db,
               "SELECT h, id, owner, state, created_at, expires_at, max_reveals, reveals_left, fails_left, content_bytes"
               " FROM shares WHERE id = ? AND (owner = ? OR ? < 0)");
        if (s.text(1, id).bind(2, owner).bind(3, owner).step() != SQLITE_ROW) return std::nullopt;
        ShareRecord r;
        r.h = s.blob(0);
        r.id = s.str(1);
        r.owner = s.integer(2);
        r.state = s.str(3);
        r.created_at = s.real(4);
        r.expires_at = s.real(5);
        r.max_reveals = static_cast<int>(s.integer(6));
        r.reveals_left = static_cast<int>(s.integer(7));
        r.fails_left = static_cast<int>(s.integer(8));
        r.content_bytes = s.integer(9);
        return r;
    }

    void audit(const std::string& share_id, const std::string& event, const std::string& client, double at) override {
        Conn c(*this);
        Stmt s(c.db, "INSERT INTO audit(share_id, at, event, client) VALUES(?, ?, ?, ?)");
        s.text(1, share_id).bind(2, at).text(3, event).text(4, client).step();
    }

    std::vector<AuditEvent> audit_events(const std::string& share_id) override {
        Conn c(*this);
        Stmt s(c.db, "SELECT at, event, client FROM audit WHERE share_id = ? ORDER BY seq");
        s.text(1, share_id);
        std::vector<AuditEvent> out;
        while (s.step() == SQLITE_ROW) out.push_back({s.real(0), s.str(1), s.str(2)});
        return out;
    }

    int sweep(double now) override {
        Conn c(*this);
        exec(c.db, "BEGIN IMMEDIATE");
        try {
            Stmt ids(c.db, "SELECT id FROM shares WHERE state = 'live' AND expires_at <= ?");
            ids.bind(1, now);
            std::vector<std::string> expired;
            while (ids.step() == SQLITE_ROW) expired.push_back(ids.str(0));
            Stmt u(c.db,
                   "UPDATE shares SET state = 'expired', sealed = NULL, nonce = NULL"
                   " WHERE state = 'live' AND expires_at <= ?");
            u.bind(1, now).step();
            for (const auto& id : expired) {
                Stmt a(c.db, "INSERT INTO audit(share_id, at, event, client) VALUES(?, ?, 'expired', '')");
                a.text(1, id).bind(2, now).step();
            }
            exec(c.db, "COMMIT");
            if (!expired.empty()) checkpoint(c.db);
            return static_cast<int>(expired.size());
        } catch (...) {
            sqlite3_exec(c.db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }

private:
    // A connection from the pool for the duration of one operation: SQLite connections
    // must not run two transactions at once, server threads each borrow their own.
    struct Conn {
        explicit Conn(SqliteStore& s) : store(s), db(s.acquire()) {}
        ~Conn() { store.release(db); }
        SqliteStore& store;
        sqlite3* db;
    };

    sqlite3* acquire() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (!m_idle.empty()) {
                sqlite3* db = m_idle.back();
                m_idle.pop_back();
                return db;
            }
        }
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(m_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK) {
            std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
            sqlite3_close(db);
            throw std::runtime_error("cannot open " + m_path + ": " + msg);
        }
        sqlite3_busy_timeout(db, 10000);
        // secure_delete overwrites deleted content; WAL lets readers run beside the writer.
        exec(db, "PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
        return db;
    }

    void release(sqlite3* db) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_idle.push_back(db);
    }

    // After content is wiped, copy the WAL into the database and truncate it, so the old
    // pages holding the sealed content do not linger in the -wal file.
    static void checkpoint(sqlite3* db) {
        sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    }

    std::string m_path;
    std::mutex m_mutex;
    std::vector<sqlite3*> m_idle;
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
    try {
        auto store = std::make_unique<SqliteStore>(path);
        store->init();
        return std::unique_ptr<Store>(std::move(store));
    } catch (const std::exception& e) {
        return make_error(ErrorCode::IO_ERROR, e.what());
    }
}

}  // namespace shcx::share
