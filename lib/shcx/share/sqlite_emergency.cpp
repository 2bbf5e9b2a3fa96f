// EmergencyStore on SQLite (emergency_store.h has the contracts).
#include "shcx/share/sqlite_emergency.h"

#include "shcx/share/store.h"

namespace shcx::share {
namespace {

using sqlite::Conn;
using sqlite::Stmt;
using sqlite::Txn;

class SqliteEmergency final : public EmergencyStore {
public:
    explicit SqliteEmergency(sqlite::Pool& pool) : m_pool(pool) {}

    std::optional<Error> insert(const ShareRecord& r, const EmergencyRecord& e) override {
        Conn c(m_pool);
        Txn t(c.db);
        {
            Stmt s(c.db,
                   "INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left,"
                   " fails_allowed, fails_burned, salt, kdf_params, verifier, nonce, sealed, content_bytes) "
                   "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
            s.blob(1, r.h).text(2, r.id).integer(3, r.owner).text(4, r.state).real(5, r.created_at);
            s.real(6, r.expires_at).integer(7, r.max_reveals).integer(8, r.reveals_left);
            s.integer(9, r.fails_allowed).integer(10, r.fails_burned).blob(11, r.salt).text(12, r.kdf_params);
            s.blob(13, r.verifier).blob(14, r.nonce).blob(15, r.sealed).integer(16, r.content_bytes).step();
        }
        {
            Stmt s(c.db,
                   "INSERT INTO emergency_tiers(share_id, label, nonce_emergency, sealed_emergency, nonce_full,"
                   " sealed_full, break_glass_max_uses, break_glass_pause) VALUES(?,?,?,?,?,?,?,?)");
            s.text(1, r.id).text(2, e.label).blob(3, e.nonce_emergency).blob(4, e.sealed_emergency);
            s.blob(5, e.nonce_full).blob(6, e.sealed_full).integer(7, e.break_glass_max_uses);
            s.real(8, e.break_glass_pause).step();
        }
        if (!e.notify_url.empty()) {
            Stmt s(c.db, "INSERT INTO emergency_notify(share_id, url, nonce, sealed_secret) VALUES(?,?,?,?)");
            s.text(1, r.id).text(2, e.notify_url).blob(3, e.notify_nonce).blob(4, e.notify_sealed_secret).step();
        }
        {
            Stmt a(c.db, "INSERT INTO audit(share_id, at, event, client) VALUES(?, ?, 'created', '')");
            a.text(1, r.id).real(2, r.created_at).step();
        }
        t.commit();
        return std::nullopt;
    }

    TierRead read(const std::string& h, double now, bool break_glass, const EmergencyAccess& access) override {
        Conn c(m_pool);
        Txn t(c.db);
        TierRead out;
        int uses = 0, max_uses = 0;
        double pause = 0;
        {
            Stmt s(c.db,
                   "SELECT s.id, s.expires_at, e.nonce_emergency, e.sealed_emergency, e.nonce_full, e.sealed_full,"
                   " e.break_glass_uses, e.break_glass_max_uses, e.break_glass_pause, e.break_glass_paused_until"
                   " FROM shares s JOIN emergency_tiers e ON e.share_id = s.id"
                   " WHERE s.h = ? AND s.state = 'live' AND s.expires_at > ? AND s.reveals_left > 0");
            if (s.blob(1, h).real(2, now).step() != SQLITE_ROW) {
                t.commit();
                return out;  // Gone
            }
            out.id = s.str(0);
            out.expires_at = s.real(1);
            out.nonce = s.blob(break_glass ? 4 : 2);
            out.sealed = s.blob(break_glass ? 5 : 3);
            uses = static_cast<int>(s.integer(6));
            max_uses = static_cast<int>(s.integer(7));
            pause = s.real(8);
            out.paused_until = s.real(9);
        }
        if (break_glass) {
            if (out.paused_until > now) {
                out.status = TierRead::Status::Paused;
                out.nonce.clear();
                out.sealed.clear();
                t.commit();
                return out;
            }
            bool pausing = uses + 1 >= max_uses;
            Stmt u(c.db,
                   "UPDATE emergency_tiers SET break_glass_uses = CASE WHEN ? THEN 0 ELSE break_glass_uses + 1 END,"
                   " break_glass_paused_until = CASE WHEN ? THEN ? ELSE 0 END WHERE share_id = ?");
            u.integer(1, pausing).integer(2, pausing).real(3, now + pause).text(4, out.id).step();
            out.paused_until = pausing ? now + pause : 0;
        }
        add(c.db, out.id, access);
        if (break_glass) {
            // The owner's alert, in the same transaction: no break glass without its alert.
            Stmt a(c.db,
                   "INSERT INTO emergency_alerts(share_id, at, tier, attestation, address, user_agent, url, nonce,"
                   " sealed_secret, next_at) SELECT share_id, ?, ?, ?, ?, ?, url, nonce, sealed_secret, ?"
                   " FROM emergency_notify WHERE share_id = ?");
            a.real(1, access.at).text(2, access.tier).text(3, access.attestation).text(4, access.address);
            a.text(5, access.user_agent).real(6, now).text(7, out.id).step();
        }
        t.commit();
        out.status = TierRead::Status::Read;
        return out;
    }

    void record(const std::string& h, const EmergencyAccess& access) override {
        Conn c(m_pool);
        Txn t(c.db);
        std::string id;
        {
            Stmt s(c.db, "SELECT s.id FROM shares s JOIN emergency_tiers e ON e.share_id = s.id WHERE s.h = ?");
            if (s.blob(1, h).step() != SQLITE_ROW) return;
            id = s.str(0);
        }
        add(c.db, id, access);
        t.commit();
    }

    std::optional<EmergencyInfo> info(const std::string& id, int64_t owner) override {
        Conn c(m_pool);
        EmergencyInfo out;
        {
            Stmt s(c.db,
                   "SELECT e.label, e.break_glass_max_uses, e.break_glass_uses, e.break_glass_pause,"
                   " e.break_glass_paused_until FROM shares s JOIN emergency_tiers e ON e.share_id = s.id"
                   " WHERE s.id = ? AND (s.owner = ? OR ? < 0)");
            if (s.text(1, id).integer(2, owner).integer(3, owner).step() != SQLITE_ROW) return std::nullopt;
            out.label = s.str(0);
            out.break_glass_max_uses = static_cast<int>(s.integer(1));
            out.break_glass_uses = static_cast<int>(s.integer(2));
            out.break_glass_pause = s.real(3);
            out.break_glass_paused_until = s.real(4);
        }
        Stmt a(c.db,
               "SELECT at, tier, via, attestation, address, user_agent FROM emergency_access WHERE share_id = ?"
               " ORDER BY seq");
        a.text(1, id);
        while (a.step() == SQLITE_ROW)
            out.accesses.push_back({a.real(0), a.str(1), a.str(2), a.str(3), a.str(4), a.str(5)});
        a.reset();
        {
            Stmt n(c.db, "SELECT url FROM emergency_notify WHERE share_id = ?");
            if (n.text(1, id).step() == SQLITE_ROW) out.notify_url = n.str(0);
        }
        Stmt al(c.db,
                "SELECT seq, at, state, attempts, last_status, last_error, done_at FROM emergency_alerts"
                " WHERE share_id = ? ORDER BY seq");
        al.text(1, id);
        while (al.step() == SQLITE_ROW)
            out.alerts.push_back({al.integer(0), al.real(1), al.str(2), static_cast<int>(al.integer(3)),
                                  static_cast<int>(al.integer(4)), al.str(5), al.real(6)});
        return out;
    }

    bool is_emergency(const std::string& h) override {
        Conn c(m_pool);
        Stmt s(c.db, "SELECT 1 FROM shares s JOIN emergency_tiers e ON e.share_id = s.id WHERE s.h = ?");
        return s.blob(1, h).step() == SQLITE_ROW;
    }

    bool resume_break_glass(const std::string& id, int64_t owner, double now) override {
        Conn c(m_pool);
        Stmt u(c.db,
               "UPDATE emergency_tiers SET break_glass_uses = 0, break_glass_paused_until = 0 WHERE share_id IN"
               " (SELECT id FROM shares WHERE id = ? AND (owner = ? OR ? < 0) AND state = 'live' AND expires_at > ?)");
        u.text(1, id).integer(2, owner).integer(3, owner).real(4, now).step();
        return detail::loaded_sqlite().changes(c.db) == 1;
    }

    std::vector<AlertClaim> claim_alerts(double now, double lease, int max) override {
        // One writer at a time (BEGIN IMMEDIATE): the lease keeps other processes on the
        // same file off a claimed alert.
        Conn c(m_pool);
        Txn t(c.db);
        std::vector<AlertClaim> out;
        {
            Stmt s(c.db,
                   "UPDATE emergency_alerts SET attempts = attempts + 1, lease_until = ? WHERE seq IN (SELECT seq"
                   " FROM emergency_alerts WHERE state = 'pending' AND next_at <= ? AND lease_until <= ?"
                   " ORDER BY seq LIMIT ?) RETURNING seq, share_id, url, nonce, sealed_secret, at, tier,"
                   " attestation, address, user_agent, attempts");
            s.real(1, now + lease).real(2, now).real(3, now).integer(4, max);
            while (s.step() == SQLITE_ROW) {
                AlertClaim a;
                a.seq = s.integer(0);
                a.share_id = s.str(1);
                a.url = s.str(2);
                a.nonce = s.blob(3);
                a.sealed_secret = s.blob(4);
                a.access = {s.real(5), s.str(6), "break-glass", s.str(7), s.str(8), s.str(9)};
                a.attempts = static_cast<int>(s.integer(10));
                out.push_back(std::move(a));
            }
        }
        t.commit();
        return out;
    }

    void alert_delivered(int64_t seq, double now, int status) override {
        Conn c(m_pool);
        Stmt u(c.db,
               "UPDATE emergency_alerts SET state = 'delivered', done_at = ?, last_status = ?, last_error = '',"
               " lease_until = 0, nonce = NULL, sealed_secret = NULL WHERE seq = ?");
        u.real(1, now).integer(2, status).integer(3, seq).step();
    }

    void alert_failed(int64_t seq, double now, int status, const std::string& error,
                      std::optional<double> retry_at) override {
        Conn c(m_pool);
        if (retry_at) {
            Stmt u(c.db,
                   "UPDATE emergency_alerts SET next_at = ?, last_status = ?, last_error = ?, lease_until = 0"
                   " WHERE seq = ?");
            u.real(1, *retry_at).integer(2, status).text(3, error).integer(4, seq).step();
        } else {
            Stmt u(c.db,
                   "UPDATE emergency_alerts SET state = 'failed', done_at = ?, last_status = ?, last_error = ?,"
                   " lease_until = 0, nonce = NULL, sealed_secret = NULL WHERE seq = ?");
            u.real(1, now).integer(2, status).text(3, error).integer(4, seq).step();
        }
    }

private:
    static void add(sqlite3* db, const std::string& id, const EmergencyAccess& a) {
        Stmt s(db,
               "INSERT INTO emergency_access(share_id, at, tier, via, attestation, address, user_agent)"
               " VALUES(?,?,?,?,?,?,?)");
        s.text(1, id).real(2, a.at).text(3, a.tier).text(4, a.via).text(5, a.attestation).text(6, a.address);
        s.text(7, a.user_agent).step();
    }

    sqlite::Pool& m_pool;
};

}  // namespace

std::unique_ptr<EmergencyStore> make_sqlite_emergency(sqlite::Pool& pool) {
    return std::make_unique<SqliteEmergency>(pool);
}

}  // namespace shcx::share
