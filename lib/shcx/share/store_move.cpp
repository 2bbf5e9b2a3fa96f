#include "shcx/share/store_move.h"

#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "shcx/detail/sqlite_api.h"
#include "shcx/share/migrations.h"
#include "shcx/share/pg_conn.h"
#include "shcx/share/pg_store.h"
#include "shcx/share/store.h"

namespace shcx::share {
namespace {

using pg::Params;

struct SourceUser {
    int64_t id;
    std::string name, token_hash;
    double created_at;
    std::optional<double> expires_at, last_used_at;
};

// A prepared SQLite statement for this one job; throws on failure like the SQLite store.
class Query {
public:
    Query(sqlite3* db, const char* sql) : m_db(db) {
        if (detail::loaded_sqlite().prepare_v2(db, sql, -1, &m_s, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("SQLite: ") + detail::loaded_sqlite().errmsg(db));
    }
    ~Query() { detail::loaded_sqlite().finalize(m_s); }
    Query& bind(int i, const std::string& blob) {
        detail::loaded_sqlite().bind_blob(m_s, i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Query& text(int i, const std::string& s) {
        detail::loaded_sqlite().bind_text(m_s, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Query& real(int i, double v) {
        detail::loaded_sqlite().bind_double(m_s, i, v);
        return *this;
    }
    bool step() {
        int rc = detail::loaded_sqlite().step(m_s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            throw std::runtime_error(std::string("SQLite: ") + detail::loaded_sqlite().errmsg(m_db));
        return rc == SQLITE_ROW;
    }
    std::string blob(int col) {
        auto* p = static_cast<const char*>(detail::loaded_sqlite().column_blob(m_s, col));
        return p ? std::string(p, static_cast<size_t>(detail::loaded_sqlite().column_bytes(m_s, col))) : std::string();
    }
    double real(int col) { return detail::loaded_sqlite().column_double(m_s, col); }
    std::optional<double> real_or_null(int col) {
        if (detail::loaded_sqlite().column_type(m_s, col) == SQLITE_NULL) return std::nullopt;
        return real(col);
    }
    int64_t integer(int col) { return detail::loaded_sqlite().column_int64(m_s, col); }

private:
    sqlite3* m_db;
    sqlite3_stmt* m_s = nullptr;
};

void exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    if (detail::loaded_sqlite().exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown";
        detail::loaded_sqlite().free(err);
        throw std::runtime_error("SQLite: " + msg);
    }
}

namespace sql {
constexpr pg::Statement insert_user{
    "move_insert_user",
    "INSERT INTO users(name, token_hash, created_at, expires_at, last_used_at) VALUES($1::text, $2::bytea,"
    " $3::float8, $4::float8, $5::float8) ON CONFLICT (name) DO NOTHING RETURNING id"};
constexpr pg::Statement user_by_name{"move_user_by_name", "SELECT id, token_hash FROM users WHERE name = $1::text"};
constexpr pg::Statement insert_share{
    "move_insert_share",
    "INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left, fails_allowed,"
    " fails_burned, salt, kdf_params, verifier, nonce, sealed, content_bytes) VALUES($1::bytea, $2::text,"
    " $3::bigint, 'live', $4::float8, $5::float8, $6::int, $7::int, $8::int, $9::int, $10::bytea, $11::text,"
    " $12::bytea, $13::bytea, $14::bytea, $15::bigint) ON CONFLICT DO NOTHING RETURNING id"};
constexpr pg::Statement share_by_h{"move_share_by_h", "SELECT id FROM shares WHERE h = $1::bytea"};
// The pepper's fingerprint (pepper.h) comes along unless the target has its own.
constexpr pg::Statement adopt_pepper_check{
    "move_adopt_pepper_check",
    "INSERT INTO meta(key, value) VALUES('pepper_check', $1::bytea) ON CONFLICT (key) DO NOTHING"};
constexpr pg::Statement pepper_check{"move_pepper_check", "SELECT value FROM meta WHERE key = 'pepper_check'"};
constexpr pg::Statement insert_event{
    "move_insert_event",
    "INSERT INTO audit(share_id, at, event, client) VALUES($1::text, $2::float8, $3::text, $4::text)"};
// An emergency share's second row and its access log (docs/emergency.md), copied
// byte for byte: the tiers are sealed under keys from the pepper and the sid, neither of
// which changes.
constexpr pg::Statement insert_tiers{
    "move_insert_tiers",
    "INSERT INTO emergency_tiers(share_id, label, nonce_emergency, sealed_emergency, nonce_full, sealed_full,"
    " break_glass_max_uses, break_glass_pause, break_glass_uses, break_glass_paused_until) VALUES($1::text,"
    " $2::text, $3::bytea, $4::bytea, $5::bytea, $6::bytea, $7::int, $8::float8, $9::int, $10::float8)"};
constexpr pg::Statement tiers_of{"move_tiers_of",
                                 "SELECT sealed_emergency, sealed_full FROM emergency_tiers WHERE share_id = $1::text"};
constexpr pg::Statement insert_access{
    "move_insert_access",
    "INSERT INTO emergency_access(share_id, at, tier, via, attestation, address, user_agent) VALUES($1::text,"
    " $2::float8, $3::text, $4::text, $5::text, $6::text, $7::text)"};
// The owner's break-glass webhook and its alerts (0004_emergency_alerts.sql): the sealed
// secret's key comes from the pepper and the share id, both of which move along, so
// pending alerts are delivered by the servers on the target.
constexpr pg::Statement insert_notify{"move_insert_notify",
                                      "INSERT INTO emergency_notify(share_id, url, nonce, sealed_secret)"
                                      " VALUES($1::text, $2::text, $3::bytea, $4::bytea)"};
constexpr pg::Statement insert_alert{
    "move_insert_alert",
    "INSERT INTO emergency_alerts(share_id, at, tier, attestation, address, user_agent, url, nonce, sealed_secret,"
    " state, attempts, next_at, last_status, last_error, done_at) VALUES($1::text, $2::float8, $3::text, $4::text,"
    " $5::text, $6::text, $7::text, $8::bytea, $9::bytea, $10::text, $11::int, $12::float8, $13::int, $14::text,"
    " $15::float8)"};
}  // namespace sql

struct SourceTiers {
    std::string label, nonce_emergency, sealed_emergency, nonce_full, sealed_full;
    int64_t max_uses = 0, uses = 0;
    double pause = 0, paused_until = 0;
};

std::optional<SourceTiers> source_tiers(sqlite3* db, const std::string& id) {
    Query q(db,
            "SELECT label, nonce_emergency, sealed_emergency, nonce_full, sealed_full, break_glass_max_uses,"
            " break_glass_pause, break_glass_uses, break_glass_paused_until FROM emergency_tiers WHERE share_id = ?");
    if (!q.text(1, id).step()) return std::nullopt;
    return SourceTiers{q.blob(0),    q.blob(1),    q.blob(2), q.blob(3), q.blob(4),
                       q.integer(5), q.integer(7), q.real(6), q.real(8)};
}

// Copies the emergency part of the share `id`, just inserted on the target; returns the
// accesses copied.
int copy_emergency(sqlite3* db, pg::Conn& conn, const std::string& id, const SourceTiers& t) {
    conn.exec(sql::insert_tiers, Params()
                                     .text(id)
                                     .text(t.label)
                                     .bytes(t.nonce_emergency)
                                     .bytes(t.sealed_emergency)
                                     .bytes(t.nonce_full)
                                     .bytes(t.sealed_full)
                                     .integer(t.max_uses)
                                     .real(t.pause)
                                     .integer(t.uses)
                                     .real(t.paused_until));
    if (Query n(db, "SELECT url, nonce, sealed_secret FROM emergency_notify WHERE share_id = ?"); n.text(1, id).step())
        conn.exec(sql::insert_notify, Params().text(id).text(n.blob(0)).bytes(n.blob(1)).bytes(n.blob(2)));
    Query a(db,
            "SELECT at, tier, attestation, address, user_agent, url, nonce, sealed_secret, state, attempts, next_at,"
            " last_status, last_error, done_at FROM emergency_alerts WHERE share_id = ? ORDER BY seq");
    for (a.text(1, id); a.step();) {
        Params p;
        p.text(id).real(a.real(0)).text(a.blob(1)).text(a.blob(2)).text(a.blob(3)).text(a.blob(4)).text(a.blob(5));
        // A delivered or given-up alert has its copy of the secret wiped (NULL).
        std::string nonce = a.blob(6), sealed = a.blob(7);
        if (nonce.empty()) p.null();
        else p.bytes(nonce);
        if (sealed.empty()) p.null();
        else p.bytes(sealed);
        p.text(a.blob(8)).integer(a.integer(9)).real(a.real(10)).integer(a.integer(11)).text(a.blob(12));
        p.real(a.real(13));
        conn.exec(sql::insert_alert, p);
    }
    int accesses = 0;
    Query q(db,
            "SELECT at, tier, via, attestation, address, user_agent FROM emergency_access WHERE share_id = ?"
            " ORDER BY seq");
    for (q.text(1, id); q.step(); ++accesses)
        conn.exec(
            sql::insert_access,
            Params().text(id).real(q.real(0)).text(q.blob(1)).text(q.blob(2)).text(q.blob(3)).text(q.blob(4)).text(
                q.blob(5)));
    return accesses;
}

}  // namespace

Result<MoveReport> move_sqlite_to_postgres(const std::string& sqlite_file, const std::string& postgres_uri,
                                           double now) {
    if (!std::filesystem::is_regular_file(sqlite_file))
        return make_error(ErrorCode::IO_ERROR, "no SQLite share database at " + sqlite_file);
    // Both schemas up to date (and neither newer than this binary) before anything moves.
    if (auto e = migrate_sqlite(sqlite_file)) return *e;
    if (auto target = open_pg_store(postgres_uri); !target) return target.error();

    if (auto api = detail::sqlite_api(); !api) return api.error();
    sqlite3* db = nullptr;
    if (detail::loaded_sqlite().open_v2(sqlite_file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        std::string msg = db ? detail::loaded_sqlite().errmsg(db) : "out of memory";
        detail::loaded_sqlite().close(db);
        return make_error(ErrorCode::IO_ERROR, "cannot open " + sqlite_file + ": " + msg);
    }
    detail::loaded_sqlite().busy_timeout(db, 10000);
    MoveReport report;
    bool on_target = false;
    try {
        // The write lock for the whole move: a server still running on the file cannot
        // reveal a share between its copy and its tombstone.
        exec(db, "PRAGMA secure_delete=ON; BEGIN IMMEDIATE");
        std::vector<SourceUser> users;
        for (Query q(db, "SELECT id, name, token_hash, created_at, expires_at, last_used_at FROM users ORDER BY id");
             q.step();)
            users.push_back({q.integer(0), q.blob(1), q.blob(2), q.real(3), q.real_or_null(4), q.real_or_null(5)});
        std::optional<std::string> source_check;
        if (Query q(db, "SELECT value FROM meta WHERE key = 'pepper_check'"); q.step()) source_check = q.blob(0);

        auto conn = pg::connect(postgres_uri);
        conn->exec_simple("BEGIN");
        if (source_check) {
            conn->exec(sql::adopt_pepper_check, Params().bytes(*source_check));
            if (conn->exec(sql::pepper_check).bytes(0, 0) != *source_check)
                throw std::runtime_error("the target was made with another pepper than the source");
        }
        std::map<int64_t, int64_t> owner_of;  // source user id -> target user id
        for (const auto& u : users) {
            auto ins = conn->exec(sql::insert_user, Params()
                                                        .text(u.name)
                                                        .bytes(u.token_hash)
                                                        .real(u.created_at)
                                                        .real_or_null(u.expires_at)
                                                        .real_or_null(u.last_used_at));
            if (!ins.empty()) {
                owner_of[u.id] = ins.integer(0, 0);
                ++report.users;
                continue;
            }
            auto have = conn->exec(sql::user_by_name, Params().text(u.name));
            // "(local)" has a random hash that matches no token: any two are the same user.
            if (u.name != "(local)" && have.bytes(0, 1) != u.token_hash)
                throw std::runtime_error("the target already has a user \"" + u.name + "\" with another token");
            owner_of[u.id] = have.integer(0, 0);
            ++report.users_existing;
        }

        std::vector<std::string> moved;  // hashes of the shares now on the target
        Query shares(db,
                     "SELECT h, id, owner, created_at, expires_at, max_reveals, reveals_left, fails_allowed,"
                     " fails_burned, salt, kdf_params, verifier, nonce, sealed, content_bytes FROM shares"
                     " WHERE state = 'live' AND expires_at > ? AND reveals_left > 0");
        shares.real(1, now);
        while (shares.step()) {
            std::string h = shares.blob(0), id = shares.blob(1);
            Params p;
            p.bytes(h).text(id).integer(owner_of.at(shares.integer(2))).real(shares.real(3)).real(shares.real(4));
            p.integer(shares.integer(5))
                .integer(shares.integer(6))
                .integer(shares.integer(7))
                .integer(shares.integer(8));
            p.bytes(shares.blob(9)).text(shares.blob(10)).bytes(shares.blob(11)).bytes(shares.blob(12));
            p.bytes(shares.blob(13)).integer(shares.integer(14));
            bool inserted = !conn->exec(sql::insert_share, p).empty();
            auto tiers = source_tiers(db, id);
            if (!inserted) {
                // Already there from an interrupted earlier run: the same share, or a clash.
                auto there = conn->exec(sql::share_by_h, Params().bytes(h));
                auto there_tiers = conn->exec(sql::tiers_of, Params().text(id));
                bool same_tiers = tiers ? !there_tiers.empty() && there_tiers.bytes(0, 0) == tiers->sealed_emergency &&
                                              there_tiers.bytes(0, 1) == tiers->sealed_full
                                        : there_tiers.empty();
                if (there.empty() || there.bytes(0, 0) != id || !same_tiers)
                    throw std::runtime_error("the target already has a different share with the id or hash of " + id);
            } else {
                Query ev(db, "SELECT at, event, client FROM audit WHERE share_id = ? ORDER BY seq");
                for (ev.text(1, id); ev.step(); ++report.events)
                    conn->exec(sql::insert_event, Params().text(id).real(ev.real(0)).text(ev.blob(1)).text(ev.blob(2)));
                if (tiers) {
                    report.accesses += copy_emergency(db, *conn, id, *tiers);
                    ++report.emergency;
                }
            }
            moved.push_back(h);
            ++report.shares;
        }
        conn->exec_simple("COMMIT");
        on_target = true;

        for (const auto& h : moved) {
            Query id(db, "UPDATE shares SET state = 'moved', sealed = NULL, nonce = NULL WHERE h = ? RETURNING id");
            if (!id.bind(1, h).step()) continue;
            Query(db, "INSERT INTO audit(share_id, at, event, client) VALUES(?, ?, 'moved', '')")
                .text(1, id.blob(0))
                .real(2, now)
                .step();
            // Its pending alerts are the target's to deliver now.
            Query(db,
                  "UPDATE emergency_alerts SET state = 'moved', nonce = NULL, sealed_secret = NULL"
                  " WHERE share_id = ? AND state = 'pending'")
                .text(1, id.blob(0))
                .step();
        }
        // What is left live has expired: wipe it as the sweeper would.
        Query expired(db,
                      "UPDATE shares SET state = 'expired', sealed = NULL, nonce = NULL WHERE state = 'live'"
                      " AND expires_at <= ? RETURNING id");
        expired.real(1, now);
        std::vector<std::string> expired_ids;
        while (expired.step()) expired_ids.push_back(expired.blob(0));
        for (const auto& id : expired_ids)
            Query(db, "INSERT INTO audit(share_id, at, event, client) VALUES(?, ?, 'expired', '')")
                .text(1, id)
                .real(2, now)
                .step();
        report.expired = static_cast<int>(expired_ids.size());
        exec(db, "COMMIT");
        // The wiped pages must not linger in the -wal file.
        detail::loaded_sqlite().wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    } catch (const std::exception& e) {
        detail::loaded_sqlite().exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        detail::loaded_sqlite().close(db);
        return make_error(
            ErrorCode::IO_ERROR,
            std::string(e.what()) + (on_target ? " (the shares are on PostgreSQL but still live in the source:"
                                                 " run share migrate again to finish)"
                                               : " (nothing was moved)"));
    }
    detail::loaded_sqlite().close(db);
    return report;
}

}  // namespace shcx::share
