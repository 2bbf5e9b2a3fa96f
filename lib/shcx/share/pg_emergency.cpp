// EmergencyStore on PostgreSQL (emergency_store.h has the contracts). Like the rest of
// the PostgreSQL store, each operation is one short READ COMMITTED transaction whose
// decisions are conditional row writes under the share's row lock.
#include "shcx/share/pg_emergency.h"

#include "shcx/share/store.h"

namespace shcx::share {
namespace {

using pg::Conn;
using pg::Params;
using pg::Statement;

namespace sql {
constexpr Statement insert_share{
    "em_insert_share",
    "WITH s AS (INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left,"
    " fails_allowed, fails_burned, salt, kdf_params, verifier, nonce, sealed, content_bytes) VALUES($1::bytea,"
    " $2::text, $3::bigint, $4::text, $5::float8, $6::float8, $7::int, $8::int, $9::int, $10::int, $11::bytea,"
    " $12::text, $13::bytea, $14::bytea, $15::bytea, $16::bigint) RETURNING id, created_at)"
    " INSERT INTO audit(share_id, at, event, client) SELECT id, created_at, 'created', '' FROM s"};
constexpr Statement insert_tiers{
    "em_insert_tiers",
    "INSERT INTO emergency_tiers(share_id, label, nonce_emergency, sealed_emergency, nonce_full, sealed_full,"
    " break_glass_max_uses, break_glass_pause) VALUES($1::text, $2::text, $3::bytea, $4::bytea, $5::bytea,"
    " $6::bytea, $7::int, $8::float8)"};
// Locks the share's row first (the order every share transaction uses), then its tiers.
constexpr Statement lock_live{
    "em_lock_live",
    "SELECT s.id, s.expires_at, e.nonce_emergency, e.sealed_emergency, e.nonce_full, e.sealed_full,"
    " e.break_glass_uses, e.break_glass_max_uses, e.break_glass_pause, e.break_glass_paused_until"
    " FROM shares s JOIN emergency_tiers e ON e.share_id = s.id WHERE s.h = $1::bytea AND s.state = 'live'"
    " AND s.expires_at > $2::float8 AND s.reveals_left > 0 FOR UPDATE"};
constexpr Statement count_use{
    "em_count_use",
    "UPDATE emergency_tiers SET break_glass_uses = CASE WHEN $2::bool THEN 0 ELSE break_glass_uses + 1 END,"
    " break_glass_paused_until = CASE WHEN $2::bool THEN $3::float8 ELSE 0 END WHERE share_id = $1::text"};
constexpr Statement id_of{
    "em_id_of", "SELECT s.id FROM shares s JOIN emergency_tiers e ON e.share_id = s.id WHERE s.h = $1::bytea"};
constexpr Statement add_access{
    "em_add_access",
    "INSERT INTO emergency_access(share_id, at, tier, via, attestation, address, user_agent) VALUES($1::text,"
    " $2::float8, $3::text, $4::text, $5::text, $6::text, $7::text)"};
constexpr Statement info{
    "em_info",
    "SELECT e.label, e.break_glass_max_uses, e.break_glass_uses, e.break_glass_pause, e.break_glass_paused_until"
    " FROM shares s JOIN emergency_tiers e ON e.share_id = s.id WHERE s.id = $1::text"
    " AND (s.owner = $2::bigint OR $2::bigint < 0)"};
constexpr Statement accesses{
    "em_accesses",
    "SELECT at, tier, via, attestation, address, user_agent FROM emergency_access WHERE share_id = $1::text"
    " ORDER BY seq"};
constexpr Statement resume{
    "em_resume",
    "UPDATE emergency_tiers SET break_glass_uses = 0, break_glass_paused_until = 0 WHERE share_id IN"
    " (SELECT id FROM shares WHERE id = $1::text AND (owner = $2::bigint OR $2::bigint < 0) AND state = 'live'"
    " AND expires_at > $3::float8)"};
}  // namespace sql

Params access_params(const std::string& id, const EmergencyAccess& a) {
    Params p;
    p.text(id).real(a.at).text(a.tier).text(a.via).text(a.attestation).text(a.address).text(a.user_agent);
    return p;
}

class PgEmergency final : public EmergencyStore {
public:
    explicit PgEmergency(pg::Pool& pool) : m_pool(pool) {}

