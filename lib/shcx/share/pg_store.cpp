#include "shcx/share/pg_store.h"

#include <chrono>
#include <cmath>

#include "shcx/share/crypto.h"
#include "shcx/share/migrations.h"
#include "shcx/share/pg_conn.h"
#include "shcx/share/pg_emergency.h"

namespace shcx::share {
namespace {

using pg::Conn;
using pg::Params;
using pg::Statement;

// Advisory lock keys (pg_advisory_xact_lock(int, int)): "shcx" and what is locked. Held
// to the end of the transaction that takes them, so a crashed holder frees them at once.
constexpr int kLockSpace = 0x73686378;
constexpr int kMigrationLock = 1, kSweepLock = 2;

// Every statement the store runs; each is prepared once per connection. Parameters carry
// explicit casts so their types never depend on inference. A new Store method is a
// statement here plus a method below that runs it with m_pool.run (one statement, or
// several independent ones) or m_pool.transaction (several that must commit together);
// new tables or columns are a new migration in both migrations/ folders.
namespace sql {
// --- users ---
constexpr Statement add_user{"add_user",
    "INSERT INTO users(name, token_hash, created_at, expires_at) VALUES($1::text, $2::bytea, $3::float8, $4::float8)"
    " ON CONFLICT (name) DO NOTHING RETURNING id"};
constexpr Statement user_by_token{"user_by_token",
    "SELECT id, expires_at IS NOT NULL AND expires_at <= $2::float8, coalesce(last_used_at, 0) FROM users"
    " WHERE token_hash = $1::bytea AND name <> '(local)'"};
// Last use to the minute: not one write per request.
constexpr Statement touch_user{"touch_user",
    "UPDATE users SET last_used_at = $2::float8 WHERE id = $1::bigint AND coalesce(last_used_at, 0) < $2::float8 - 60"};
constexpr Statement list_users{"list_users",
    "SELECT name, created_at, last_used_at, expires_at FROM users WHERE name <> '(local)' ORDER BY name COLLATE \"C\""};
constexpr Statement rotate_user{"rotate_user",
    "UPDATE users SET token_hash = $2::bytea, expires_at = $3::float8, last_used_at = NULL"
    " WHERE name = $1::text AND name <> '(local)'"};
constexpr Statement lock_user{"lock_user",
    "SELECT id FROM users WHERE name = $1::text AND name <> '(local)' FOR UPDATE"};
constexpr Statement hand_to_local{"hand_to_local",
    "UPDATE shares SET owner = $2::bigint WHERE owner = $1::bigint"};
constexpr Statement delete_user{"delete_user", "DELETE FROM users WHERE id = $1::bigint"};
constexpr Statement add_local_user{"add_local_user",
    "INSERT INTO users(name, token_hash) VALUES('(local)', $1::bytea) ON CONFLICT (name) DO NOTHING"};
constexpr Statement local_user{"local_user", "SELECT id FROM users WHERE name = '(local)'"};
constexpr Statement bump_counter{"bump_counter",
    "INSERT INTO counters(key, window_no, count) VALUES($1::text, $2::bigint, 1) "
    "ON CONFLICT (key, window_no) DO UPDATE SET count = counters.count + 1 RETURNING count"};
// --- the pepper check ---
constexpr Statement pepper_check{"pepper_check", "SELECT value FROM meta WHERE key = 'pepper_check'"};
constexpr Statement pepper_dependents{"pepper_dependents",
    "SELECT (SELECT count(*) FROM users WHERE name <> '(local)') + (SELECT count(*) FROM shares)"};
constexpr Statement adopt_pepper_check{"adopt_pepper_check",
    "INSERT INTO meta(key, value) VALUES('pepper_check', $1::bytea) ON CONFLICT (key) DO NOTHING"};
constexpr Statement set_pepper_check{"set_pepper_check",
    "INSERT INTO meta(key, value) VALUES('pepper_check', $1::bytea)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"};
// Hashes that match no token: SHA-256 of a random UUID (gen_random_uuid draws on the
// server's strong random source) and the unique id.
constexpr Statement cut_tokens{"cut_tokens",
    "UPDATE users SET token_hash = sha256(convert_to(gen_random_uuid()::text || id::text, 'UTF8')),"
    " last_used_at = NULL WHERE name <> '(local)'"};
constexpr Statement drop_all_leases{"drop_all_leases", "DELETE FROM attempt_leases"};
// Revokes and wipes the live shares of $1 (< 0: of everyone), their leases and an event
// each, in one statement; returns how many.
constexpr Statement revoke_owned{"revoke_owned",
    "WITH r AS (UPDATE shares SET state = 'revoked', sealed = NULL, nonce = NULL"
    " WHERE state = 'live' AND (owner = $1::bigint OR $1::bigint < 0) RETURNING id, h),"
    " l AS (DELETE FROM attempt_leases WHERE h IN (SELECT h FROM r)),"
    " a AS (INSERT INTO audit(share_id, at, event, client) SELECT id, $2::float8, 'revoked', $3::text FROM r)"
    " SELECT count(*) FROM r"};
// --- shares ---
// The share and its "created" event in one statement, hence one transaction.
constexpr Statement insert_share{"insert_share",
    "WITH s AS (INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left,"
    " fails_allowed, fails_burned, salt, kdf_params, verifier, nonce, sealed, content_bytes) VALUES($1::bytea,"
    " $2::text, $3::bigint, $4::text, $5::float8, $6::float8, $7::int, $8::int, $9::int, $10::int, $11::bytea,"
    " $12::text, $13::bytea, $14::bytea, $15::bytea, $16::bigint) RETURNING id, created_at)"
    " INSERT INTO audit(share_id, at, event, client) SELECT id, created_at, 'created', '' FROM s"};
constexpr Statement is_live{"is_live",
    "SELECT 1 FROM shares WHERE h = $1::bytea AND state = 'live' AND expires_at > $2::float8 AND reveals_left > 0"};
// Every change to a share's leases starts with its row lock: concurrent precharges,
// burns and takes of one share (from any instance) queue on it, and each then sees the
// leases as the one before it committed them. Always the share first, then its leases,
// so no two transactions lock in opposite orders.
constexpr Statement lock_live{"lock_live",
    "SELECT id, salt, kdf_params, verifier, expires_at, max_reveals, fails_allowed - fails_burned FROM shares"
    " WHERE h = $1::bytea AND state = 'live' AND reveals_left > 0 AND expires_at > $2::float8 FOR UPDATE"};
// A separate statement after the lock, so its snapshot includes every lease committed
// before the lock was granted. Drops the share's lapsed leases; inserts a lease valid to
// $3 if fewer than $4 (the attempts left) are held; returns the new lease id (NULL: all
// held) and the earliest lapse of those held.
constexpr Statement lease{"lease",
    "WITH lapsed AS (DELETE FROM attempt_leases WHERE h = $1::bytea AND expires_at <= $2::float8),"
    " held AS (SELECT count(*) AS n, min(expires_at) AS first FROM attempt_leases"
    "  WHERE h = $1::bytea AND expires_at > $2::float8),"
    " granted AS (INSERT INTO attempt_leases(h, expires_at) SELECT $1::bytea, $3::float8 FROM held"
    "  WHERE n < $4::bigint RETURNING id)"
    " SELECT (SELECT id FROM granted), coalesce(first, 0)::float8 FROM held"};
constexpr Statement end_lease{"end_lease", "DELETE FROM attempt_leases WHERE id = $1::bigint"};
constexpr Statement drop_leases{"drop_leases", "DELETE FROM attempt_leases WHERE h = $1::bytea"};
// A wrong PIN: one conditional write burns the attempt and, at the last one, destroys
// and wipes the share. The new values come back.
constexpr Statement burn{"burn",
    "UPDATE shares SET fails_burned = fails_burned + 1,"
    " state = CASE WHEN fails_burned + 1 >= fails_allowed THEN 'destroyed' ELSE state END,"
    " sealed = CASE WHEN fails_burned + 1 >= fails_allowed THEN NULL ELSE sealed END,"
    " nonce = CASE WHEN fails_burned + 1 >= fails_allowed THEN NULL ELSE nonce END"
    " WHERE h = $1::bytea AND state = 'live' RETURNING id, greatest(fails_allowed - fails_burned, 0), state = 'destroyed'"};
// take_reveal: lock the row if it may still be revealed, then change it.
constexpr Statement lock_for_reveal{"lock_for_reveal",
    "SELECT id, nonce, sealed, expires_at, max_reveals, reveals_left FROM shares"
    " WHERE h = $1::bytea AND state = 'live' AND expires_at > $2::float8 AND reveals_left > 0 FOR UPDATE"};
constexpr Statement take_reveal{"take_reveal",
    "UPDATE shares SET reveals_left = reveals_left - 1,"
    " state = CASE WHEN reveals_left <= 1 THEN 'used' ELSE state END,"
    " sealed = CASE WHEN reveals_left <= 1 THEN NULL ELSE sealed END,"
    " nonce = CASE WHEN reveals_left <= 1 THEN NULL ELSE nonce END"
    " WHERE h = $1::bytea"};
constexpr Statement audit{"audit",
    "INSERT INTO audit(share_id, at, event, client) VALUES($1::text, $2::float8, $3::text, $4::text)"};
constexpr Statement revoke{"revoke",
    "UPDATE shares SET state = 'revoked', sealed = NULL, nonce = NULL"
    " WHERE id = $1::text AND (owner = $2::bigint OR $2::bigint < 0) AND state = 'live' RETURNING h"};
constexpr Statement find{"find",
    "SELECT h, id, owner, state, created_at, expires_at, max_reveals, reveals_left, fails_allowed, fails_burned,"
    " content_bytes FROM shares WHERE id = $1::text AND (owner = $2::bigint OR $2::bigint < 0)"};
constexpr Statement audit_events{"audit_events",
    "SELECT at, event, client FROM audit WHERE share_id = $1::text ORDER BY seq"};
constexpr Statement try_lock{"try_lock", "SELECT pg_try_advisory_xact_lock($1::int, $2::int)"};
constexpr Statement lock{"lock", "SELECT pg_advisory_xact_lock($1::int, $2::int)"};
constexpr Statement sweep{"sweep",
    "WITH e AS (UPDATE shares SET state = 'expired', sealed = NULL, nonce = NULL"
    " WHERE state = 'live' AND expires_at <= $1::float8 RETURNING id)"
    " INSERT INTO audit(share_id, at, event, client) SELECT id, $1::float8, 'expired', '' FROM e"};
constexpr Statement drop_lapsed_leases{"drop_lapsed_leases",
    "DELETE FROM attempt_leases WHERE expires_at <= $1::float8"};
constexpr Statement drop_old_counters{"drop_old_counters", "DELETE FROM counters WHERE window_no < $1::bigint"};
constexpr Statement schema_version{"schema_version", "SELECT coalesce(max(version), 0) FROM schema_migrations"};
constexpr Statement has_migrations{"has_migrations", "SELECT to_regclass('schema_migrations') IS NOT NULL"};
constexpr Statement record_migration{"record_migration",
    "INSERT INTO schema_migrations(version, name, applied_at) VALUES($1::int, $2::text, $3::float8)"};
}  // namespace sql

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

// All pending migrations in one transaction, under an advisory lock so instances that
// start together take turns: the first migrates, the others find it done.
void migrate(pg::Pool& pool) {
    pool.transaction([](Conn& c) {
        // A long migration is fine; an instance waiting for another's may wait a while.
        c.exec_simple("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = '300s'");
        c.exec(sql::lock, Params().integer(kLockSpace).integer(kMigrationLock));
        c.exec_simple(std::string(kMigrationsTable).c_str());
        int have = static_cast<int>(c.exec(sql::schema_version).integer(0, 0));
        int known = latest_schema_version(Dialect::Postgres);
        if (have > known) throw std::runtime_error(schema_too_new(have, known).message);
        for (const auto& m : migrations(Dialect::Postgres)) {
            if (m.version <= have) continue;
            c.exec_simple(std::string(m.sql).c_str());
            c.exec(sql::record_migration, Params().integer(m.version).text(m.name).real(now_seconds()));
        }
    });
}

class PgStore final : public Store {
public:
    PgStore(const std::string& uri, const PgStoreOptions& o)
        : m_pool(uri, o.max_connections, std::chrono::seconds(o.connection_wait_s)),
          m_emergency(make_pg_emergency(m_pool)) {}

