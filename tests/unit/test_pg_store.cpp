// The share store on a real PostgreSQL server (tests/pg_server.h): every protocol test
// that runs on SQLite in test_share_service.cpp runs here too, plus what only a shared
// database server has: several stores (= instances) on one database, one sweeper at a
// time, lost connections, and versioned schema migrations on both backends.
#include <doctest/doctest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "pg_server.h"
#include "shcx/share/migrations.h"
#include "shcx/share/open_store.h"
#include "shcx/share/pg_store.h"
#include "shcx/share/service.h"
#include "support.h"

using namespace shcx;
using namespace shcx::share;
using shcx::test::PgServer;
using shcx::test::contains;

namespace {

struct FakeClock final : Clock {
    std::atomic<double> t{1800000000.0};
    double now() const override { return t; }
};

ServiceConfig test_config() {
    ServiceConfig c;
    c.pepper = std::string(32, 'p');
    c.kdf = {1, 64, 1};  // cheap for tests; the server default is t=2, m=19 MiB
    return c;
}

struct PgFixture {
    std::string uri = PgServer::shared().create_database();
    std::unique_ptr<Store> store = open_store(uri).value();
    FakeClock clock;
    Service service{*store, clock, test_config()};
    int64_t owner = service.local_user();

    Created create(const std::string& content = "{\"jwe\":\"record\"}", int reveals = 1, double ttl = 3600) {
        auto c = service.create(owner, content, reveals, ttl);
        REQUIRE(c.ok());
        return std::move(c.value());
    }
    std::optional<std::string> sql(const std::string& q) { return PgServer::query(uri, q); }
    // The sealed column as hex ("" when NULL: wiped).
    std::string sealed_hex(const std::string& id) {
        return sql("SELECT encode(sealed, 'hex') FROM shares WHERE id = '" + id + "'").value_or("");
    }
};

}  // namespace

TEST_SUITE("postgresql") {

TEST_CASE("create then reveal returns the exact bytes, a second reveal is gone") {
    PgFixture f;
    auto c = f.create("eyJhbGciOiJkaXIifQ..content");
    auto r = f.service.reveal(c.sid, c.pin.str(), "127.0.0.1");
    CHECK(r.outcome == RevealOutcome::Revealed);
    CHECK(r.content == "eyJhbGciOiJkaXIifQ..content");
    CHECK(f.service.reveal(c.sid, c.pin.str(), "127.0.0.1").outcome == RevealOutcome::Gone);
    auto st = f.service.status(c.id, f.owner).value();
    CHECK(st.record.state == "used");
    CHECK(st.record.fails_left == 5);  // the successful attempt was refunded
    CHECK(st.record.expires_at == c.expires_at);
    CHECK(st.record.content_bytes == 27);
    REQUIRE(st.events.size() == 2);
    CHECK(st.events[0].event == "created");
    CHECK(st.events[0].at == f.clock.t);  // doubles survive the round trip exactly
    CHECK(st.events[1].event == "revealed");
    CHECK(st.events[1].client.size() == 16);
    CHECK(st.events[1].client != "127.0.0.1");
}

TEST_CASE("--reveals 3 allows exactly three reveals, PIN input is normalised") {
    PgFixture f;
    auto c = f.create("x", 3);
    std::string lower = c.pin.str();
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(ch));
    CHECK(f.service.reveal(c.sid, lower, "a").outcome == RevealOutcome::Revealed);
    CHECK(f.sealed_hex(c.id).size() > 32);  // still there for the next two reveals
    CHECK(f.service.reveal(c.sid, c.pin.str().substr(0, 4) + " " + c.pin.str().substr(4), "a").outcome ==
          RevealOutcome::Revealed);
    CHECK(f.service.reveal(c.sid, c.pin.str(), "a").outcome == RevealOutcome::Revealed);
    CHECK(f.service.reveal(c.sid, c.pin.str(), "a").outcome == RevealOutcome::Gone);
    CHECK(f.sealed_hex(c.id).empty());
}