    std::optional<Error> insert(const ShareRecord& r, const EmergencyRecord& e) override {
        m_pool.transaction([&](Conn& c) {
            c.exec(sql::insert_share, Params()
                                          .bytes(r.h)
                                          .text(r.id)
                                          .integer(r.owner)
                                          .text(r.state)
                                          .real(r.created_at)
                                          .real(r.expires_at)
                                          .integer(r.max_reveals)
                                          .integer(r.reveals_left)
                                          .integer(r.fails_allowed)
                                          .integer(r.fails_burned)
                                          .bytes(r.salt)
                                          .text(r.kdf_params)
                                          .bytes(r.verifier)
                                          .bytes(r.nonce)
                                          .bytes(r.sealed)
                                          .integer(r.content_bytes));
            c.exec(sql::insert_tiers, Params()
                                          .text(r.id)
                                          .text(e.label)
                                          .bytes(e.nonce_emergency)
                                          .bytes(e.sealed_emergency)
                                          .bytes(e.nonce_full)
                                          .bytes(e.sealed_full)
                                          .integer(e.break_glass_max_uses)
                                          .real(e.break_glass_pause));
        });
        return std::nullopt;
    }

    TierRead read(const std::string& h, double now, bool break_glass, const EmergencyAccess& access) override {
        return m_pool.transaction([&](Conn& c) {
            TierRead out;
            auto rows = c.exec(sql::lock_live, Params().bytes(h).real(now));
            if (rows.empty()) return out;  // Gone
            out.id = rows.bytes(0, 0);
            out.expires_at = rows.real(0, 1);
            out.paused_until = rows.real(0, 9);
            if (break_glass) {
                if (out.paused_until > now) {
                    out.status = TierRead::Status::Paused;
                    return out;
                }
                bool pausing = rows.integer(0, 6) + 1 >= rows.integer(0, 7);
                out.paused_until = pausing ? now + rows.real(0, 8) : 0;
                c.exec(sql::count_use, Params().text(out.id).text(pausing ? "true" : "false").real(out.paused_until));
            }
            out.nonce = rows.bytes(0, break_glass ? 4 : 2);
            out.sealed = rows.bytes(0, break_glass ? 5 : 3);
            c.exec(sql::add_access, access_params(out.id, access));
            out.status = TierRead::Status::Read;
            return out;
        });
    }

    void record(const std::string& h, const EmergencyAccess& access) override {
        m_pool.transaction([&](Conn& c) {
            auto rows = c.exec(sql::id_of, Params().bytes(h));
            if (!rows.empty()) c.exec(sql::add_access, access_params(rows.bytes(0, 0), access));
        });
    }

    std::optional<EmergencyInfo> info(const std::string& id, int64_t owner) override {
        return m_pool.run(true, [&](Conn& c) -> std::optional<EmergencyInfo> {
            auto rows = c.exec(sql::info, Params().text(id).integer(owner));
            if (rows.empty()) return std::nullopt;
            EmergencyInfo out;
            out.label = rows.bytes(0, 0);
            out.break_glass_max_uses = static_cast<int>(rows.integer(0, 1));
            out.break_glass_uses = static_cast<int>(rows.integer(0, 2));
            out.break_glass_pause = rows.real(0, 3);
            out.break_glass_paused_until = rows.real(0, 4);
            auto a = c.exec(sql::accesses, Params().text(id));
            for (int i = 0; i < a.size(); ++i)
                out.accesses.push_back(
                    {a.real(i, 0), a.bytes(i, 1), a.bytes(i, 2), a.bytes(i, 3), a.bytes(i, 4), a.bytes(i, 5)});
            return out;
        });
    }

    bool resume_break_glass(const std::string& id, int64_t owner, double now) override {
        return m_pool.run(true, [&](Conn& c) {
            return c.exec(sql::resume, Params().text(id).integer(owner).real(now)).affected() == 1;
        });
    }

private:
    pg::Pool& m_pool;
};

}  // namespace

std::unique_ptr<EmergencyStore> make_pg_emergency(pg::Pool& pool) { return std::make_unique<PgEmergency>(pool); }

}  // namespace shcx::share
