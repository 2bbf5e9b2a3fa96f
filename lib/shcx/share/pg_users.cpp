// PgStore's users, rate-limit counters and the pepper check (pg_store_impl.h).
#include "shcx/share/crypto.h"
#include "shcx/share/pg_store_impl.h"

namespace shcx::share {

using pg::Conn;
using pg::Params;

// --- users ---------------------------------------------------------------------
Result<int64_t> PgStore::add_user(const std::string& name, const std::string& token_hash, double now,
                                  std::optional<double> expires_at) {
    auto rows = m_pool.run(false, [&](Conn& c) {
        return c.exec(sql::add_user, Params().text(name).bytes(token_hash).real(now).real_or_null(expires_at));
    });
    if (rows.empty()) return make_error(ErrorCode::USAGE, "a user named \"" + name + "\" already exists");
    return rows.integer(0, 0);
}

std::optional<TokenOwner> PgStore::user_by_token_hash(const std::string& token_hash, double now) {
    // Both statements may run twice: the second only moves last_used_at forward.
    return m_pool.run(true, [&](Conn& c) -> std::optional<TokenOwner> {
        auto rows = c.exec(sql::user_by_token, Params().bytes(token_hash).real(now));
        if (rows.empty()) return std::nullopt;
        TokenOwner owner{rows.integer(0, 0), rows.boolean(0, 1)};
        if (!owner.expired && rows.real(0, 2) < now - 60) c.exec(sql::touch_user, Params().integer(owner.id).real(now));
        return owner;
    });
}

std::vector<UserInfo> PgStore::list_users() {
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

bool PgStore::rotate_user(const std::string& name, const std::string& token_hash, std::optional<double> expires_at) {
    return m_pool.run(false, [&](Conn& c) {
        return c.exec(sql::rotate_user, Params().text(name).bytes(token_hash).real_or_null(expires_at)).affected() == 1;
    });
}

std::optional<int> PgStore::remove_user(const std::string& name, double now) {
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

int64_t PgStore::local_user() {
    // The random token hash matches no token: the local user cannot log in.
    return m_pool.run(true, [&](Conn& c) {
        c.exec(sql::add_local_user, Params().bytes(random_bytes(32)));
        return c.exec(sql::local_user).integer(0, 0);
    });
}

// Old windows are dropped by the sweeper.
int64_t PgStore::bump_counter(const std::string& key, int64_t window) {
    return m_pool.run(
        false, [&](Conn& c) { return c.exec(sql::bump_counter, Params().text(key).integer(window)).integer(0, 0); });
}

// --- the pepper check ------------------------------------------------------------
std::optional<std::string> PgStore::pepper_check() {
    return m_pool.run(true, [&](Conn& c) -> std::optional<std::string> {
        auto r = c.exec(sql::pepper_check);
        if (r.empty()) return std::nullopt;
        return r.bytes(0, 0);
    });
}

int64_t PgStore::pepper_dependents() {
    return m_pool.run(true, [&](Conn& c) { return c.exec(sql::pepper_dependents).integer(0, 0); });
}

// Two instances adopting at once: the second INSERT waits for the first to commit,
// then does nothing, and the SELECT (a new statement) sees the first one's value.
std::string PgStore::adopt_pepper_check(const std::string& check) {
    return m_pool.run(true, [&](Conn& c) {
        c.exec(sql::adopt_pepper_check, Params().bytes(check));
        return c.exec(sql::pepper_check).bytes(0, 0);
    });
}

int PgStore::reset_pepper(const std::string& check, double now) {
    return m_pool.transaction([&](Conn& c) {
        int revoked = static_cast<int>(
            c.exec(sql::revoke_owned, Params().integer(-1).real(now).text("pepper-reset")).integer(0, 0));
        c.exec(sql::cut_tokens);
        c.exec(sql::drop_all_leases);
        c.exec(sql::set_pepper_check, Params().bytes(check));
        return revoked;
    });
}

}  // namespace shcx::share
