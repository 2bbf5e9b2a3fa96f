// PgStore, the Store of store.h on PostgreSQL (pg_store.h says how it keeps its promises).
// Private to lib/shcx/share: the share methods, migrations and open_pg_store are in
// pg_store.cpp; users, counters and the pepper check in pg_users.cpp. Includes libpq
// (pg_conn.h): include only from .cpp files.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "shcx/share/pg_conn.h"
#include "shcx/share/pg_emergency.h"
#include "shcx/share/pg_store.h"
#include "shcx/share/store.h"

namespace shcx::share {

// Advisory lock keys (pg_advisory_xact_lock(int, int)): "shcx" and what is locked. Held
// to the end of the transaction that takes them, so a crashed holder frees them at once.
inline constexpr int kLockSpace = 0x73686378;
inline constexpr int kMigrationLock = 1, kSweepLock = 2;

// Every statement the store runs; each is prepared once per connection. Parameters carry
// explicit casts so their types never depend on inference. A new Store method is a
// statement here plus a PgStore method that runs it with m_pool.run (one statement, or
// several independent ones) or m_pool.transaction (several that must commit together);
// new tables or columns are a new migration in both migrations/ folders.
namespace sql {
// --- users ---
inline constexpr pg::Statement add_user{
    "add_user",
    "INSERT INTO users(name, token_hash, created_at, expires_at) VALUES($1::text, $2::bytea, $3::float8, $4::float8)"
    " ON CONFLICT (name) DO NOTHING RETURNING id"};
inline constexpr pg::Statement user_by_token{
    "user_by_token",
    "SELECT id, expires_at IS NOT NULL AND expires_at <= $2::float8, coalesce(last_used_at, 0) FROM users"
    " WHERE token_hash = $1::bytea AND name <> '(local)'"};
// Last use to the minute: not one write per request.
inline constexpr pg::Statement touch_user{
    "touch_user",
    "UPDATE users SET last_used_at = $2::float8 WHERE id = $1::bigint AND coalesce(last_used_at, 0) < $2::float8 - 60"};
inline constexpr pg::Statement list_users{
    "list_users",
    "SELECT name, created_at, last_used_at, expires_at FROM users WHERE name <> '(local)' ORDER BY name COLLATE \"C\""};
inline constexpr pg::Statement rotate_user{
    "rotate_user",
    "UPDATE users SET token_hash = $2::bytea, expires_at = $3::float8, last_used_at = NULL"
    " WHERE name = $1::text AND name <> '(local)'"};
inline constexpr pg::Statement lock_user{"lock_user",
                                         "SELECT id FROM users WHERE name = $1::text AND name <> '(local)' FOR UPDATE"};
inline constexpr pg::Statement hand_to_local{"hand_to_local",
                                             "UPDATE shares SET owner = $2::bigint WHERE owner = $1::bigint"};
inline constexpr pg::Statement delete_user{"delete_user", "DELETE FROM users WHERE id = $1::bigint"};
inline constexpr pg::Statement add_local_user{
    "add_local_user", "INSERT INTO users(name, token_hash) VALUES('(local)', $1::bytea) ON CONFLICT (name) DO NOTHING"};
inline constexpr pg::Statement local_user{"local_user", "SELECT id FROM users WHERE name = '(local)'"};
inline constexpr pg::Statement bump_counter{
    "bump_counter",
    "INSERT INTO counters(key, window_no, count) VALUES($1::text, $2::bigint, 1) "
    "ON CONFLICT (key, window_no) DO UPDATE SET count = counters.count + 1 RETURNING count"};
// --- the pepper check ---
inline constexpr pg::Statement pepper_check{"pepper_check", "SELECT value FROM meta WHERE key = 'pepper_check'"};
inline constexpr pg::Statement pepper_dependents{
    "pepper_dependents", "SELECT (SELECT count(*) FROM users WHERE name <> '(local)') + (SELECT count(*) FROM shares)"};
inline constexpr pg::Statement adopt_pepper_check{
    "adopt_pepper_check",
    "INSERT INTO meta(key, value) VALUES('pepper_check', $1::bytea) ON CONFLICT (key) DO NOTHING"};
inline constexpr pg::Statement set_pepper_check{"set_pepper_check",
                                                "INSERT INTO meta(key, value) VALUES('pepper_check', $1::bytea)"
                                                " ON CONFLICT (key) DO UPDATE SET value = excluded.value"};
// Hashes that match no token: SHA-256 of a random UUID (gen_random_uuid draws on the
// server's strong random source) and the unique id.
inline constexpr pg::Statement cut_tokens{
    "cut_tokens",
    "UPDATE users SET token_hash = sha256(convert_to(gen_random_uuid()::text || id::text, 'UTF8')),"
    " last_used_at = NULL WHERE name <> '(local)'"};
inline constexpr pg::Statement drop_all_leases{"drop_all_leases", "DELETE FROM attempt_leases"};
// Revokes and wipes the live shares of $1 (< 0: of everyone), their leases and an event
// each, in one statement; returns how many.
inline constexpr pg::Statement revoke_owned{
    "revoke_owned",
    "WITH r AS (UPDATE shares SET state = 'revoked', sealed = NULL, nonce = NULL"
    " WHERE state = 'live' AND (owner = $1::bigint OR $1::bigint < 0) RETURNING id, h),"
    " l AS (DELETE FROM attempt_leases WHERE h IN (SELECT h FROM r)),"
    " a AS (INSERT INTO audit(share_id, at, event, client) SELECT id, $2::float8, 'revoked', $3::text FROM r)"
    " SELECT count(*) FROM r"};
// --- shares ---
// The share and its "created" event in one statement, hence one transaction.
inline constexpr pg::Statement insert_share{
    "insert_share",
    "WITH s AS (INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left,"
    " fails_allowed, fails_burned, salt, kdf_params, verifier, nonce, sealed, content_bytes) VALUES($1::bytea,"
    " $2::text, $3::bigint, $4::text, $5::float8, $6::float8, $7::int, $8::int, $9::int, $10::int, $11::bytea,"
    " $12::text, $13::bytea, $14::bytea, $15::bytea, $16::bigint) RETURNING id, created_at)"
    " INSERT INTO audit(share_id, at, event, client) SELECT id, created_at, 'created', '' FROM s"};
inline constexpr pg::Statement is_live{
    "is_live",
    "SELECT 1 FROM shares WHERE h = $1::bytea AND state = 'live' AND expires_at > $2::float8 AND reveals_left > 0"};
// Every change to a share's leases starts with its row lock: concurrent precharges,
// burns and takes of one share (from any instance) queue on it, and each then sees the
// leases as the one before it committed them. Always the share first, then its leases,
// so no two transactions lock in opposite orders.
inline constexpr pg::Statement lock_live{
    "lock_live",
    "SELECT id, salt, kdf_params, verifier, expires_at, max_reveals, fails_allowed - fails_burned FROM shares"
    " WHERE h = $1::bytea AND state = 'live' AND reveals_left > 0 AND expires_at > $2::float8 FOR UPDATE"};
// A separate statement after the lock, so its snapshot includes every lease committed
// before the lock was granted. Drops the share's lapsed leases; inserts a lease valid to
// $3 if fewer than $4 (the attempts left) are held; returns the new lease id (NULL: all
// held) and the earliest lapse of those held.
inline constexpr pg::Statement lease{
    "lease",
    "WITH lapsed AS (DELETE FROM attempt_leases WHERE h = $1::bytea AND expires_at <= $2::float8),"
    " held AS (SELECT count(*) AS n, min(expires_at) AS first FROM attempt_leases"
    "  WHERE h = $1::bytea AND expires_at > $2::float8),"
    " granted AS (INSERT INTO attempt_leases(h, expires_at) SELECT $1::bytea, $3::float8 FROM held"
    "  WHERE n < $4::bigint RETURNING id)"
    " SELECT (SELECT id FROM granted), coalesce(first, 0)::float8 FROM held"};
inline constexpr pg::Statement end_lease{"end_lease", "DELETE FROM attempt_leases WHERE id = $1::bigint"};
inline constexpr pg::Statement drop_leases{"drop_leases", "DELETE FROM attempt_leases WHERE h = $1::bytea"};
// A wrong PIN: one conditional write burns the attempt and, at the last one, destroys
// and wipes the share. The new values come back.
inline constexpr pg::Statement burn{
    "burn",
    "UPDATE shares SET fails_burned = fails_burned + 1,"
    " state = CASE WHEN fails_burned + 1 >= fails_allowed THEN 'destroyed' ELSE state END,"
    " sealed = CASE WHEN fails_burned + 1 >= fails_allowed THEN NULL ELSE sealed END,"
    " nonce = CASE WHEN fails_burned + 1 >= fails_allowed THEN NULL ELSE nonce END"
    " WHERE h = $1::bytea AND state = 'live' RETURNING id, greatest(fails_allowed - fails_burned, 0), state = "
    "'destroyed'"};
// take_reveal: lock the row if it may still be revealed, then change it.
inline constexpr pg::Statement lock_for_reveal{
    "lock_for_reveal",
    "SELECT id, nonce, sealed, expires_at, max_reveals, reveals_left FROM shares"
    " WHERE h = $1::bytea AND state = 'live' AND expires_at > $2::float8 AND reveals_left > 0 FOR UPDATE"};
inline constexpr pg::Statement take_reveal{"take_reveal",
                                           "UPDATE shares SET reveals_left = reveals_left - 1,"
                                           " state = CASE WHEN reveals_left <= 1 THEN 'used' ELSE state END,"
                                           " sealed = CASE WHEN reveals_left <= 1 THEN NULL ELSE sealed END,"
                                           " nonce = CASE WHEN reveals_left <= 1 THEN NULL ELSE nonce END"
                                           " WHERE h = $1::bytea"};
inline constexpr pg::Statement audit{
    "audit", "INSERT INTO audit(share_id, at, event, client) VALUES($1::text, $2::float8, $3::text, $4::text)"};
inline constexpr pg::Statement revoke{
    "revoke",
    "UPDATE shares SET state = 'revoked', sealed = NULL, nonce = NULL"
    " WHERE id = $1::text AND (owner = $2::bigint OR $2::bigint < 0) AND state = 'live' RETURNING h"};
inline constexpr pg::Statement find{
    "find",
    "SELECT h, id, owner, state, created_at, expires_at, max_reveals, reveals_left, fails_allowed, fails_burned,"
    " content_bytes FROM shares WHERE id = $1::text AND (owner = $2::bigint OR $2::bigint < 0)"};
inline constexpr pg::Statement audit_events{
    "audit_events", "SELECT at, event, client FROM audit WHERE share_id = $1::text ORDER BY seq"};
inline constexpr pg::Statement try_lock{"try_lock", "SELECT pg_try_advisory_xact_lock($1::int, $2::int)"};
inline constexpr pg::Statement lock{"lock", "SELECT pg_advisory_xact_lock($1::int, $2::int)"};
inline constexpr pg::Statement sweep{
    "sweep",
    "WITH e AS (UPDATE shares SET state = 'expired', sealed = NULL, nonce = NULL"
    " WHERE state = 'live' AND expires_at <= $1::float8 RETURNING id)"
    " INSERT INTO audit(share_id, at, event, client) SELECT id, $1::float8, 'expired', '' FROM e"};
inline constexpr pg::Statement drop_lapsed_leases{"drop_lapsed_leases",
                                                  "DELETE FROM attempt_leases WHERE expires_at <= $1::float8"};
inline constexpr pg::Statement drop_old_counters{"drop_old_counters",
                                                 "DELETE FROM counters WHERE window_no < $1::bigint"};
inline constexpr pg::Statement schema_version{"schema_version",
                                              "SELECT coalesce(max(version), 0) FROM schema_migrations"};
inline constexpr pg::Statement has_migrations{"has_migrations", "SELECT to_regclass('schema_migrations') IS NOT NULL"};
inline constexpr pg::Statement record_migration{
    "record_migration",
    "INSERT INTO schema_migrations(version, name, applied_at) VALUES($1::int, $2::text, $3::float8)"};
}  // namespace sql

class PgStore final : public Store {
public:
    PgStore(const std::string& uri, const PgStoreOptions& o)
        : m_pool(uri, o.max_connections, std::chrono::seconds(o.connection_wait_s)),
          m_emergency(make_pg_emergency(m_pool)) {}

