// Shares on PostgreSQL end to end: several real `shcx share serve --db postgresql://...`
// processes on one private PostgreSQL server (tests/pg_server.h), real HTTP, the CLI as
// an operator runs it, and the guarantees that must hold across instances.
#include <doctest/doctest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "pg_server.h"
#include "share_server.h"
#include "shcx/share/crypto.h"
#include "support.h"
#include "webhook_receiver.h"

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

const std::string kCard = (testdata_dir() / "cards/covid-three-doses.smart-health-card").string();

// A pepper file as the operator makes it for PostgreSQL (docs/deploy.md).
void make_pepper(const std::string& path) {
    write_file(path, share::random_bytes(32));
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

// N server processes on one fresh database, sharing one pepper file.
struct PgEnv {
    TempDir dir;
    std::string db = PgServer::shared().create_database();
    std::string pepper = (dir / "shares.pepper").string();
    std::vector<std::unique_ptr<ShareServer>> servers;
    std::string token;

    explicit PgEnv(int instances = 2) {
        make_pepper(pepper);
        for (int i = 0; i < instances; ++i) servers.push_back(start());
        auto r = run_shcx({"share", "user", "add", "alice", "--db", db, "--pepper", pepper});
        REQUIRE(r.code == 0);
        token = r.out.substr(0, r.out.find('\n'));
        REQUIRE(token.size() == 43);
    }
    std::unique_ptr<ShareServer> start() {
        return std::make_unique<ShareServer>(db,
                                             std::vector<std::string>{"--pepper", pepper, "--reveal-limit", "100000"});
    }
    httplib::Headers auth() const { return {{"Authorization", "Bearer " + token}}; }
    static httplib::Client client(const ShareServer& s) {
        httplib::Client c(s.url());
        c.set_connection_timeout(30);
        c.set_read_timeout(60);
        return c;
    }
    struct Made {
        std::string sid, pin, id;
    };
    Made make(int reveals = 1, int ttl = 3600) {
        auto c = client(*servers.front());
        auto r = c.Post(("/api/v1/shares?reveals=" + std::to_string(reveals) + "&ttl=" + std::to_string(ttl)).c_str(),
                        auth(), "eyJhbGciOiJkaXIifQ..iv.ct.tag", "application/jose");
        REQUIRE(r);
        REQUIRE(r->status == 201);
        auto j = json::parse(r->body);
        std::string url = j["url"];
        return {url.substr(url.rfind('/') + 1), j["challenge"], j["id"]};
    }
    int post_pin(const ShareServer& s, const std::string& sid, const std::string& pin) const {
        auto r = client(s).Post(("/s/" + sid).c_str(), json{{"challenge", pin}}.dump(), "application/json");
        return r ? r->status : 0;
    }
    uint64_t kdf_evaluations() const {
        uint64_t n = 0;
        for (const auto& s : servers) {
            auto r = client(*s).Get("/api/v1/metrics", auth());
            REQUIRE(r);
            n += json::parse(r->body)["kdf_evaluations"].get<uint64_t>();
        }
        return n;
    }
    std::optional<std::string> sql(const std::string& q) const { return PgServer::query(db, q); }
};

}  // namespace

