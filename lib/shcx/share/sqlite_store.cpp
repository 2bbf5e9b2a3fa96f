// Store on SQLite (store.h has the contracts; docs/share-protocol-hardening.md the lease,
// pepper and scrub rules).
#include <cmath>

#include "shcx/share/migrations.h"
#include "shcx/share/sqlite_store_impl.h"

namespace shcx::share {
namespace {

using sqlite::Conn;
using sqlite::Stmt;
using sqlite::Txn;

}  // namespace

void SqliteStore::add_event(sqlite3* db, const std::string& share_id, const char* event, const std::string& client,
                            double at) {
    Stmt a(db, "INSERT INTO audit(share_id, at, event, client) VALUES(?, ?, ?, ?)");
    a.text(1, share_id).real(2, at).text(3, event).text(4, client).step();
}

std::optional<Error> SqliteStore::init() {
    // Private before SQLite first writes it, so its -wal and -shm are created private too.
    for (const auto& f : sqlite::make_private(m_pool.path()))
        warn(f + " was readable by other users; its mode is now 0600");
    // The schema is migrations/sqlite/*.sql, shared with `share migrate` (migrations.h).
    return migrate_sqlite(m_pool.path());
}

std::optional<Error> SqliteStore::insert(const ShareRecord& r) {
    Conn c(m_pool);
    Txn t(c.db);
    Stmt s(c.db,
           "INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left, fails_allowed,"
           " fails_burned, salt, kdf_params, verifier, nonce, sealed, content_bytes) "
           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    s.blob(1, r.h).text(2, r.id).integer(3, r.owner).text(4, r.state).real(5, r.created_at).real(6, r.expires_at);
    s.integer(7, r.max_reveals).integer(8, r.reveals_left).integer(9, r.fails_allowed).integer(10, r.fails_burned);
    s.blob(11, r.salt).text(12, r.kdf_params).blob(13, r.verifier).blob(14, r.nonce).blob(15, r.sealed);
    s.integer(16, r.content_bytes).step();
    add_event(c.db, r.id, "created", "", r.created_at);
    t.commit();
    return std::nullopt;
}

bool SqliteStore::is_live(const std::string& h, double now) {
    Conn c(m_pool);
    Stmt s(c.db, "SELECT 1 FROM shares WHERE h = ? AND state = 'live' AND expires_at > ? AND reveals_left > 0");
    return s.blob(1, h).real(2, now).step() == SQLITE_ROW;
}

Lease SqliteStore::precharge(const std::string& h, double now, double lease_until) {
    Conn c(m_pool);
    Txn t(c.db);
    Stmt lapsed(c.db, "DELETE FROM attempt_leases WHERE h = ? AND expires_at <= ?");
    lapsed.blob(1, h).real(2, now).step();
    Lease lease;
    int64_t free = 0;
    {
        Stmt s(c.db,
               "SELECT id, salt, kdf_params, verifier, expires_at, max_reveals, fails_allowed - fails_burned -"
               " (SELECT count(*) FROM attempt_leases l WHERE l.h = shares.h),"
               " (SELECT min(expires_at) FROM attempt_leases l WHERE l.h = shares.h)"
               " FROM shares WHERE h = ? AND state = 'live' AND reveals_left > 0 AND expires_at > ?");
        if (s.blob(1, h).real(2, now).step() != SQLITE_ROW) {
            t.commit();
            return lease;  // Gone
        }
        lease.inputs = {s.str(0), s.blob(1), s.str(2), s.blob(3), s.real(4), static_cast<int>(s.integer(5))};
        free = s.integer(6);
        lease.busy_until = s.real(7);
    }
    if (free <= 0) {
        lease.status = Lease::Status::Busy;  // every attempt left is held by a request in flight
        lease.inputs = {};
        t.commit();
        return lease;
    }
    Stmt ins(c.db, "INSERT INTO attempt_leases(h, expires_at) VALUES(?, ?)");
    ins.blob(1, h).real(2, lease_until).step();
    lease.id = detail::loaded_sqlite().last_insert_rowid(c.db);
    lease.status = Lease::Status::Granted;
    t.commit();
    return lease;
}

std::optional<Burned> SqliteStore::burn_attempt(const std::string& h, int64_t lease, double now,
                                                const std::string& client) {
    Conn c(m_pool);
    Txn t(c.db);
    end_lease(c.db, lease);
    std::string id;
    Burned b;
    {
        Stmt s(c.db, "SELECT id, fails_allowed, fails_burned + 1 FROM shares WHERE h = ? AND state = 'live'");
        if (s.blob(1, h).step() != SQLITE_ROW) {
            t.commit();
            return std::nullopt;
        }
        id = s.str(0);
        b.attempts_left = static_cast<int>(std::max<int64_t>(0, s.integer(1) - s.integer(2)));
        b.destroyed = b.attempts_left == 0;
    }
    Stmt u(c.db, b.destroyed ? "UPDATE shares SET fails_burned = fails_burned + 1, state = 'destroyed', sealed = NULL,"
                               " nonce = NULL WHERE h = ?"
                             : "UPDATE shares SET fails_burned = fails_burned + 1 WHERE h = ?");
    u.blob(1, h).step();
    add_event(c.db, id, "wrong_pin", client, now);
    if (b.destroyed) {
        add_event(c.db, id, "destroyed", client, now);
        drop_leases(c.db, h);
    }
    t.commit();
    if (b.destroyed) scrub(c.db);
    return b;
}

std::optional<Taken> SqliteStore::take_reveal(const std::string& h, int64_t lease, double now,
                                              const std::string& client) {
    Conn c(m_pool);
    Txn t(c.db);
    end_lease(c.db, lease);
    Taken taken;
    {
        // Finished before the UPDATE and the COMMIT: a statement still stepping would
        // hold a read snapshot, and the checkpoint after the wipe would wait for it.
        Stmt s(c.db,
               "SELECT id, nonce, sealed, expires_at, max_reveals, reveals_left - 1 FROM shares"
               " WHERE h = ? AND state = 'live' AND expires_at > ? AND reveals_left > 0");
        if (s.blob(1, h).real(2, now).step() != SQLITE_ROW) {
            t.commit();
            return std::nullopt;
        }
        taken = {
            s.str(0), s.blob(1), s.blob(2), s.real(3), static_cast<int>(s.integer(4)), static_cast<int>(s.integer(5))};
    }
    bool last = taken.reveals_left <= 0;
    Stmt u(c.db, last ? "UPDATE shares SET reveals_left = 0, state = 'used', sealed = NULL, nonce = NULL WHERE h = ?"
                      : "UPDATE shares SET reveals_left = reveals_left - 1 WHERE h = ?");
    u.blob(1, h).step();
    if (last) drop_leases(c.db, h);
    add_event(c.db, taken.id, "revealed", client, now);
    t.commit();
    if (last) scrub(c.db);
    return taken;
}

void SqliteStore::release_lease(int64_t lease) {
    Conn c(m_pool);
    end_lease(c.db, lease);
}

bool SqliteStore::revoke(const std::string& id, int64_t owner, double now, const std::string& client) {
    Conn c(m_pool);
    Txn t(c.db);
    int revoked = 0;
    {
        Stmt s(c.db, "SELECT h FROM shares WHERE id = ? AND (owner = ? OR ? < 0) AND state = 'live'");
        if (s.text(1, id).integer(2, owner).integer(3, owner).step() == SQLITE_ROW) {
            std::string h = s.blob(0);
            s.reset();
            Stmt u(c.db, "UPDATE shares SET state = 'revoked', sealed = NULL, nonce = NULL WHERE h = ?");
            u.blob(1, h).step();
            drop_leases(c.db, h);
            add_event(c.db, id, "revoked", client, now);
            revoked = 1;
        }
    }
    t.commit();
    if (revoked) scrub(c.db);
    return revoked == 1;
}

std::optional<ShareRecord> SqliteStore::find(const std::string& id, int64_t owner) {
    Conn c(m_pool);
    Stmt s(c.db,
           "SELECT h, id, owner, state, created_at, expires_at, max_reveals, reveals_left, fails_allowed, fails_burned,"
           " content_bytes FROM shares WHERE id = ? AND (owner = ? OR ? < 0)");
    if (s.text(1, id).integer(2, owner).integer(3, owner).step() != SQLITE_ROW) return std::nullopt;
    ShareRecord r;
    r.h = s.blob(0);
    r.id = s.str(1);
    r.owner = s.integer(2);
    r.state = s.str(3);
    r.created_at = s.real(4);
    r.expires_at = s.real(5);
    r.max_reveals = static_cast<int>(s.integer(6));
    r.reveals_left = static_cast<int>(s.integer(7));
    r.fails_allowed = static_cast<int>(s.integer(8));
    r.fails_burned = static_cast<int>(s.integer(9));
    r.content_bytes = s.integer(10);
    return r;
}

std::vector<AuditEvent> SqliteStore::audit_events(const std::string& share_id) {
    Conn c(m_pool);
    Stmt s(c.db, "SELECT at, event, client FROM audit WHERE share_id = ? ORDER BY seq");
    s.text(1, share_id);
    std::vector<AuditEvent> out;
    while (s.step() == SQLITE_ROW) out.push_back({s.real(0), s.str(1), s.str(2)});
    return out;
}

int SqliteStore::sweep(double now) {
    Conn c(m_pool);
    Txn t(c.db);
    std::vector<std::string> expired;
    {
        Stmt ids(c.db, "SELECT id FROM shares WHERE state = 'live' AND expires_at <= ?");
        ids.real(1, now);
        while (ids.step() == SQLITE_ROW) expired.push_back(ids.str(0));
    }
    Stmt u(c.db,
           "UPDATE shares SET state = 'expired', sealed = NULL, nonce = NULL WHERE state = 'live' AND expires_at <= ?");
    u.real(1, now).step();
    for (const auto& id : expired) add_event(c.db, id, "expired", "", now);
    Stmt leases(c.db, "DELETE FROM attempt_leases WHERE expires_at <= ?");
    leases.real(1, now).step();
    Stmt counters(c.db, "DELETE FROM counters WHERE window < ?");
    counters.integer(1, static_cast<int64_t>(std::floor(now / 60)) - 1).step();
    t.commit();
    if (!expired.empty() || m_scrub_pending) scrub(c.db);
    return static_cast<int>(expired.size());
}

void SqliteStore::end_lease(sqlite3* db, int64_t lease) {
    Stmt s(db, "DELETE FROM attempt_leases WHERE id = ?");
    s.integer(1, lease).step();
}

void SqliteStore::drop_leases(sqlite3* db, const std::string& h) {
    Stmt s(db, "DELETE FROM attempt_leases WHERE h = ?");
    s.blob(1, h).step();
}

// Empties the WAL after content was wiped (sqlite::checkpoint_truncate). If a reader
// elsewhere keeps it from finishing, the sweeper tries again and the operator hears.
void SqliteStore::scrub(sqlite3* db) {
    if (sqlite::checkpoint_truncate(db)) {
        m_scrub_pending = false;
        return;
    }
    m_scrub_pending = true;
    warn("wiped share content may remain in " + m_pool.path() +
         "-wal: the checkpoint could not finish (a reader elsewhere); the sweeper retries");
}

void SqliteStore::warn(const std::string& message) {
    if (m_options.warn) m_options.warn(message);
}

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, StoreOptions options) {
    try {
        auto store = std::make_unique<SqliteStore>(path, std::move(options));
        if (auto e = store->init()) return *e;
        return std::unique_ptr<Store>(std::move(store));
    } catch (const std::exception& e) {
        return make_error(ErrorCode::IO_ERROR, e.what());
    }
}

}  // namespace shcx::share
