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
        return out;
    }

    bool resume_break_glass(const std::string& id, int64_t owner, double now) override {
        Conn c(m_pool);
        Stmt u(c.db,
               "UPDATE emergency_tiers SET break_glass_uses = 0, break_glass_paused_until = 0 WHERE share_id IN"
               " (SELECT id FROM shares WHERE id = ? AND (owner = ? OR ? < 0) AND state = 'live' AND expires_at > ?)");
        u.text(1, id).integer(2, owner).integer(3, owner).real(4, now).step();
        return sqlite3_changes(c.db) == 1;
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
