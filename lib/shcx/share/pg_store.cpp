#include "shcx/share/pg_store.h"

#include <chrono>

#include "shcx/share/crypto.h"
#include "shcx/share/migrations.h"
#include "shcx/share/pg_conn.h"

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
constexpr Statement add_user{"add_user",
    "INSERT INTO users(name, token_hash) VALUES($1::text, $2::bytea) ON CONFLICT (name) DO NOTHING RETURNING id"};
constexpr Statement user_by_token{"user_by_token", "SELECT id FROM users WHERE token_hash = $1::bytea"};
constexpr Statement add_local_user{"add_local_user",
    "INSERT INTO users(name, token_hash) VALUES('(local)', $1::bytea) ON CONFLICT (name) DO NOTHING"};
constexpr Statement local_user{"local_user", "SELECT id FROM users WHERE name = '(local)'"};
constexpr Statement bump_counter{"bump_counter",
    "INSERT INTO counters(key, window_no, count) VALUES($1::text, $2::bigint, 1) "
    "ON CONFLICT (key, window_no) DO UPDATE SET count = counters.count + 1 RETURNING count"};
constexpr Statement drop_old_counters{"drop_old_counters",
    "DELETE FROM counters WHERE key = $1::text AND window_no < $2::bigint"};
// The share and its "created" event in one statement, hence one transaction.
constexpr Statement insert_share{"insert_share",
    "WITH s AS (INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left,"
    " fails_left, salt, kdf_params, verifier, nonce, sealed, content_bytes) VALUES($1::bytea, $2::text,"
    " $3::bigint, $4::text, $5::float8, $6::float8, $7::int, $8::int, $9::int, $10::bytea, $11::text, $12::bytea,"
    " $13::bytea, $14::bytea, $15::bigint) RETURNING id, created_at)"
    " INSERT INTO audit(share_id, at, event, client) SELECT id, created_at, 'created', '' FROM s"};
constexpr Statement is_live{"is_live",
    "SELECT 1 FROM shares WHERE h = $1::bytea AND state = 'live' AND expires_at > $2::float8 AND reveals_left > 0"};
// A conditional write: concurrent ones on the row queue on its lock, and each re-checks
// the WHERE clause against the row as the previous one committed it.
constexpr Statement precharge{"precharge",
    "UPDATE shares SET fails_left = fails_left - 1 WHERE h = $1::bytea AND state = 'live' AND fails_left > 0"
    " AND reveals_left > 0 AND expires_at > $2::float8"};
constexpr Statement kdf_inputs{"kdf_inputs",
    "SELECT id, salt, kdf_params, verifier, expires_at, max_reveals, fails_left FROM shares WHERE h = $1::bytea"};
constexpr Statement destroy_if_exhausted{"destroy_if_exhausted",
    "UPDATE shares SET state = 'destroyed', sealed = NULL, nonce = NULL"
    " WHERE h = $1::bytea AND state = 'live' AND fails_left <= 0"};
// take_reveal: lock the row if it may still be revealed, then change it.
constexpr Statement lock_for_reveal{"lock_for_reveal",
    "SELECT id, nonce, sealed, expires_at, max_reveals, reveals_left FROM shares"
    " WHERE h = $1::bytea AND state = 'live' AND expires_at > $2::float8 AND reveals_left > 0 FOR UPDATE"};
constexpr Statement take_reveal{"take_reveal",
    "UPDATE shares SET fails_left = fails_left + 1, reveals_left = reveals_left - 1,"
    " state = CASE WHEN reveals_left <= 1 THEN 'used' ELSE state END,"
    " sealed = CASE WHEN reveals_left <= 1 THEN NULL ELSE sealed END,"
    " nonce = CASE WHEN reveals_left <= 1 THEN NULL ELSE nonce END"
    " WHERE h = $1::bytea"};
constexpr Statement audit{"audit",
    "INSERT INTO audit(share_id, at, event, client) VALUES($1::text, $2::float8, $3::text, $4::text)"};
constexpr Statement revoke{"revoke",
    "UPDATE shares SET state = 'revoked', sealed = NULL, nonce = NULL"
    " WHERE id = $1::text AND (owner = $2::bigint OR $2::bigint < 0) AND state = 'live'"};
constexpr Statement find{"find",
    "SELECT h, id, owner, state, created_at, expires_at, max_reveals, reveals_left, fails_left, content_bytes"
    " FROM shares WHERE id = $1::text AND (owner = $2::bigint OR $2::bigint < 0)"};
constexpr Statement audit_events{"audit_events",
    "SELECT at, event, client FROM audit WHERE share_id = $1::text ORDER BY seq"};
