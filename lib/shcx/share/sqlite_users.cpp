// SqliteStore: API users and their tokens, rate-limit counters, the pepper check.
#include "shcx/share/sqlite_store_impl.h"

namespace shcx::share {

using sqlite::Conn;
using sqlite::exec;
using sqlite::Stmt;
using sqlite::Txn;

Result<int64_t> SqliteStore::add_user(const std::string& name, const std::string& token_hash, double now,
                                      std::optional<double> expires_at) {
    Conn c(m_pool);
    Stmt s(c.db,
           "INSERT INTO users(name, token_hash, created_at, expires_at) VALUES(?, ?, ?, ?)"
           " ON CONFLICT(name) DO NOTHING");
    s.text(1, name).blob(2, token_hash).real(3, now);
    expires_at ? s.real(4, *expires_at) : s.null(4);
    s.step();
    if (detail::loaded_sqlite().changes(c.db) == 0)
        return make_error(ErrorCode::USAGE, "a user named \"" + name + "\" already exists");
    return static_cast<int64_t>(detail::loaded_sqlite().last_insert_rowid(c.db));
}

std::optional<TokenOwner> SqliteStore::user_by_token_hash(const std::string& token_hash, double now) {
    Conn c(m_pool);
    TokenOwner owner;
    bool stale = false;
    {
        Stmt s(c.db,
               "SELECT id, expires_at IS NOT NULL AND expires_at <= ?, coalesce(last_used_at, 0) FROM users"
               " WHERE token_hash = ? AND name != '(local)'");
        if (s.real(1, now).blob(2, token_hash).step() != SQLITE_ROW) return std::nullopt;
        owner = {s.integer(0), s.integer(1) != 0};
        stale = s.real(2) < now - 60;  // last use to the minute: not one write per request
    }
    if (!owner.expired && stale) {
        Stmt u(c.db, "UPDATE users SET last_used_at = ? WHERE id = ?");
        u.real(1, now).integer(2, owner.id).step();
    }
    return owner;
}

std::vector<UserInfo> SqliteStore::list_users() {
    Conn c(m_pool);
    Stmt s(c.db, "SELECT name, created_at, last_used_at, expires_at FROM users WHERE name != '(local)' ORDER BY name");
    std::vector<UserInfo> out;
    while (s.step() == SQLITE_ROW) {
        UserInfo u{s.str(0), s.real(1), std::nullopt, std::nullopt};
        if (!s.is_null(2)) u.last_used_at = s.real(2);
        if (!s.is_null(3)) u.expires_at = s.real(3);
        out.push_back(std::move(u));
    }
    return out;
}

bool SqliteStore::rotate_user(const std::string& name, const std::string& token_hash,
                              std::optional<double> expires_at) {
    Conn c(m_pool);
    Stmt s(c.db,
           "UPDATE users SET token_hash = ?, expires_at = ?, last_used_at = NULL WHERE name = ? AND name != '(local)'");
    s.blob(1, token_hash).text(3, name);
    expires_at ? s.real(2, *expires_at) : s.null(2);
    s.step();
    return detail::loaded_sqlite().changes(c.db) == 1;
}

std::optional<int> SqliteStore::remove_user(const std::string& name, double now) {
    int64_t local = local_user();
    Conn c(m_pool);
    Txn t(c.db);
    int64_t id = 0;
    {
        Stmt s(c.db, "SELECT id FROM users WHERE name = ? AND name != '(local)'");
        if (s.text(1, name).step() != SQLITE_ROW) return std::nullopt;
        id = s.integer(0);
    }
    int revoked = revoke_owned(c.db, id, now, "user-removed");
    Stmt move(c.db, "UPDATE shares SET owner = ? WHERE owner = ?");
    move.integer(1, local).integer(2, id).step();
    Stmt del(c.db, "DELETE FROM users WHERE id = ?");
    del.integer(1, id).step();
    t.commit();
    if (revoked) scrub(c.db);
    return revoked;
}

int64_t SqliteStore::local_user() {
    Conn c(m_pool);
    exec(c.db, "INSERT INTO users(name, token_hash) VALUES('(local)', randomblob(32)) ON CONFLICT(name) DO NOTHING");
    return sqlite::query_int(c.db, "SELECT id FROM users WHERE name = '(local)'");
}

int64_t SqliteStore::bump_counter(const std::string& key, int64_t window) {
    Conn c(m_pool);
    Stmt s(c.db,
           "INSERT INTO counters(key, window, count) VALUES(?, ?, 1) "
           "ON CONFLICT(key, window) DO UPDATE SET count = count + 1 RETURNING count");
    s.text(1, key).integer(2, window).step();
    return s.integer(0);
}

std::optional<std::string> SqliteStore::pepper_check() {
    Conn c(m_pool);
    Stmt s(c.db, "SELECT value FROM meta WHERE key = 'pepper_check'");
    if (s.step() != SQLITE_ROW) return std::nullopt;
    return s.blob(0);
}

int64_t SqliteStore::pepper_dependents() {
    Conn c(m_pool);
    return sqlite::query_int(
        c.db, "SELECT (SELECT count(*) FROM users WHERE name != '(local)') + (SELECT count(*) FROM shares)");
}

std::string SqliteStore::adopt_pepper_check(const std::string& check) {
    Conn c(m_pool);
    Txn t(c.db);
    Stmt ins(c.db, "INSERT INTO meta(key, value) VALUES('pepper_check', ?) ON CONFLICT(key) DO NOTHING");
    ins.blob(1, check).step();
    std::string stored;
    {
        Stmt s(c.db, "SELECT value FROM meta WHERE key = 'pepper_check'");
        s.step();
        stored = s.blob(0);
    }
    t.commit();
    return stored;
}

int SqliteStore::reset_pepper(const std::string& check, double now) {
    Conn c(m_pool);
    Txn t(c.db);
    int revoked = revoke_owned(c.db, -1, now, "pepper-reset");
    exec(c.db, "UPDATE users SET token_hash = randomblob(32), last_used_at = NULL WHERE name != '(local)'");
    exec(c.db, "DELETE FROM attempt_leases");
    Stmt s(
        c.db,
        "INSERT INTO meta(key, value) VALUES('pepper_check', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.blob(1, check).step();
    t.commit();
    if (revoked) scrub(c.db);
    return revoked;
}

// Revokes and wipes the live shares of `owner` (< 0: of everyone) with an event each.
// Inside a Txn; returns how many.
int SqliteStore::revoke_owned(sqlite3* db, int64_t owner, double now, const std::string& client) {
    std::vector<std::string> ids;
    {
        Stmt s(db, "SELECT id FROM shares WHERE state = 'live' AND (owner = ?1 OR ?1 < 0)");
        s.integer(1, owner);
        while (s.step() == SQLITE_ROW) ids.push_back(s.str(0));
    }
    Stmt u(db,
           "UPDATE shares SET state = 'revoked', sealed = NULL, nonce = NULL WHERE state = 'live' AND (owner = ?1 OR "
           "?1 < 0)");
    u.integer(1, owner).step();
    Stmt leases(db, "DELETE FROM attempt_leases WHERE h IN (SELECT h FROM shares WHERE state != 'live')");
    leases.step();
    for (const auto& id : ids) add_event(db, id, "revoked", client, now);
    return static_cast<int>(ids.size());
}

}  // namespace shcx::share
