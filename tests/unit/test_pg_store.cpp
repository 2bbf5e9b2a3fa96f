// The share store on a real PostgreSQL server (tests/pg_server.h): every protocol test
// that runs on SQLite in test_share_service.cpp runs here too, plus what only a shared
// database server has: several stores (= instances) on one database, one sweeper at a
// time, lost connections, and versioned schema migrations on both backends.
#include <doctest/doctest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <set>
#include <thread>

#include "pg_server.h"
#include "shcx/digest.h"
#include "shcx/share/api.h"
#include "shcx/share/migrations.h"
#include "shcx/share/open_store.h"
#include "shcx/share/pepper.h"
#include "shcx/share/pg_store.h"
#include "shcx/share/service.h"
#include "shcx/timeutil.h"
#include "support.h"
#include "webhook_receiver.h"

using namespace shcx;
using namespace shcx::share;
using shcx::test::contains;
using shcx::test::PgServer;

namespace {

struct FakeClock final : Clock {
    std::atomic<double> t{1800000000.0};
    double now() const override { return t; }
};

std::string hex(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string unhex(const std::string& h) {
    std::string out;
    for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

// The share_service_cases.h Fixture on a fresh PostgreSQL database.
struct Fixture {
    explicit Fixture(ServiceConfig c = config()) : cfg(std::move(c)) {}
    test::TempDir dir;
    std::string uri = PgServer::shared().create_database();
    std::unique_ptr<Store> store = open_store(uri).value();
    FakeClock clock;
    ServiceConfig cfg;
    Service service{*store, clock, cfg};
    int64_t owner = service.local_user();

    static ServiceConfig config() {
        ServiceConfig c;
        c.pepper = std::string(32, 'p');
        c.kdf = {1, 64, 1};  // cheap for tests; the server default is t=2, m=19 MiB
        return c;
    }
    Created create(const std::string& content = "{\"jwe\":\"record\"}", int reveals = 1, double ttl = 3600) {
        auto c = service.create(owner, content, reveals, ttl);
        REQUIRE(c.ok());
        return std::move(c.value());
    }
    std::optional<std::string> sql(const std::string& q) { return PgServer::query(uri, q); }
    // The sealed column as hex ("" when NULL: wiped).
    std::string sealed_hex(const std::string& id) {
        return sql("SELECT encode(sealed, 'hex') FROM shares WHERE id = " + quoted(id)).value_or("");
    }
    std::string sealed_of(const std::string& id) { return unhex(sealed_hex(id)); }
    // No row holds these bytes any more. (What the server keeps of old row versions is
    // docs/postgresql.md's subject; the VACUUM test below looks at it.)
    bool wiped(const std::string& blob) {
        return sql("SELECT count(*) FROM shares WHERE position(decode('" + hex(blob) + "', 'hex') in sealed) > 0") ==
               "0";
    }
    // The text, or its bytes as hex, in any row of the store's tables.
    bool holds(const std::string& text) {
        return sql("SELECT count(*) FROM (SELECT t::text AS r FROM shares t UNION ALL SELECT t::text FROM audit t"
                   " UNION ALL SELECT t::text FROM counters t UNION ALL SELECT t::text FROM users t"
                   " UNION ALL SELECT t::text FROM meta t UNION ALL SELECT t::text FROM attempt_leases t) x"
                   " WHERE strpos(r, " +
                   quoted(text) + ") > 0 OR strpos(r, '" + hex(text) + "') > 0") != "0";
    }
    std::unique_ptr<Store> open_again() { return open_store(uri).value(); }
};

ServiceConfig test_config() { return Fixture::config(); }

}  // namespace

// Every protocol case that runs on SQLite, here on PostgreSQL.
TEST_SUITE("postgresql"){
#include "share_emergency_cases.h"
#include "share_service_cases.h"
}

TEST_SUITE("postgresql") {

    TEST_CASE("the 11th create in a minute is refused across two instances, the next minute allows more") {
        Fixture f;
        auto second_store = open_store(f.uri).value();  // another server process on the same database
        Service second{*second_store, f.clock, test_config()};
        f.clock.t = 1800000000.0 - std::fmod(1800000000.0, 60.0) + 5;  // early in a minute
        for (int i = 0; i < 10; ++i) REQUIRE((i % 2 ? f.service : second).create(f.owner, "x", 1, 60).ok());
        CHECK(f.service.create(f.owner, "x", 1, 60).error().code == ErrorCode::SHARE_RATE_LIMITED);
        CHECK(second.create(f.owner, "x", 1, 60).error().code == ErrorCode::SHARE_RATE_LIMITED);
        int64_t other = f.store->add_user("bob", "bob-token-hash", f.clock.t, std::nullopt).value();
        CHECK(f.service.create(other, "x", 1, 60).ok());  // per user
        f.clock.t = f.clock.t + 60;
        CHECK(second.create(f.owner, "x", 1, 60).ok());
        // The sweeper keeps the current and the previous minute's counters only.
        const std::string counters =
            "SELECT count(*) FROM counters WHERE key = 'create:" + std::to_string(f.owner) + "'";
        CHECK(second.sweep() == 11);  // the minute-long shares of the first minute
        CHECK(f.sql(counters) == "2");
        f.clock.t = f.clock.t + 120;
        CHECK(f.service.sweep() == 1);
        CHECK(f.sql(counters) == "0");
    }

    TEST_CASE("users: names are unique, tokens are found by hash only, the local user is one user") {
        Fixture f;
        auto id = f.store->add_user("carol", std::string("\x00\x01hash", 6), 5, std::nullopt);
        REQUIRE(id.ok());
        auto again = f.store->add_user("carol", "other", 5, std::nullopt);
        REQUIRE_FALSE(again.ok());
        CHECK(again.error().code == ErrorCode::USAGE);
        CHECK(f.store->user_by_token_hash(std::string("\x00\x01hash", 6), 10)->id == id.value());
        CHECK_FALSE(f.store->user_by_token_hash(std::string("\x00\x01hasX", 6), 10).has_value());
        // The local user's random hash is never a way in.
        auto local_hash = f.sql("SELECT encode(token_hash, 'hex') FROM users WHERE name = '(local)'").value();
        CHECK_FALSE(f.store->user_by_token_hash(unhex(local_hash), 10).has_value());
        CHECK(f.store->local_user() == f.owner);
        auto second = open_store(f.uri).value();
        CHECK(second->local_user() == f.owner);
    }

    TEST_CASE(
        "after reveal, expiry (sweeper) and revocation no row holds sealed content, VACUUM drops the old versions") {
        Fixture f;
        std::string content = "CONTENT-" + std::string(5000, 'z');  // TOASTed: stored out of line
        auto revealed = f.create(content);
        auto expired = f.create(content, 1, 60);
        auto revoked = f.create(content);
        REQUIRE(f.service.reveal(revealed.sid, revealed.pin.str(), "x").outcome == RevealOutcome::Revealed);
        f.clock.t = f.clock.t + 61;
        CHECK(f.service.sweep() == 1);
        CHECK(f.service.sweep() == 0);
        CHECK(f.service.status(expired.id, f.owner)->events.back().event == "expired");
        REQUIRE(f.service.revoke(revoked.id, f.owner, "x"));
        CHECK(f.sql("SELECT count(*) FROM shares WHERE sealed IS NOT NULL OR nonce IS NOT NULL") == "0");
        // The wiped blobs were TOAST chunks, left in dead row versions by the UPDATEs; once
        // VACUUM has run, neither the table nor its TOAST table has a dead version left.
        auto toast = f.sql("SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = 'shares'").value();
        f.sql("VACUUM shares");
        f.sql("CREATE EXTENSION pgstattuple");
        CHECK(f.sql("SELECT tuple_count FROM pgstattuple('" + toast + "')") == "0");
        CHECK(f.sql("SELECT dead_tuple_count FROM pgstattuple('" + toast + "')") == "0");
        CHECK(f.sql("SELECT dead_tuple_count FROM pgstattuple('shares')") == "0");
    }

    TEST_CASE("200 concurrent correct PINs over two instances on a one-reveal share: exactly one reveal") {
        Fixture f;
        auto second_store = open_store(f.uri).value();
        Service second{*second_store, f.clock, test_config()};
        auto c = f.create();
        std::atomic<int> revealed{0}, gone{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 200; ++i)
            threads.emplace_back([&, i] {
                auto r = (i % 2 ? f.service : second).reveal(c.sid, c.pin.str(), "x");
                (r.outcome == RevealOutcome::Revealed ? revealed : gone)++;
            });
        for (auto& t : threads) t.join();
        CHECK(revealed == 1);
        CHECK(gone == 199);
        CHECK(f.sql("SELECT count(*) FROM audit WHERE event = 'revealed'") == "1");
    }

    TEST_CASE("1000 concurrent wrong PINs over two instances: at most 5 KDF evaluations, then the share is destroyed") {
        Fixture f;
        auto second_store = open_store(f.uri).value();
        Service second{*second_store, f.clock, test_config()};
        auto c = f.create();
        uint64_t before = f.service.kdf_evaluations();
        std::atomic<int> wrong{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 100; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 10; ++i)
                    if ((t % 2 ? f.service : second).reveal(c.sid, "AAAA0000", "x").outcome == RevealOutcome::WrongPin)
                        ++wrong;
            });
        for (auto& t : threads) t.join();
        CHECK(f.service.kdf_evaluations() - before + second.kdf_evaluations() <= 5);
        CHECK(wrong == 5);
        CHECK(f.service.status(c.id, f.owner)->record.state == "destroyed");
        CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Gone);
    }

    TEST_CASE("one sweeper at a time: while another instance holds the sweep lock, sweep skips the round") {
        Fixture f;
        f.create("x", 1, 60);
        f.clock.t = f.clock.t + 61;
        // Another instance's sweep transaction, held open: same advisory lock key.
        PGconn* other = PQconnectdb(f.uri.c_str());
        REQUIRE(PQstatus(other) == CONNECTION_OK);
        PQclear(PQexec(other, "BEGIN"));
        PGresult* got = PQexec(other, "SELECT pg_try_advisory_xact_lock(1936221048, 2)");
        REQUIRE(std::string(PQgetvalue(got, 0, 0)) == "t");
        PQclear(got);
        CHECK(f.service.sweep() == 0);
        CHECK(f.sql("SELECT state FROM shares") == "live");
        PQclear(PQexec(other, "COMMIT"));
        PQfinish(other);
        CHECK(f.service.sweep() == 1);
        CHECK(f.sql("SELECT state FROM shares") == "expired");
    }

    TEST_CASE("lost connections: an idle session the server ended is replaced before use, reads retry") {
        Fixture f;
        auto c = f.create("x", 2);
        CHECK(f.service.is_live(c.sid));  // the pool now holds an idle connection
        // Ends the store's sessions and waits until they are gone (the signal is async).
        auto kill_sessions = [&] {
            const std::string ours =
                " FROM pg_stat_activity WHERE application_name = 'shcx' AND datname = current_database()";
            auto killed = f.sql("SELECT count(pg_terminate_backend(pid))" + ours);
            for (int i = 0; i < 1000 && f.sql("SELECT count(*)" + ours) != "0"; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            CHECK(f.sql("SELECT count(*)" + ours) == "0");
            return killed;
        };
        CHECK(kill_sessions() != "0");
        CHECK(f.service.is_live(c.sid));
        CHECK(kill_sessions() != "0");
        CHECK(f.service.revoke(c.id, f.owner, "x"));  // a write, on a fresh session
        CHECK(f.service.status(c.id, f.owner)->record.state == "revoked");
        CHECK(f.sql("SELECT count(*) FROM audit WHERE event = 'revoked'") == "1");
    }

    TEST_CASE("schema migrations: applied once, recorded, and a newer schema is refused") {
        Fixture f;
        int latest = latest_schema_version(Dialect::Postgres);
        CHECK(latest >= 1);
        CHECK(pg_schema_version(f.uri).value() == latest);
        CHECK(f.sql("SELECT count(*) FROM schema_migrations") == std::to_string(latest));
        CHECK(f.sql("SELECT name FROM schema_migrations WHERE version = 1") == "initial");
        REQUIRE(open_store(f.uri).ok());  // opening again changes nothing
        CHECK(f.sql("SELECT count(*) FROM schema_migrations") == std::to_string(latest));
        f.sql("INSERT INTO schema_migrations(version, name, applied_at) VALUES(" + std::to_string(latest + 1) +
              ", 'from_the_future', 0)");
        auto refused = open_store(f.uri);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().code == ErrorCode::IO_ERROR);
        CHECK(contains(refused.error().message,
                       "schema version " + std::to_string(latest + 1) + ", newer than this shcx"));
    }

    TEST_CASE("schema migrations: instances starting together on an empty database migrate it once") {
        std::string uri = PgServer::shared().create_database();
        std::vector<std::thread> starters;
        std::atomic<int> ok{0};
        for (int i = 0; i < 4; ++i)
            starters.emplace_back([&] {
                if (open_store(uri).ok()) ++ok;
            });
        for (auto& t : starters) t.join();
        CHECK(ok == 4);
        CHECK(PgServer::query(uri, "SELECT count(*) FROM schema_migrations") ==
              std::to_string(latest_schema_version(Dialect::Postgres)));
    }

    TEST_CASE("schema migrations on SQLite: a new file, a file from before versioning, a newer schema") {
        test::TempDir dir;
        int latest = latest_schema_version(Dialect::Sqlite);
        auto fresh = (dir / "fresh.db").string();
        REQUIRE(open_store("sqlite:" + fresh).ok());
        CHECK(sqlite_schema_version(fresh).value() == latest);

        // A database made by the store before migrations existed (migration 1 is its schema,
        // word for word) after a crash: one wrong PIN, two attempts charged by requests that
        // never finished. It opens, upgrades, and only the wrong PIN counts.
        auto old = (dir / "old.db").string();
        {
            sqlite3* h = nullptr;
            REQUIRE(sqlite3_open(old.c_str(), &h) == SQLITE_OK);
            std::string v0 = std::string(migrations(Dialect::Sqlite)[0].sql) + R"sql(
            INSERT INTO users(id, name, token_hash) VALUES (1, '(local)', x'00');
            INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left, fails_left, salt,
              kdf_params, verifier, nonce, sealed, content_bytes)
              VALUES (x'01', 'stuck', 1, 'live', 1, 1900000000, 1, 1, 2, x'02', 'argon2id$t=1$m=64$p=1', x'03', x'04', x'05', 1);
            INSERT INTO audit(share_id, at, event, client) VALUES ('stuck', 1, 'created', ''), ('stuck', 2, 'wrong_pin', 't');
        )sql";
            REQUIRE(sqlite3_exec(h, v0.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
            sqlite3_close(h);
        }
        CHECK(sqlite_schema_version(old).value() == 0);
        auto upgraded = open_store(old);
        REQUIRE(upgraded.ok());
        CHECK(sqlite_schema_version(old).value() == latest);
        CHECK(upgraded.value()->local_user() == 1);
        auto stuck = upgraded.value()->find("stuck", -1).value();
        CHECK(stuck.fails_burned == 1);
        CHECK(stuck.attempts_left() == 4);
        REQUIRE(open_store(old).ok());  // again: nothing to do
        CHECK(open_store(old).value()->find("stuck", -1)->fails_burned == 1);

        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(fresh.c_str(), &db) == SQLITE_OK);
        std::string ins = "INSERT INTO schema_migrations VALUES(" + std::to_string(latest + 1) + ", 'future', 0)";
        REQUIRE(sqlite3_exec(db, ins.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
        auto refused = open_store(fresh);
        REQUIRE_FALSE(refused.ok());
        CHECK(contains(refused.error().message, "newer than this shcx knows (" + std::to_string(latest) + ")"));
    }

    TEST_CASE("migration 2 on a PostgreSQL database of version 1: burned attempts are recounted from the audit trail") {
        std::string uri = PgServer::shared().create_database();
        // Version 1 as the previous shcx left it after a crash: one wrong PIN, two attempts
        // charged by requests that never finished, and a destroyed share.
        PgServer::query(
            uri,
            std::string(kMigrationsTable) + ";" + std::string(migrations(Dialect::Postgres)[0].sql) +
                "; INSERT INTO schema_migrations VALUES (1, 'initial', 0);"
                " INSERT INTO users(name, token_hash) VALUES ('(local)', '\\x00');"
                " INSERT INTO shares(h, id, owner, state, created_at, expires_at, max_reveals, reveals_left,"
                " fails_left, salt, kdf_params, verifier, nonce, sealed, content_bytes) VALUES"
                " ('\\x01', 'stuck', 1, 'live', 1, 1900000000, 1, 1, 2, '\\x02', 'k', '\\x03', '\\x04', '\\x05', 1),"
                " ('\\x02', 'dead', 1, 'destroyed', 1, 1900000000, 1, 1, 0, '\\x02', 'k', '\\x03', NULL, NULL, 1);"
                " INSERT INTO audit(share_id, at, event, client) VALUES ('stuck', 2, 'wrong_pin', 't'),"
                " ('dead', 2, 'wrong_pin', 't'), ('dead', 3, 'wrong_pin', 't'), ('dead', 4, 'wrong_pin', 't'),"
                " ('dead', 5, 'wrong_pin', 't'), ('dead', 6, 'wrong_pin', 't'), ('dead', 7, 'wrong_pin', 't')");
        CHECK(pg_schema_version(uri).value() == 1);
        auto store = open_store(uri).value();
        CHECK(pg_schema_version(uri).value() == latest_schema_version(Dialect::Postgres));
        auto stuck = store->find("stuck", -1).value();
        CHECK(stuck.fails_allowed == 5);
        CHECK(stuck.fails_burned == 1);
        CHECK(store->find("dead", -1)->fails_burned == 5);  // never more than allowed
        CHECK(PgServer::query(
                  uri, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'fails_left'") == "0");
        auto lease = store->precharge(std::string(1, '\x01'), 1800000000.0, 1800000030.0);
        CHECK(lease.status == Lease::Status::Granted);
        CHECK(lease.inputs.id == "stuck");
    }

    TEST_CASE(
        "attempt leases are shared by every instance: one instance's leases make another Busy, a burn frees one") {
        ServiceConfig cfg = Fixture::config();
        cfg.lease_wait_seconds = 0.2;
        Fixture f(cfg);
        auto b_store = f.open_again();
        Service b(*b_store, f.clock, cfg);
        auto c = f.create("shared", 2);
        std::string h = digest::sha256(c.sid);
        std::vector<int64_t> held;
        for (int i = 0; i < 5; ++i) {
            auto l = (i % 2 ? *f.store : *b_store).precharge(h, f.clock.t, f.clock.t + 30);
            REQUIRE(l.status == Lease::Status::Granted);
            held.push_back(l.id);
        }
        CHECK(std::set<int64_t>(held.begin(), held.end()).size() == 5);  // one id sequence for all
        auto busy = b_store->precharge(h, f.clock.t, f.clock.t + 30);
        CHECK(busy.status == Lease::Status::Busy);
        CHECK(busy.busy_until == f.clock.t + 30);
        CHECK(busy.inputs.salt.empty());
        auto r = b.reveal(c.sid, c.pin.str(), "x");
        CHECK(r.outcome == RevealOutcome::Busy);
        CHECK(r.retry_after == 30);
        // Instance A burns one of its leases: 1 burned + 4 leased, so still nothing free.
        auto burned = f.store->burn_attempt(h, held[1], f.clock.t, "t");
        REQUIRE(burned.has_value());
        CHECK(burned->attempts_left == 4);
        CHECK_FALSE(burned->destroyed);
        CHECK(b_store->precharge(h, f.clock.t, f.clock.t + 30).status == Lease::Status::Busy);
        // A releases one: B gets it, and a right PIN on B reveals.
        f.store->release_lease(held[0]);
        CHECK(b.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Revealed);
        // The rest lapse: every attempt not burned comes back, on either instance.
        f.clock.t = f.clock.t + 30;
        CHECK(f.service.reveal(c.sid, "WRONG000", "x").attempts_left == 3);
        CHECK(f.service.status(c.id, f.owner)->record.fails_burned == 2);
        CHECK(b.sweep() == 0);
        CHECK(f.sql("SELECT count(*) FROM attempt_leases") == "0");
        // The last reveal ends the share and drops whatever leases it had.
        REQUIRE(b_store->precharge(h, f.clock.t, f.clock.t + 30).status == Lease::Status::Granted);
        CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Revealed);
        CHECK(f.sql("SELECT count(*) FROM attempt_leases") == "0");
        CHECK(f.sealed_hex(c.id).empty());
    }

    TEST_CASE("the pepper fingerprint: instances adopting different peppers at once, exactly one wins for all") {
        Fixture f;
        std::vector<std::unique_ptr<Store>> stores;
        for (int i = 0; i < 6; ++i) stores.push_back(f.open_again());
        std::vector<std::string> got(6);
        std::vector<std::thread> threads;
        for (int i = 0; i < 6; ++i)
            threads.emplace_back(
                [&, i] { got[i] = stores[i]->adopt_pepper_check(std::string(32, static_cast<char>('a' + i))); });
        for (auto& t : threads) t.join();
        for (int i = 0; i < 6; ++i) CHECK(got[i] == got[0]);
        CHECK(f.store->pepper_check() == got[0]);
        CHECK(f.sql("SELECT count(*) FROM meta") == "1");
        // reset_pepper replaces it for every instance, and cuts every token loose.
        REQUIRE(f.store->add_user("u", "hash-u", 1, std::nullopt).ok());
        auto live = f.create();
        CHECK(stores[3]->reset_pepper("new-check", f.clock.t) == 1);
        CHECK(stores[5]->pepper_check() == "new-check");
        CHECK_FALSE(f.store->user_by_token_hash("hash-u", 2).has_value());
        CHECK(f.sql("SELECT length(token_hash) FROM users WHERE name = 'u'") == "32");
        CHECK(f.sealed_hex(live.id).empty());
        CHECK(f.service.status(live.id, -1)->events.back().client == "pepper-reset");
    }

    TEST_CASE("open_store: a bad URI or an unreachable server is an IO_ERROR, not a crash or a hang") {
        auto bad = open_store("postgresql://postgres@/no_such_db?host=" + PgServer::shared().socket_dir());
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error().code == ErrorCode::IO_ERROR);
        CHECK(contains(bad.error().message, "no_such_db"));
        auto nowhere = open_store("postgresql://postgres@/x?host=/nonexistent-socket-dir");
        REQUIRE_FALSE(nowhere.ok());
        CHECK(contains(nowhere.error().message, "cannot connect"));
        auto garbage = open_store("postgresql://[bad");
        REQUIRE_FALSE(garbage.ok());
        CHECK(garbage.error().code == ErrorCode::IO_ERROR);
        CHECK(open_store("").error().code == ErrorCode::USAGE);
    }

}  // TEST_SUITE