constexpr Statement try_lock{"try_lock", "SELECT pg_try_advisory_xact_lock($1::int, $2::int)"};
constexpr Statement lock{"lock", "SELECT pg_advisory_xact_lock($1::int, $2::int)"};
constexpr Statement sweep{"sweep",
    "WITH e AS (UPDATE shares SET state = 'expired', sealed = NULL, nonce = NULL"
    " WHERE state = 'live' AND expires_at <= $1::float8 RETURNING id)"
    " INSERT INTO audit(share_id, at, event, client) SELECT id, $1::float8, 'expired', '' FROM e"};
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
        : m_pool(uri, o.max_connections, std::chrono::seconds(o.connection_wait_s)) {}

    pg::Pool& pool() { return m_pool; }

    Result<int64_t> add_user(const std::string& name, const std::string& token_hash) override {
        auto rows = m_pool.run(false, [&](Conn& c) { return c.exec(sql::add_user, Params().text(name).bytes(token_hash)); });
        if (rows.empty()) return make_error(ErrorCode::USAGE, "a user named \"" + name + "\" already exists");
        return rows.integer(0, 0);
    }

    std::optional<int64_t> user_by_token_hash(const std::string& token_hash) override {
        return m_pool.run(true, [&](Conn& c) -> std::optional<int64_t> {
            auto rows = c.exec(sql::user_by_token, Params().bytes(token_hash));
            if (rows.empty()) return std::nullopt;
            return rows.integer(0, 0);
        });
    }

    int64_t local_user() override {
        // The random token hash matches no token: the local user cannot log in.
        return m_pool.run(true, [&](Conn& c) {
            c.exec(sql::add_local_user, Params().bytes(random_bytes(32)));
            return c.exec(sql::local_user).integer(0, 0);
        });
    }

    int64_t bump_counter(const std::string& key, int64_t window) override {
        return m_pool.run(false, [&](Conn& c) {
            int64_t n = c.exec(sql::bump_counter, Params().text(key).integer(window)).integer(0, 0);
            c.exec(sql::drop_old_counters, Params().text(key).integer(window - 1));
            return n;
        });
    }

    std::optional<Error> insert(const ShareRecord& r) override {
        Params p;
        p.bytes(r.h).text(r.id).integer(r.owner).text(r.state).real(r.created_at).real(r.expires_at);
        p.integer(r.max_reveals).integer(r.reveals_left).integer(r.fails_left).bytes(r.salt).text(r.kdf_params);
        p.bytes(r.verifier).bytes(r.nonce).bytes(r.sealed).integer(r.content_bytes);
        m_pool.run(false, [&](Conn& c) { c.exec(sql::insert_share, p); });
        return std::nullopt;
    }

    bool is_live(const std::string& h, double now) override {
        return m_pool.run(true, [&](Conn& c) { return !c.exec(sql::is_live, Params().bytes(h).real(now)).empty(); });
    }

    bool precharge(const std::string& h, double now) override {
        return m_pool.run(false, [&](Conn& c) { return c.exec(sql::precharge, Params().bytes(h).real(now)).affected() == 1; });
    }

    std::optional<KdfInputs> kdf_inputs(const std::string& h) override {
        return m_pool.run(true, [&](Conn& c) -> std::optional<KdfInputs> {
            auto r = c.exec(sql::kdf_inputs, Params().bytes(h));
            if (r.empty()) return std::nullopt;
            return KdfInputs{r.bytes(0, 0), r.bytes(0, 1), r.bytes(0, 2), r.bytes(0, 3), r.real(0, 4),
                             static_cast<int>(r.integer(0, 5)), static_cast<int>(r.integer(0, 6))};
        });
    }

    bool destroy_if_exhausted(const std::string& h) override {
        return m_pool.run(false, [&](Conn& c) { return c.exec(sql::destroy_if_exhausted, Params().bytes(h)).affected() == 1; });
    }

    std::optional<Taken> take_reveal(const std::string& h, double now, const std::string& client) override {
        return m_pool.transaction([&](Conn& c) -> std::optional<Taken> {
            // FOR UPDATE waits for a concurrent taker and then re-checks the row as it
            // committed it: of N racing reveals of the last copy, one finds it.
            auto r = c.exec(sql::lock_for_reveal, Params().bytes(h).real(now));
            if (r.empty()) return std::nullopt;
            Taken t{r.bytes(0, 0), r.bytes(0, 1), r.bytes(0, 2), r.real(0, 3), static_cast<int>(r.integer(0, 4)),
                    static_cast<int>(r.integer(0, 5)) - 1};
            c.exec(sql::take_reveal, Params().bytes(h));
            c.exec(sql::audit, Params().text(t.id).real(now).text("revealed").text(client));
            return t;
        });
    }

    bool revoke(const std::string& id, int64_t owner) override {
        return m_pool.run(false, [&](Conn& c) { return c.exec(sql::revoke, Params().text(id).integer(owner)).affected() == 1; });
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
            r.fails_left = static_cast<int>(s.integer(0, 8));
            r.content_bytes = s.integer(0, 9);
            return r;
        });
    }

    void audit(const std::string& share_id, const std::string& event, const std::string& client, double at) override {
        m_pool.run(false, [&](Conn& c) { c.exec(sql::audit, Params().text(share_id).real(at).text(event).text(client)); });
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
    int sweep(double now) override {
        return m_pool.transaction([&](Conn& c) {
            if (!c.exec(sql::try_lock, Params().integer(kLockSpace).integer(kSweepLock)).boolean(0, 0)) return 0;
            return static_cast<int>(c.exec(sql::sweep, Params().real(now)).affected());
        });
    }

private:
    pg::Pool m_pool;
};

}  // namespace

Result<std::unique_ptr<Store>> open_pg_store(const std::string& uri, const PgStoreOptions& options) {
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
