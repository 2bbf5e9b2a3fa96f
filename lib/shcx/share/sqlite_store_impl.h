// SqliteStore, the Store of store.h on SQLite. Private to lib/shcx/share: the share
// methods are in sqlite_store.cpp, users, counters and the pepper check in
// sqlite_users.cpp (store.h has the contracts; docs/share-protocol-hardening.md the
// lease, pepper and scrub rules).
#pragma once

#include <atomic>
#include <string>

#include "shcx/share/sqlite_db.h"
#include "shcx/share/sqlite_emergency.h"
#include "shcx/share/store.h"

namespace shcx::share {

class SqliteStore final : public Store {
public:
    SqliteStore(std::string path, StoreOptions options)
        : m_pool(std::move(path)), m_options(std::move(options)), m_emergency(make_sqlite_emergency(m_pool)) {}
    // Makes the files private, then creates or upgrades the schema (migrations.h).
    std::optional<Error> init();
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
    static void add_event(sqlite3* db, const std::string& share_id, const char* event, const std::string& client,
                          double at);
    static void end_lease(sqlite3* db, int64_t lease);
    static void drop_leases(sqlite3* db, const std::string& h);
    // Revokes and wipes the live shares of `owner` (< 0: of everyone) with an event each.
    // Inside a Txn; returns how many.
    static int revoke_owned(sqlite3* db, int64_t owner, double now, const std::string& client);
    // Empties the WAL after content was wiped (sqlite::checkpoint_truncate). If a reader
    // elsewhere keeps it from finishing, the sweeper tries again and the operator hears.
    void scrub(sqlite3* db);
    void warn(const std::string& message);

    sqlite::Pool m_pool;
    StoreOptions m_options;
    std::atomic<bool> m_scrub_pending{false};
    std::unique_ptr<EmergencyStore> m_emergency;
};

}  // namespace shcx::share
