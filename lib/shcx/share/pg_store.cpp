#include "shcx/share/pg_store.h"

#include <chrono>
#include <cmath>

#include "shcx/share/migrations.h"
#include "shcx/share/pg_store_impl.h"

namespace shcx::share {

using pg::Conn;
using pg::Params;

namespace {

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

}  // namespace

// --- shares ----------------------------------------------------------------------
std::optional<Error> PgStore::insert(const ShareRecord& r) {
    Params p;
    p.bytes(r.h).text(r.id).integer(r.owner).text(r.state).real(r.created_at).real(r.expires_at);
    p.integer(r.max_reveals).integer(r.reveals_left).integer(r.fails_allowed).integer(r.fails_burned);
    p.bytes(r.salt).text(r.kdf_params).bytes(r.verifier).bytes(r.nonce).bytes(r.sealed).integer(r.content_bytes);
    m_pool.run(false, [&](Conn& c) { c.exec(sql::insert_share, p); });
    return std::nullopt;
}

bool PgStore::is_live(const std::string& h, double now) {
    return m_pool.run(true, [&](Conn& c) { return !c.exec(sql::is_live, Params().bytes(h).real(now)).empty(); });
}

Lease PgStore::precharge(const std::string& h, double now, double lease_until) {
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
        out.inputs = {s.bytes(0, 0), s.bytes(0, 1), s.bytes(0, 2),
                      s.bytes(0, 3), s.real(0, 4),  static_cast<int>(s.integer(0, 5))};
        return out;
    });
}

std::optional<Burned> PgStore::burn_attempt(const std::string& h, int64_t lease, double now,
                                            const std::string& client) {
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

std::optional<Taken> PgStore::take_reveal(const std::string& h, int64_t lease, double now, const std::string& client) {
    return m_pool.transaction([&](Conn& c) -> std::optional<Taken> {
        // FOR UPDATE waits for a concurrent taker and then re-checks the row as it
        // committed it: of N racing reveals of the last copy, one finds it.
        auto r = c.exec(sql::lock_for_reveal, Params().bytes(h).real(now));
        c.exec(sql::end_lease, Params().integer(lease));  // the attempt is refunded
        if (r.empty()) return std::nullopt;
        Taken t{r.bytes(0, 0),
                r.bytes(0, 1),
                r.bytes(0, 2),
                r.real(0, 3),
                static_cast<int>(r.integer(0, 4)),
                static_cast<int>(r.integer(0, 5)) - 1};
        c.exec(sql::take_reveal, Params().bytes(h));
        if (t.reveals_left <= 0) c.exec(sql::drop_leases, Params().bytes(h));
        c.exec(sql::audit, Params().text(t.id).real(now).text("revealed").text(client));
        return t;
    });
}

void PgStore::release_lease(int64_t lease) {
    m_pool.run(true, [&](Conn& c) { c.exec(sql::end_lease, Params().integer(lease)); });
}

bool PgStore::revoke(const std::string& id, int64_t owner, double now, const std::string& client) {
    return m_pool.transaction([&](Conn& c) {
        auto r = c.exec(sql::revoke, Params().text(id).integer(owner));
        if (r.empty()) return false;
        c.exec(sql::drop_leases, Params().bytes(r.bytes(0, 0)));
        c.exec(sql::audit, Params().text(id).real(now).text("revoked").text(client));
        return true;
    });
}

std::optional<ShareRecord> PgStore::find(const std::string& id, int64_t owner) {
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

std::vector<AuditEvent> PgStore::audit_events(const std::string& share_id) {
    return m_pool.run(true, [&](Conn& c) {
        auto r = c.exec(sql::audit_events, Params().text(share_id));
        std::vector<AuditEvent> out;
        out.reserve(static_cast<size_t>(r.size()));
        for (int i = 0; i < r.size(); ++i) out.push_back({r.real(i, 0), r.bytes(i, 1), r.bytes(i, 2)});
        return out;
    });
}

// One sweeper at a time across every instance: the others skip this round (0). The
// lock also keeps two multi-row UPDATEs from locking the same rows in different orders.
// Shares before leases, as everywhere else.
int PgStore::sweep(double now) {
    return m_pool.transaction([&](Conn& c) {
        if (!c.exec(sql::try_lock, Params().integer(kLockSpace).integer(kSweepLock)).boolean(0, 0)) return 0;
        int expired = static_cast<int>(c.exec(sql::sweep, Params().real(now)).affected());
        c.exec(sql::drop_lapsed_leases, Params().real(now));
        c.exec(sql::drop_old_counters, Params().integer(static_cast<int64_t>(std::floor(now / 60)) - 1));
        return expired;
    });
}

Result<std::unique_ptr<Store>> open_pg_store(const std::string& uri, const PgStoreOptions& options,
                                             const StoreOptions& /*store_options*/) {
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