TEST_CASE("five wrong PINs destroy the share and wipe its content, the right PIN afterwards finds nothing") {
    PgFixture f;
    auto c = f.create();
    REQUIRE(f.sealed_hex(c.id).size() > 32);
    for (int i = 0; i < 5; ++i) CHECK(f.service.reveal(c.sid, "WRONG000", "x").outcome == RevealOutcome::WrongPin);
    CHECK(f.service.reveal(c.sid, "WRONG000", "x").outcome == RevealOutcome::Gone);
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Gone);
    auto st = f.service.status(c.id, f.owner).value();
    CHECK(st.record.state == "destroyed");
    CHECK(st.record.fails_left == 0);
    CHECK(st.events.back().event == "destroyed");
    CHECK(f.sealed_hex(c.id).empty());
    CHECK(f.sql("SELECT count(*) FROM shares WHERE nonce IS NOT NULL") == "0");
}

TEST_CASE("a malformed PIN is not charged, looking at a share never consumes it") {
    PgFixture f;
    auto c = f.create();
    for (const char* bad : {"", "short", "WAY-TOO-LONG-PIN", "ABC!2345"})
        CHECK(f.service.reveal(c.sid, bad, "x").outcome == RevealOutcome::MalformedPin);
    for (int i = 0; i < 50; ++i) CHECK(f.service.is_live(c.sid));
    CHECK(f.service.status(c.id, f.owner)->record.fails_left == 5);
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Revealed);
    CHECK_FALSE(f.service.is_live(c.sid));
}

TEST_CASE("expiry is exact: live until expires_at, gone at it") {
    PgFixture f;
    auto a = f.create("a", 1, 3600);
    auto b = f.create("b", 1, 3600);
    CHECK(a.expires_at == f.clock.t + 3600);
    f.clock.t = a.expires_at - 0.001;
    CHECK(f.service.is_live(a.sid));
    CHECK(f.service.reveal(a.sid, a.pin.str(), "x").outcome == RevealOutcome::Revealed);
    f.clock.t = b.expires_at;
    CHECK_FALSE(f.service.is_live(b.sid));
    CHECK(f.service.reveal(b.sid, b.pin.str(), "x").outcome == RevealOutcome::Gone);
    CHECK(f.service.status(b.id, f.owner)->record.state == "expired");
    CHECK(f.service.status(b.id, f.owner)->record.fails_left == 5);  // nothing charged on a dead share
}

TEST_CASE("lifetime at most 6 hours, reveals between 1 and 100") {
    PgFixture f;
    CHECK(f.service.create(f.owner, "x", 1, 6 * 3600).ok());
    CHECK(f.service.create(f.owner, "x", 1, 6 * 3600 + 1).error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create(f.owner, "x", 0, 60).error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create(f.owner, "x", 101, 60).error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create(f.owner, "", 1, 60).error().code == ErrorCode::SHARE_INVALID);
}

TEST_CASE("the 11th create in a minute is refused across two instances, the next minute allows more") {
    PgFixture f;
    auto second_store = open_store(f.uri).value();  // another server process on the same database
    Service second{*second_store, f.clock, test_config()};
    f.clock.t = 1800000000.0 - std::fmod(1800000000.0, 60.0) + 5;  // early in a minute
    for (int i = 0; i < 10; ++i) REQUIRE((i % 2 ? f.service : second).create(f.owner, "x", 1, 60).ok());
    CHECK(f.service.create(f.owner, "x", 1, 60).error().code == ErrorCode::SHARE_RATE_LIMITED);
    CHECK(second.create(f.owner, "x", 1, 60).error().code == ErrorCode::SHARE_RATE_LIMITED);
    int64_t other = f.store->add_user("bob", "bob-token-hash").value();
    CHECK(f.service.create(other, "x", 1, 60).ok());  // per user
    f.clock.t = f.clock.t + 60;
    CHECK(second.create(f.owner, "x", 1, 60).ok());
    // Only the current and the previous window are kept.
    CHECK(f.sql("SELECT count(*) FROM counters WHERE key = 'create:" + std::to_string(f.owner) + "'") == "2");
}