    pg::Pool& pool() { return m_pool; }

    // --- users ---------------------------------------------------------------------
    Result<int64_t> add_user(const std::string& name, const std::string& token_hash, double now,
                             std::optional<double> expires_at) override {
        auto rows = m_pool.run(false, [&](Conn& c) {
            return c.exec(sql::add_user, Params().text(name).bytes(token_hash).real(now).real_or_null(expires_at));
        });
        if (rows.empty()) return make_error(ErrorCode::USAGE, "a user named \"" + name + "\" already exists");
        return rows.integer(0, 0);
    }

    std::optional<TokenOwner> user_by_token_hash(const std::string& token_hash, double now) override {
        // Both statements may run twice: the second only moves last_used_at forward.
        return m_pool.run(true, [&](Conn& c) -> std::optional<TokenOwner> {
            auto rows = c.exec(sql::user_by_token, Params().bytes(token_hash).real(now));
            if (rows.empty()) return std::nullopt;
            TokenOwner owner{rows.integer(0, 0), rows.boolean(0, 1)};
            if (!owner.expired && rows.real(0, 2) < now - 60)
                c.exec(sql::touch_user, Params().integer(owner.id).real(now));
            return owner;
        });
    }

    std::vector<UserInfo> list_users() override {
        return m_pool.run(true, [&](Conn& c) {
            auto r = c.exec(sql::list_users);
            std::vector<UserInfo> out;
            for (int i = 0; i < r.size(); ++i) {
                UserInfo u{r.bytes(i, 0), r.real(i, 1), std::nullopt, std::nullopt};
                if (!r.is_null(i, 2)) u.last_used_at = r.real(i, 2);
                if (!r.is_null(i, 3)) u.expires_at = r.real(i, 3);
                out.push_back(std::move(u));
            }
            return out;
        });
    }

