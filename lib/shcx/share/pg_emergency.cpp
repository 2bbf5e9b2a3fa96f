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
constexpr Statement insert_notify{
    "em_insert_notify",
    "INSERT INTO emergency_notify(share_id, url, nonce, sealed_secret) VALUES($1::text, $2::text, $3::bytea,"
    " $4::bytea)"};
// The owner's alert, written in the break glass's transaction.
constexpr Statement enqueue_alert{
    "em_enqueue_alert",
    "INSERT INTO emergency_alerts(share_id, at, tier, attestation, address, user_agent, url, nonce, sealed_secret,"
    " next_at) SELECT share_id, $2::float8, $3::text, $4::text, $5::text, $6::text, url, nonce, sealed_secret,"
    " $7::float8 FROM emergency_notify WHERE share_id = $1::text"};
constexpr Statement notify_url{"em_notify_url", "SELECT url FROM emergency_notify WHERE share_id = $1::text"};
constexpr Statement alerts{"em_alerts",
                           "SELECT seq, at, state, attempts, last_status, last_error, done_at FROM emergency_alerts"
                           " WHERE share_id = $1::text ORDER BY seq"};
// Several servers on one database: each claims rows nobody else holds (SKIP LOCKED) and
// leases them, so a crashed deliverer's alerts come back after the lease.
constexpr Statement claim_alerts{
    "em_claim_alerts",
    "UPDATE emergency_alerts SET attempts = attempts + 1, lease_until = $1::float8 WHERE seq IN (SELECT seq"
    " FROM emergency_alerts WHERE state = 'pending' AND next_at <= $2::float8 AND lease_until <= $2::float8"
    " ORDER BY seq LIMIT $3::int FOR UPDATE SKIP LOCKED) RETURNING seq, share_id, url, nonce, sealed_secret, at,"
    " tier, attestation, address, user_agent, attempts"};
constexpr Statement alert_delivered{
    "em_alert_delivered",
    "UPDATE emergency_alerts SET state = 'delivered', done_at = $2::float8, last_status = $3::int,"
    " last_error = '', lease_until = 0, nonce = NULL, sealed_secret = NULL WHERE seq = $1::bigint"};
constexpr Statement alert_retry{
    "em_alert_retry",
    "UPDATE emergency_alerts SET next_at = $2::float8, last_status = $3::int, last_error = $4::text,"
    " lease_until = 0 WHERE seq = $1::bigint"};
constexpr Statement alert_give_up{
    "em_alert_give_up",
    "UPDATE emergency_alerts SET state = 'failed', done_at = $2::float8, last_status = $3::int,"
    " last_error = $4::text, lease_until = 0, nonce = NULL, sealed_secret = NULL WHERE seq = $1::bigint"};
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
            if (!e.notify_url.empty())
                c.exec(sql::insert_notify,
                       Params().text(r.id).text(e.notify_url).bytes(e.notify_nonce).bytes(e.notify_sealed_secret));
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
            if (break_glass)
                c.exec(sql::enqueue_alert, Params()
                                               .text(out.id)
                                               .real(access.at)
                                               .text(access.tier)
                                               .text(access.attestation)
                                               .text(access.address)
                                               .text(access.user_agent)
                                               .real(now));
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
            auto n = c.exec(sql::notify_url, Params().text(id));
            if (!n.empty()) out.notify_url = n.bytes(0, 0);
            auto al = c.exec(sql::alerts, Params().text(id));
            for (int i = 0; i < al.size(); ++i)
                out.alerts.push_back({al.integer(i, 0), al.real(i, 1), al.bytes(i, 2),
                                      static_cast<int>(al.integer(i, 3)), static_cast<int>(al.integer(i, 4)),
                                      al.bytes(i, 5), al.real(i, 6)});
            return out;
        });
    }

    bool is_emergency(const std::string& h) override {
        return m_pool.run(false, [&](Conn& c) { return !c.exec(sql::id_of, Params().bytes(h)).empty(); });
    }

    bool resume_break_glass(const std::string& id, int64_t owner, double now) override {
        return m_pool.run(true, [&](Conn& c) {
            return c.exec(sql::resume, Params().text(id).integer(owner).real(now)).affected() == 1;
        });
    }

    std::vector<AlertClaim> claim_alerts(double now, double lease, int max) override {
        return m_pool.transaction([&](Conn& c) {
            std::vector<AlertClaim> out;
            auto rows = c.exec(sql::claim_alerts, Params().real(now + lease).real(now).integer(max));
            for (int i = 0; i < rows.size(); ++i) {
                AlertClaim a;
                a.seq = rows.integer(i, 0);
                a.share_id = rows.bytes(i, 1);
                a.url = rows.bytes(i, 2);
                a.nonce = rows.bytes(i, 3);
                a.sealed_secret = rows.bytes(i, 4);
                a.access = {rows.real(i, 5),  rows.bytes(i, 6), "break-glass",
                            rows.bytes(i, 7), rows.bytes(i, 8), rows.bytes(i, 9)};
                a.attempts = static_cast<int>(rows.integer(i, 10));
                out.push_back(std::move(a));
            }
            return out;
        });
    }

    void alert_delivered(int64_t seq, double now, int status) override {
        m_pool.run(true,
                   [&](Conn& c) { c.exec(sql::alert_delivered, Params().integer(seq).real(now).integer(status)); });
    }

    void alert_failed(int64_t seq, double now, int status, const std::string& error,
                      std::optional<double> retry_at) override {
        m_pool.run(true, [&](Conn& c) {
            if (retry_at) c.exec(sql::alert_retry, Params().integer(seq).real(*retry_at).integer(status).text(error));
            else c.exec(sql::alert_give_up, Params().integer(seq).real(now).integer(status).text(error));
        });
    }

private:
    pg::Pool& m_pool;
};

}  // namespace

std::unique_ptr<EmergencyStore> make_pg_emergency(pg::Pool& pool) { return std::make_unique<PgEmergency>(pool); }

}  // namespace shcx::share