    pg::Pool& pool() { return m_pool; }

    Result<int64_t> add_user(const std::string& name, const std::string& token_hash, double now,
                             std::optional<double> expires_at) override;
    std::optional<TokenOwner> user_by_token_hash(const std::string& token_hash, double now) override;
    std::vector<UserInfo> list_users() override;
    bool rotate_user(const std::string& name, const std::string& token_hash, std::optional<double> expires_at) override;
    std::optional<int> remove_user(const std::string& name, double now) override;
    int64_t local_user() override;
    int64_t bump_counter(const std::string& key, int64_t window) override;
    std::optional<std::string> pepper_check() override;
    int64_t pepper_dependents() override;
    std::string adopt_pepper_check(const std::string& check) override;
    int reset_pepper(const std::string& check, double now) override;

    std::optional<Error> insert(const ShareRecord& r) override;
    bool is_live(const std::string& h, double now) override;
    Lease precharge(const std::string& h, double now, double lease_until) override;
    std::optional<Burned> burn_attempt(const std::string& h, int64_t lease, double now,
                                       const std::string& client) override;
    std::optional<Taken> take_reveal(const std::string& h, int64_t lease, double now,
                                     const std::string& client) override;
    void release_lease(int64_t lease) override;
    bool revoke(const std::string& id, int64_t owner, double now, const std::string& client) override;
    std::optional<ShareRecord> find(const std::string& id, int64_t owner) override;
    std::vector<AuditEvent> audit_events(const std::string& share_id) override;
    int sweep(double now) override;

    EmergencyStore& emergency() override { return *m_emergency; }

private:
    pg::Pool m_pool;
    std::unique_ptr<EmergencyStore> m_emergency;  // pg_emergency.cpp
};

}  // namespace shcx::share