    bool rotate_user(const std::string& name, const std::string& token_hash,
                     std::optional<double> expires_at) override {
        return m_pool.run(false, [&](Conn& c) {
            return c.exec(sql::rotate_user, Params().text(name).bytes(token_hash).real_or_null(expires_at)).affected() ==
                   1;
        });
    }

    std::optional<int> remove_user(const std::string& name, double now) override {
        int64_t local = local_user();
        return m_pool.transaction([&](Conn& c) -> std::optional<int> {
            auto user = c.exec(sql::lock_user, Params().text(name));
            if (user.empty()) return std::nullopt;
            int64_t id = user.integer(0, 0);
            int revoked = static_cast<int>(
                c.exec(sql::revoke_owned, Params().integer(id).real(now).text("user-removed")).integer(0, 0));
            c.exec(sql::hand_to_local, Params().integer(id).integer(local));
            c.exec(sql::delete_user, Params().integer(id));
            return revoked;
        });
    }

    int64_t local_user() override {
        // The random token hash matches no token: the local user cannot log in.
        return m_pool.run(true, [&](Conn& c) {
            c.exec(sql::add_local_user, Params().bytes(random_bytes(32)));
            return c.exec(sql::local_user).integer(0, 0);
        });
    }

    // Old windows are dropped by the sweeper.
    int64_t bump_counter(const std::string& key, int64_t window) override {
        return m_pool.run(false, [&](Conn& c) {
            return c.exec(sql::bump_counter, Params().text(key).integer(window)).integer(0, 0);
        });
    }