TEST_CASE("users: names are unique, tokens are found by hash only, the local user is one user") {
    PgFixture f;
    auto id = f.store->add_user("carol", std::string("\x00\x01hash", 6));
    REQUIRE(id.ok());
    auto again = f.store->add_user("carol", "other");
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == ErrorCode::USAGE);
    CHECK(f.store->user_by_token_hash(std::string("\x00\x01hash", 6)) == id.value());
    CHECK_FALSE(f.store->user_by_token_hash(std::string("\x00\x01hasX", 6)).has_value());
    CHECK(f.store->local_user() == f.owner);
    auto second = open_store(f.uri).value();
    CHECK(second->local_user() == f.owner);
}

TEST_CASE("revoke kills a live share for its owner only, and wipes it") {
    PgFixture f;
    auto c = f.create();
    int64_t other = f.store->add_user("mallory", "m-hash").value();
    CHECK_FALSE(f.service.revoke(c.id, other, "x"));
    CHECK_FALSE(f.service.status(c.id, other).has_value());
    CHECK(f.sealed_hex(c.id).size() > 32);
    CHECK(f.service.revoke(c.id, f.owner, "x"));
    CHECK_FALSE(f.service.revoke(c.id, f.owner, "x"));
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Gone);
    CHECK(f.service.status(c.id, f.owner)->events.back().event == "revoked");
    CHECK(f.sealed_hex(c.id).empty());
}

TEST_CASE("after reveal, expiry (sweeper) and revocation no row holds sealed content, VACUUM drops the old versions") {
    PgFixture f;
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
    PgFixture f;
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
    PgFixture f;
    auto second_store = open_store(f.uri).value();
    Service second{*second_store, f.clock, test_config()};
    auto c = f.create();
    uint64_t before = f.service.kdf_evaluations();
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 100; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i)
                if ((t % 2 ? f.service : second).reveal(c.sid, "AAAA0000", "x").outcome == RevealOutcome::WrongPin) ++wrong;
        });
    for (auto& t : threads) t.join();
    CHECK(f.service.kdf_evaluations() - before + second.kdf_evaluations() <= 5);
    CHECK(wrong == 5);
    CHECK(f.service.status(c.id, f.owner)->record.state == "destroyed");
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Gone);
}

TEST_CASE("one sweeper at a time: while another instance holds the sweep lock, sweep skips the round") {
    PgFixture f;
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
    PgFixture f;
    auto c = f.create("x", 2);
    CHECK(f.service.is_live(c.sid));  // the pool now holds an idle connection
    // Ends the store's sessions and waits until they are gone (the signal is async).
    auto kill_sessions = [&] {
        const std::string ours = " FROM pg_stat_activity WHERE application_name = 'shcx' AND datname = current_database()";
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
    PgFixture f;
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
    CHECK(contains(refused.error().message, "schema version " + std::to_string(latest + 1) + ", newer than this shcx"));
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

    // A database made by the store itself before migrations existed keeps its shares.
    auto old = (dir / "old.db").string();
    {
        auto store = open_sqlite_store(old).value();
        FakeClock clock;
        Service svc{*store, clock, test_config()};
        REQUIRE(svc.create(svc.local_user(), "x", 1, 60).ok());
    }
    CHECK(sqlite_schema_version(old).value() == 0);
    auto upgraded = open_store(old);
    REQUIRE(upgraded.ok());
    CHECK(sqlite_schema_version(old).value() == latest);
    CHECK(upgraded.value()->local_user() == 1);

    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(fresh.c_str(), &db) == SQLITE_OK);
    std::string ins = "INSERT INTO schema_migrations VALUES(" + std::to_string(latest + 1) + ", 'future', 0)";
    REQUIRE(sqlite3_exec(db, ins.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto refused = open_store(fresh);
    REQUIRE_FALSE(refused.ok());
    CHECK(contains(refused.error().message, "newer than this shcx knows (" + std::to_string(latest) + ")"));
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