TEST_SUITE("postgresql") {
    TEST_CASE("two instances on one database: create on one, status and reveal on the other, then 404 on both") {
        PgEnv env;
        auto& a = *env.servers[0];
        auto& b = *env.servers[1];
        auto created = run_shcx({"share", "create", kCard, "--server", a.url(), "--token", env.token, "--json"});
        REQUIRE(created.code == 0);
        auto j = json::parse(created.out);
        std::string url = j["url"], pin = j["challenge"], id = j["id"];
        auto st = run_shcx({"share", "status", "--server", b.url(), "--token", env.token, "--json", "--", id});
        REQUIRE(st.code == 0);
        CHECK(json::parse(st.out)["state"] == "live");
        // The same link, served by the other instance.
        std::string on_b = b.url() + url.substr(a.url().size());
        auto r = run_shcx({"share", "reveal", on_b, "--pin", pin});
        CAPTURE(r.err);
        CHECK(r.code == 0);
        CHECK(r.out == read_file(kCard));
        CHECK(run_shcx({"share", "reveal", url, "--pin", pin}).code == 1);
        CHECK(run_shcx({"share", "reveal", on_b, "--pin", pin}).code == 1);
        CHECK(env.sql("SELECT state FROM shares WHERE id = '" + id + "'") == "used");
        CHECK(env.sql("SELECT count(*) FROM shares WHERE sealed IS NOT NULL") == "0");
    }

    TEST_CASE("300 parallel correct PINs split over two server processes: exactly one 200") {
        PgEnv env;
        for (int round = 0; round < 2; ++round) {
            auto s = env.make();
            std::atomic<int> ok{0}, not_found{0}, other{0};
            std::vector<std::thread> threads;
            for (int i = 0; i < 300; ++i)
                threads.emplace_back([&, i] {
                    int status = env.post_pin(*env.servers[i % 2], s.sid, s.pin);
                    (status == 200 ? ok : status == 404 ? not_found : other)++;
                });
            for (auto& t : threads) t.join();
            CAPTURE(round);
            CHECK(ok == 1);
            CHECK(not_found == 299);
            CHECK(other == 0);
        }
        CHECK(env.sql("SELECT count(*) FROM audit WHERE event = 'revealed'") == "2");
    }

    TEST_CASE("1000 parallel wrong PINs over two server processes: at most 5 KDF runs in all, share destroyed") {
        PgEnv env;
        auto s = env.make();
        uint64_t before = env.kdf_evaluations();
        std::atomic<int> forbidden{0}, not_found{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 100; ++t)
            threads.emplace_back([&, t] {
                auto c = PgEnv::client(*env.servers[t % 2]);
                for (int i = 0; i < 10; ++i) {
                    auto r = c.Post(("/s/" + s.sid).c_str(), R"({"challenge":"ZZZZ9999"})", "application/json");
                    if (r && r->status == 403) ++forbidden;
                    if (r && r->status == 404) ++not_found;
                }
            });
        for (auto& t : threads) t.join();
        CHECK(env.kdf_evaluations() - before <= 5);
        CHECK(forbidden == 5);
        CHECK(not_found == 995);
        CHECK(env.sql("SELECT state FROM shares WHERE id = '" + s.id + "'") == "destroyed");
        CHECK(env.post_pin(*env.servers[1], s.sid, s.pin) == 404);
    }

    TEST_CASE(
        "unknown, expired, used, revoked and destroyed shares give identical 404s on both instances, GET consumes "
        "nothing") {
        PgEnv env(2);
        auto used = env.make();
        auto revoked = env.make();
        auto destroyed = env.make();
        auto expired = env.make(1, 1);
        auto live = env.make();
        auto& a = *env.servers[0];
        auto& b = *env.servers[1];
        REQUIRE(env.post_pin(b, used.sid, used.pin) == 200);
        REQUIRE(PgEnv::client(b).Delete(("/api/v1/shares/" + revoked.id).c_str(), env.auth())->status == 200);
        for (int i = 0; i < 5; ++i) REQUIRE(env.post_pin(i % 2 ? a : b, destroyed.sid, "WRONG111") == 403);
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        std::vector<std::string> bodies;
        for (const auto* server : {&a, &b})
            for (const std::string& sid :
                 {std::string("AAAAAAAAAAAAAAAAAAAAAA"), expired.sid, used.sid, revoked.sid, destroyed.sid}) {
                auto c = PgEnv::client(*server);
                auto g = c.Get(("/s/" + sid).c_str());
                auto p = c.Post(("/s/" + sid).c_str(), R"({"challenge":"ABCD1234"})", "application/json");
                REQUIRE(g);
                REQUIRE(p);
                CHECK(g->status == 404);
                CHECK(p->status == 404);
                bodies.push_back(g->body);
                bodies.push_back(p->body);
            }
        for (const auto& body : bodies) CHECK(body == bodies.front());
        for (int i = 0; i < 10; ++i) CHECK(PgEnv::client(i % 2 ? a : b).Get(("/s/" + live.sid).c_str())->status == 200);
        CHECK(PgEnv::client(a).Post(("/s/" + live.sid).c_str(), "nothing", "text/plain")->status ==
              403);  // not charged
        CHECK(env.sql("SELECT fails_burned FROM shares WHERE id = '" + live.id + "'") == "0");
        CHECK(env.sql("SELECT count(*) FROM attempt_leases") == "0");
        CHECK(env.post_pin(b, live.sid, live.pin) == 200);
        CHECK(env.sql(
                  "SELECT count(*) FROM shares WHERE state != 'live' AND (sealed IS NOT NULL OR nonce IS NOT NULL)") ==
              "0");
    }

    TEST_CASE("the create limit is shared: 10 creates per minute per user across both instances") {
        PgEnv env;
        auto minute = [] {
            return std::chrono::duration_cast<std::chrono::minutes>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
        auto first_minute = minute();
        int created = 0, limited = 0;
        for (int i = 0; i < 14; ++i) {
            auto c = PgEnv::client(*env.servers[i % 2]);
            auto r = c.Post("/api/v1/shares", env.auth(), "eyJhbGciOiJkaXIifQ..iv.ct.tag", "application/jose");
            REQUIRE(r);
            if (r->status == 201) ++created;
            if (r->status == 429) ++limited;
        }
        CHECK(created + limited == 14);
        if (minute() == first_minute) CHECK(created == 10);
        else CHECK(created >= 10);  // a minute boundary fell inside the loop: a new window began
        CHECK(env.sql("SELECT count(*) FROM shares") == std::to_string(created));
    }

    TEST_CASE("kill -9 of one instance under load: the other keeps serving, no double reveal, counters in bounds") {
        PgEnv env;
        std::vector<PgEnv::Made> busy, idle;
        for (int i = 0; i < 8; ++i) busy.push_back(env.make(2));
        for (int i = 0; i < 2; ++i) idle.push_back(env.make(1));
        std::atomic<bool> stop{false};
        std::vector<std::atomic<int>> got(busy.size());
        std::vector<std::thread> load;
        for (size_t i = 0; i < busy.size(); ++i)
            for (int k = 0; k < 4; ++k)
                load.emplace_back([&, i, k] {
                    // Half the load on the instance that dies; the rest on the one that stays.
                    auto* server = env.servers[k % 2].get();
                    while (!stop) {
                        int status = env.post_pin(*server, busy[i].sid, busy[i].pin);
                        if (status == 200) ++got[i];
                        if (status == 0 || status == 404) break;  // the server is gone, or the share used up
                    }
                });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK(env.servers[0]->stop(9) == 128 + 9);
        stop = true;
        for (auto& t : load) t.join();

        auto& survivor = *env.servers[1];
        for (size_t i = 0; i < busy.size(); ++i) {
            for (int k = 0; k < 4; ++k)
                if (env.post_pin(survivor, busy[i].sid, busy[i].pin) == 200) ++got[i];
            CAPTURE(i);
            CHECK(got[i] <= 2);  // never more reveals than allowed, across the crash
        }
        for (const auto& s : idle) CHECK(env.post_pin(survivor, s.sid, s.pin) == 200);
        // Every reveal a client got is recorded; a reveal the killed process committed but
        // never answered is recorded too, and still counts against the share.
        for (size_t i = 0; i < busy.size(); ++i) {
            std::string id = "'" + busy[i].id + "'";
            int consumed = std::stoi(env.sql("SELECT max_reveals - reveals_left FROM shares WHERE id = " + id).value());
            CAPTURE(i);
            CHECK(env.sql("SELECT count(*) FROM audit WHERE event = 'revealed' AND share_id = " + id) ==
                  std::to_string(consumed));
            CHECK(got[i] <= consumed);
        }
        CHECK(env.sql(
                  "SELECT count(*) FROM shares WHERE reveals_left < 0 OR reveals_left > max_reveals OR fails_burned < 0"
                  " OR fails_burned > fails_allowed OR (state = 'used') != (reveals_left = 0)"
                  " OR (state != 'live' AND sealed IS NOT NULL)") == "0");
        // No session of the killed process holds a transaction (and its row locks) open:
        // PostgreSQL ends them as their sockets close (allow it a moment on a busy machine).
        const std::string open_tx =
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%'";
        for (int i = 0; i < 500 && env.sql(open_tx) != "0"; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CHECK(env.sql(open_tx) == "0");
    }

    TEST_CASE("--db postgresql:// for user add and local create, status and revoke, and --pepper is required") {
        TempDir dir;
        std::string db = PgServer::shared().create_database();
        std::string pepper = (dir / "p").string();
        auto no_pepper = run_shcx({"share", "user", "add", "ops", "--db", db});
        CHECK(no_pepper.code == 2);
        CHECK(contains(no_pepper.err, "--pepper FILE is required with a PostgreSQL --db"));
        // Never made up on the spot: another instance would have a different one.
        auto missing = run_shcx({"share", "user", "add", "ops", "--db", db, "--pepper", pepper});
        CHECK(missing.code == 2);
        CHECK(contains(missing.err, "the pepper file " + pepper + " does not exist"));
        CHECK_FALSE(fs::exists(pepper));
        auto serve = run_shcx({"share", "serve", "--db", db, "--pepper", pepper, "--listen", "127.0.0.1:0",
                               "--public-url", "http://127.0.0.1:1"});
        CHECK(serve.code == 2);
        CHECK_FALSE(fs::exists(pepper));
        make_pepper(pepper);
        REQUIRE(run_shcx({"share", "user", "add", "ops", "--db", db, "--pepper", pepper}).code == 0);
        auto dup = run_shcx({"share", "user", "add", "ops", "--db", db, "--pepper", pepper});
        CHECK(dup.code == 2);
        CHECK(contains(dup.err, "already exists"));
        auto created = run_shcx(
            {"share", "create", kCard, "--db", db, "--pepper", pepper, "--public-url", "https://s.example", "--json"});
        REQUIRE(created.code == 0);
        std::string id = json::parse(created.out)["id"];
        auto st = run_shcx({"share", "status", "--db", db, "--pepper", pepper, "--", id});
        CHECK(st.code == 0);
        CHECK(contains(st.out, "State:    live"));
        CHECK(run_shcx({"share", "revoke", "--db", db, "--pepper", pepper, "--", id}).code == 0);
        CHECK(
            contains(run_shcx({"share", "status", "--db", db, "--pepper", pepper, "--", id}).out, "State:    revoked"));
        CHECK(run_shcx({"share", "revoke", "--db", db, "--pepper", pepper, "--", id}).code == 2);
        auto unreachable = run_shcx(
            {"share", "status", "--db", "postgresql://postgres@/x?host=/nonexistent", "--pepper", pepper, "--", id});
        CHECK(unreachable.code == 2);
        CHECK(contains(unreachable.err, "shcx: error: IO_ERROR: PostgreSQL: cannot connect"));
    }

    TEST_CASE("share serve refuses a database with a newer schema") {
        TempDir dir;
        std::string db = PgServer::shared().create_database();
        std::string pepper = (dir / "p").string();
        make_pepper(pepper);
        REQUIRE(run_shcx({"share", "user", "add", "ops", "--db", db, "--pepper", pepper}).code == 0);
        PgServer::query(db, "INSERT INTO schema_migrations(version, name, applied_at) VALUES(9999, 'future', 0)");
        auto r = run_shcx({"share", "serve", "--db", db, "--pepper", pepper, "--listen", "127.0.0.1:0", "--public-url",
                           "http://127.0.0.1:1"});
        CHECK(r.code == 2);
        CHECK(contains(r.err, "schema version 9999, newer than this shcx knows"));
    }

    TEST_CASE("share migrate moves users and live shares to PostgreSQL, leaves tombstones, and can run again") {
        TempDir dir;
        auto file = (dir / "old.db").string();
        auto pepper = file + ".pepper";
        auto alice = run_shcx({"share", "user", "add", "alice", "--db", file});
        REQUIRE(alice.code == 0);
        std::string token = alice.out.substr(0, alice.out.find('\n'));
        auto local_create = [&](const std::string& ttl, const std::string& reveals) {
            auto r = run_shcx({"share", "create", kCard, "--db", file, "--public-url", "https://old.example", "--json",
                               "--ttl", ttl, "--reveals", reveals});
            REQUIRE(r.code == 0);
            return json::parse(r.out);
        };
        auto live = local_create("1h", "2");
        auto revoked = local_create("1h", "1");
        auto expiring = local_create("1s", "1");
        REQUIRE(run_shcx({"share", "revoke", "--db", file, "--", revoked["id"]}).code == 0);
        REQUIRE(run_shcx({"share", "user", "add", "bob", "--db", file, "--expires", "90d"}).code == 0);
        // Two wrong PINs so far, and an attempt leased by a request in flight.
        sqlite3* src = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &src) == SQLITE_OK);
        std::string live_id = live["id"];
        std::string burn = "UPDATE shares SET fails_burned = 2 WHERE id = '" + live_id +
                           "'; INSERT INTO attempt_leases(h, expires_at) SELECT h, 4e9 FROM shares WHERE id = '" +
                           live_id + "'";
        REQUIRE(sqlite3_exec(src, burn.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(src);
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));

        std::string db = PgServer::shared().create_database();
        auto moved = run_shcx({"share", "migrate", "--from", "sqlite:" + file, "--to", db});
        CAPTURE(moved.err);
        REQUIRE(moved.code == 0);
        CHECK(contains(moved.out, "Users:   3 added, 0 already there"));
        CHECK(contains(moved.out, "Shares:  1 live share moved with 1 audit event; 1 expired one wiped in the source"));

        // On PostgreSQL the share reveals with its PIN, and alice's token works.
        ShareServer pg(db, {"--pepper", pepper});
        std::string url = live["url"], sid = url.substr(url.rfind('/') + 1, 22);
        httplib::Client c(pg.url());
        auto r = c.Post(("/s/" + sid).c_str(), json{{"challenge", live["challenge"]}}.dump(), "application/json");
        REQUIRE(r);
        CHECK(r->status == 200);
        auto made =
            c.Post("/api/v1/shares", httplib::Headers{{"Authorization", "Bearer " + token}}, "x", "application/jose");
        REQUIRE(made);
        CHECK(made->status == 201);
        auto st = run_shcx({"share", "status", "--db", db, "--pepper", pepper, "--json", "--", live["id"]});
        CAPTURE(st.err);
        REQUIRE(st.code == 0);
        auto events = json::parse(st.out)["events"];
        REQUIRE(events.size() == 2);
        CHECK(events[0]["event"] == "created");
        CHECK(events[1]["event"] == "revealed");
        CHECK(PgServer::query(db, "SELECT count(*) FROM shares") == "2");  // the moved one and alice's new one
        // Burned attempts came along, leases did not; so did bob's expiry and the pepper's fingerprint.
        auto moved_st = json::parse(st.out);
        CHECK(moved_st["wrong_pins"] == 2);
        CHECK(moved_st["attempts_left"] == 3);
        CHECK(PgServer::query(db, "SELECT count(*) FROM attempt_leases") == "0");
        CHECK(PgServer::query(db, "SELECT expires_at > created_at + 89 * 86400 FROM users WHERE name = 'bob'") == "t");
        CHECK(PgServer::query(db, "SELECT count(*) FROM meta WHERE key = 'pepper_check'") == "1");

        // The source: a tombstone, the expired share wiped, no sealed content anywhere.
        auto tombstone = run_shcx({"share", "status", "--db", file, "--", live["id"]});
        auto wiped = run_shcx({"share", "status", "--db", file, "--", expiring["id"]});
        CAPTURE(tombstone.err);
        CAPTURE(wiped.err);
        CHECK(contains(tombstone.out, "State:    moved"));
        CHECK(contains(wiped.out, "State:    expired"));
        sqlite3* h = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &h) == SQLITE_OK);
        sqlite3_stmt* q = nullptr;
        sqlite3_prepare_v2(h, "SELECT count(*) FROM shares WHERE sealed IS NOT NULL OR nonce IS NOT NULL", -1, &q,
                           nullptr);
        REQUIRE(sqlite3_step(q) == SQLITE_ROW);
        CHECK(sqlite3_column_int(q, 0) == 0);
        sqlite3_finalize(q);
        sqlite3_close(h);

        // Again: nothing left to move, the users are recognised.
        auto again = run_shcx({"share", "migrate", "--from", file, "--to", db});
        REQUIRE(again.code == 0);
        CHECK(contains(again.out, "Users:   0 added, 3 already there"));
        CHECK(contains(again.out, "Shares:  0 live shares moved"));

        // Another store made with another pepper is refused as a whole: nothing in it would
        // work on the target.
        auto other = (dir / "other.db").string();
        REQUIRE(run_shcx({"share", "user", "add", "carol", "--db", other}).code == 0);
        auto foreign = run_shcx({"share", "migrate", "--from", other, "--to", db});
        CHECK(foreign.code == 2);
        CHECK(contains(foreign.err, "the target was made with another pepper than the source (nothing was moved)"));
        // Another store with the same pepper but a different "alice" is refused as a whole.
        auto twin = (dir / "twin.db").string();
        REQUIRE(run_shcx({"share", "user", "add", "alice", "--db", twin, "--pepper", pepper}).code == 0);
        auto clash = run_shcx({"share", "migrate", "--from", twin, "--to", db});
        CHECK(clash.code == 2);
        CHECK(contains(clash.err, "already has a user \"alice\" with another token (nothing was moved)"));
        CHECK(PgServer::query(db, "SELECT count(*) FROM users WHERE name = 'carol'") == "0");
        CHECK(run_shcx({"share", "migrate", "--from", db, "--to", db}).code == 2);
        CHECK(run_shcx({"share", "migrate", "--from", file, "--to", file}).code == 2);
        CHECK(run_shcx({"share", "migrate", "--from", (dir / "missing.db").string(), "--to", db}).code == 2);
    }

    TEST_CASE("share migrate moves emergency shares with both tiers, break glass and the access log") {
        TempDir dir;
        auto file = (dir / "old.db").string();
        auto pepper = file + ".pepper";
        const std::string summary = "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[]}\n";
        const std::string full = "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"entry\":[]}\n";
        write_file(dir / "summary.json", summary);
        write_file(dir / "full.json", full);
        auto alice = run_shcx({"share", "user", "add", "alice", "--db", file});
        REQUIRE(alice.code == 0);
        std::string token = alice.out.substr(0, alice.out.find('\n'));
        WebhookReceiver hook;  // the owner's alerts, before and after the move
        std::string url, pin, id, revoked_id, old_origin, secret;
        {
            ShareServer old(file);
            old_origin = old.url();
            auto create = [&] {
                auto r = run_shcx({"share", "create", "--emergency", (dir / "summary.json").string(), "--full",
                                   (dir / "full.json").string(), "--label", "Wristband", "--json", "--server",
                                   old.url(), "--token", token, "--notify-url", hook.url()});
                REQUIRE(r.code == 0);
                return json::parse(r.out);
            };
            auto made = create();
            url = made["url"];
            pin = made["challenge"];
            id = made["id"];
            secret = made["notify_secret"];
            revoked_id = create()["id"];
            REQUIRE(run_shcx({"share", "revoke", "--db", file, "--", revoked_id}).code == 0);
            REQUIRE(run_shcx({"share", "reveal", url, "--tier", "emergency"}).code == 0);
            REQUIRE(run_shcx({"share", "reveal", url, "--break-glass", "--attest", "A; medic; fall"}).code == 0);
        }
        // Copies of the source as it is now, to move again later: one as it is, one with
        // other tiers under the share's id.
        auto twin = (dir / "twin.db").string(), clash_file = (dir / "clash.db").string();
        sqlite3* h = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &h) == SQLITE_OK);
        for (const auto& copy : {twin, clash_file})
            REQUIRE(sqlite3_exec(h, ("VACUUM INTO '" + copy + "'").c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(h);
        REQUIRE(sqlite3_open(clash_file.c_str(), &h) == SQLITE_OK);
        REQUIRE(sqlite3_exec(h,
                             ("UPDATE emergency_tiers SET sealed_full = X'00' WHERE share_id = '" + id + "'").c_str(),
                             nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(h);

        std::string db = PgServer::shared().create_database();
        auto moved = run_shcx({"share", "migrate", "--from", file, "--to", db});
        CAPTURE(moved.err);
        REQUIRE(moved.code == 0);
        CHECK(contains(moved.out, "Shares:  1 live share moved with 1 audit event; 0 expired ones wiped"));
        CHECK(contains(moved.out, "Emergency: 1 of them emergency share with both tiers and 2 logged accesses\n"));

        // On PostgreSQL the link opens all three ways (its origin is now this server's).
        ShareServer pg(db, {"--pepper", pepper});
        std::string link = pg.url() + url.substr(old_origin.size());
        auto tier = run_shcx({"share", "reveal", link, "--tier", "emergency"});
        CAPTURE(tier.err);
        CHECK(tier.out == summary);
        CHECK(run_shcx({"share", "reveal", link, "--pin", pin}).out == full);
        CHECK(run_shcx({"share", "reveal", link, "--break-glass", "--attest", "B; nurse; ER"}).out == full);
        // The webhook and its secret came along: the target's server signs with the same secret.
        CHECK(PgServer::query(db, "SELECT url FROM emergency_notify WHERE share_id = '" + id + "'") == hook.url());
        auto alerted = [&](const std::string& attestation) {
            for (auto& hit : hook.hits())
                if (nlohmann::json::parse(hit.body)["attestation"] == attestation)
                    return alert_signature_ok(hit.headers["shcx-signature"], secret, hit.body);
            return false;
        };
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!alerted("B; nurse; ER") && std::chrono::steady_clock::now() < deadline)
            hook.wait_for(hook.hits().size() + 1, 1);
        CHECK(alerted("B; nurse; ER"));
        CHECK(alerted("A; medic; fall"));  // delivered by the old server, or moved and delivered by the new one
        auto st = run_shcx({"share", "status", "--db", db, "--pepper", pepper, "--json", "--", id});
        REQUIRE(st.code == 0);
        auto em = json::parse(st.out)["emergency"];
        CHECK(em["label"] == "Wristband");
        CHECK(em["break_glass"]["uses"] == 2);  // the count came along
        REQUIRE(em["accesses"].size() == 5);
        CHECK(em["accesses"][1]["attestation"] == "A; medic; fall");
        CHECK(em["accesses"][4]["attestation"] == "B; nurse; ER");
        // The revoked one did not move; the source's tombstone holds no tier.
        CHECK(PgServer::query(db, "SELECT count(*) FROM emergency_tiers") == "1");
        CHECK(contains(run_shcx({"share", "status", "--db", file, "--", id}).out, "State:    moved"));
        REQUIRE(sqlite3_open(file.c_str(), &h) == SQLITE_OK);
        sqlite3_stmt* q = nullptr;
        sqlite3_prepare_v2(h,
                           "SELECT count(*) FROM emergency_tiers WHERE sealed_emergency IS NOT NULL OR sealed_full IS "
                           "NOT NULL OR nonce_emergency IS NOT NULL OR nonce_full IS NOT NULL",
                           -1, &q, nullptr);
        REQUIRE(sqlite3_step(q) == SQLITE_ROW);
        CHECK(sqlite3_column_int(q, 0) == 0);
        sqlite3_finalize(q);
        sqlite3_close(h);
        // Alice's token makes emergency shares on PostgreSQL through the API too.
        auto remote = run_shcx({"share", "create", "--emergency", (dir / "summary.json").string(), "--full",
                                (dir / "full.json").string(), "--json", "--server", pg.url(), "--token", token});
        CAPTURE(remote.err);
        REQUIRE(remote.code == 0);
        CHECK(run_shcx({"share", "reveal", json::parse(remote.out)["url"], "--tier", "emergency"}).out == summary);

        // Again: nothing left to move.
        auto again = run_shcx({"share", "migrate", "--from", file, "--to", db});
        REQUIRE(again.code == 0);
        CHECK(contains(again.out, "Shares:  0 live shares moved"));
        CHECK(contains(again.out, "Emergency: 0 of them emergency shares"));
        // The copy taken before the move: the same share and tiers are recognised...
        auto copy = run_shcx({"share", "migrate", "--from", twin, "--to", db});
        CAPTURE(copy.err);
        CHECK(copy.code == 0);
        CHECK(contains(copy.out, "Shares:  1 live share moved with 0 audit events"));
        // ... but other tiers under its id are refused, and nothing moves.
        auto clash = run_shcx({"share", "migrate", "--from", clash_file, "--to", db});
        CHECK(clash.code == 2);
        CHECK(clash.err == "shcx: error: IO_ERROR: the target already has a different share with the id or hash of " +
                               id + " (nothing was moved)\n");
        CHECK(PgServer::query(db, "SELECT count(*) FROM emergency_tiers") == "2");
    }

}  // TEST_SUITE