    // --- the pepper check ------------------------------------------------------------
    std::optional<std::string> pepper_check() override {
        return m_pool.run(true, [&](Conn& c) -> std::optional<std::string> {
            auto r = c.exec(sql::pepper_check);
            if (r.empty()) return std::nullopt;
            return r.bytes(0, 0);
        });
    }

    int64_t pepper_dependents() override {
        return m_pool.run(true, [&](Conn& c) { return c.exec(sql::pepper_dependents).integer(0, 0); });
    }

    // Two instances adopting at once: the second INSERT waits for the first to commit,
    // then does nothing, and the SELECT (a new statement) sees the first one's value.
    std::string adopt_pepper_check(const std::string& check) override {
        return m_pool.run(true, [&](Conn& c) {
            c.exec(sql::adopt_pepper_check, Params().bytes(check));
            return c.exec(sql::pepper_check).bytes(0, 0);
        });
    }

    int reset_pepper(const std::string& check, double now) override {
        return m_pool.transaction([&](Conn& c) {
            int revoked = static_cast<int>(
                c.exec(sql::revoke_owned, Params().integer(-1).real(now).text("pepper-reset")).integer(0, 0));
            c.exec(sql::cut_tokens);
            c.exec(sql::drop_all_leases);
            c.exec(sql::set_pepper_check, Params().bytes(check));
            return revoked;
        });
    }

    // --- shares ----------------------------------------------------------------------
    std::optional<Error> insert(const ShareRecord& r) override {
        Params p;
        p.bytes(r.h).text(r.id).integer(r.owner).text(r.state).real(r.created_at).real(r.expires_at);
        p.integer(r.max_reveals).integer(r.reveals_left).integer(r.fails_allowed).integer(r.fails_burned);
        p.bytes(r.salt).text(r.kdf_params).bytes(r.verifier).bytes(r.nonce).bytes(r.sealed).integer(r.content_bytes);
        m_pool.run(false, [&](Conn& c) { c.exec(sql::insert_share, p); });
        return std::nullopt;
    }

    bool is_live(const std::string& h, double now) override {
        return m_pool.run(true, [&](Conn& c) { return !c.exec(sql::is_live, Params().bytes(h).real(now)).empty(); });
    }

    Lease precharge(const std::string& h, double now, double lease_until) override {
        return m_pool.transaction([&](Conn& c) {
            Lease out;
            auto s = c.exec(sql::lock_live, Params().bytes(h).real(now));
            if (s.empty()) return out;  // Gone
            auto l = c.exec(sql::lease, Params().bytes(h).real(now).real(lease_until).integer(s.integer(0, 6)));
            if (l.is_null(0, 0)) {
                out.status = Lease::Status::Busy;  // every attempt left is held by a request in flight
                out.busy_until = l.real(0, 1);
                return out;
            }
            out.status = Lease::Status::Granted;
            out.id = l.integer(0, 0);
            out.inputs = {s.bytes(0, 0), s.bytes(0, 1), s.bytes(0, 2), s.bytes(0, 3), s.real(0, 4),
                          static_cast<int>(s.integer(0, 5))};
            return out;
        });
    }

    std::optional<Burned> burn_attempt(const std::string& h, int64_t lease, double now,
                                       const std::string& client) override {
        return m_pool.transaction([&](Conn& c) -> std::optional<Burned> {
            auto r = c.exec(sql::burn, Params().bytes(h));  // the share's row lock first
            c.exec(sql::end_lease, Params().integer(lease));
            if (r.empty()) return std::nullopt;
            std::string id = r.bytes(0, 0);
            Burned b{static_cast<int>(r.integer(0, 1)), r.boolean(0, 2)};
            c.exec(sql::audit, Params().text(id).real(now).text("wrong_pin").text(client));
            if (b.destroyed) {
                c.exec(sql::audit, Params().text(id).real(now).text("destroyed").text(client));
                c.exec(sql::drop_leases, Params().bytes(h));
            }
            return b;
        });
    }

    std::optional<Taken> take_reveal(const std::string& h, int64_t lease, double now,
                                     const std::string& client) override {
        return m_pool.transaction([&](Conn& c) -> std::optional<Taken> {
            // FOR UPDATE waits for a concurrent taker and then re-checks the row as it
            // committed it: of N racing reveals of the last copy, one finds it.
            auto r = c.exec(sql::lock_for_reveal, Params().bytes(h).real(now));
            c.exec(sql::end_lease, Params().integer(lease));  // the attempt is refunded
            if (r.empty()) return std::nullopt;
            Taken t{r.bytes(0, 0), r.bytes(0, 1), r.bytes(0, 2), r.real(0, 3), static_cast<int>(r.integer(0, 4)),
                    static_cast<int>(r.integer(0, 5)) - 1};
            c.exec(sql::take_reveal, Params().bytes(h));
            if (t.reveals_left <= 0) c.exec(sql::drop_leases, Params().bytes(h));
            c.exec(sql::audit, Params().text(t.id).real(now).text("revealed").text(client));
            return t;
        });
    }

    void release_lease(int64_t lease) override {
        m_pool.run(true, [&](Conn& c) { c.exec(sql::end_lease, Params().integer(lease)); });
    }

    bool revoke(const std::string& id, int64_t owner, double now, const std::string& client) override {
        return m_pool.transaction([&](Conn& c) {
            auto r = c.exec(sql::revoke, Params().text(id).integer(owner));
            if (r.empty()) return false;
            c.exec(sql::drop_leases, Params().bytes(r.bytes(0, 0)));
            c.exec(sql::audit, Params().text(id).real(now).text("revoked").text(client));
            return true;
        });
    }

    std::optional<ShareRecord> find(const std::string& id, int64_t owner) override {
        return m_pool.run(true, [&](Conn& c) -> std::optional<ShareRecord> {
            auto s = c.exec(sql::find, Params().text(id).integer(owner));
            if (s.empty()) return std::nullopt;
            ShareRecord r;
            r.h = s.bytes(0, 0);
            r.id = s.bytes(0, 1);
            r.owner = s.integer(0, 2);
            r.state = s.bytes(0, 3);
            r.created_at = s.real(0, 4);
            r.expires_at = s.real(0, 5);
            r.max_reveals = static_cast<int>(s.integer(0, 6));
            r.reveals_left = static_cast<int>(s.integer(0, 7));
            r.fails_allowed = static_cast<int>(s.integer(0, 8));
            r.fails_burned = static_cast<int>(s.integer(0, 9));
            r.content_bytes = s.integer(0, 10);
            return r;
        });
    }

    std::vector<AuditEvent> audit_events(const std::string& share_id) override {
        return m_pool.run(true, [&](Conn& c) {
            auto r = c.exec(sql::audit_events, Params().text(share_id));
            std::vector<AuditEvent> out;
            for (int i = 0; i < r.size(); ++i) out.push_back({r.real(i, 0), r.bytes(i, 1), r.bytes(i, 2)});
            return out;
        });
    }

    // One sweeper at a time across every instance: the others skip this round (0). The
    // lock also keeps two multi-row UPDATEs from locking the same rows in different orders.
    // Shares before leases, as everywhere else.
    int sweep(double now) override {
        return m_pool.transaction([&](Conn& c) {
            if (!c.exec(sql::try_lock, Params().integer(kLockSpace).integer(kSweepLock)).boolean(0, 0)) return 0;
            int expired = static_cast<int>(c.exec(sql::sweep, Params().real(now)).affected());
            c.exec(sql::drop_lapsed_leases, Params().real(now));
            c.exec(sql::drop_old_counters, Params().integer(static_cast<int64_t>(std::floor(now / 60)) - 1));
            return expired;
        });
    }

    EmergencyStore& emergency() override { return *m_emergency; }

private:
    pg::Pool m_pool;
    std::unique_ptr<EmergencyStore> m_emergency;  // pg_emergency.cpp
};

}  // namespace

Result<std::unique_ptr<Store>> open_pg_store(const std::string& uri, const PgStoreOptions& options, StoreOptions) {
    try {
        auto store = std::make_unique<PgStore>(uri, options);
        migrate(store->pool());
        return std::unique_ptr<Store>(std::move(store));
    } catch (const std::exception& e) {
        return make_error(ErrorCode::IO_ERROR, e.what());
    }
}

Result<int> pg_schema_version(const std::string& uri) {
    try {
        auto c = pg::connect(uri);
        if (!c->exec(sql::has_migrations).boolean(0, 0)) return 0;
        return static_cast<int>(c->exec(sql::schema_version).integer(0, 0));
    } catch (const std::exception& e) {
        return make_error(ErrorCode::IO_ERROR, e.what());
    }
}

}  // namespace shcx::share
