// Shares end to end: real `shcx share serve` processes on 127.0.0.1, real HTTP, the CLI
// as a user runs it, and the concurrency rules of docs/share-protocol.md.
#include <doctest/doctest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "shcx/share/crypto.h"
#include "shcx/share/service.h"
#include "share_server.h"
#include "support.h"

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

const std::string kCard = (testdata_dir() / "cards/covid-three-doses.smart-health-card").string();

struct Env {
    TempDir dir;
    fs::path db = dir / "shares.db";
    std::unique_ptr<ShareServer> server;
    std::string token;

    explicit Env(std::vector<std::string> args = {"--reveal-limit", "100000"}) {
        server = std::make_unique<ShareServer>(db, args);
        auto r = run_shcx({"share", "user", "add", "alice", "--db", db.string()});
        REQUIRE(r.code == 0);
        token = r.out.substr(0, r.out.find('\n'));
        REQUIRE(token.size() == 43);
    }
    httplib::Client client() const {
        httplib::Client c(server->url());
        c.set_connection_timeout(30);
        c.set_read_timeout(60);
        return c;
    }
    // A share made through the API: {sid, pin, id}.
    struct Made {
        std::string sid, pin, id, url;
    };
    Made make(int reveals = 1, int ttl = 3600, const std::string& body = "eyJhbGciOiJkaXIifQ..iv.ct.tag") {
        auto c = client();
        auto r = c.Post(("/api/v1/shares?reveals=" + std::to_string(reveals) + "&ttl=" + std::to_string(ttl)).c_str(),
                        httplib::Headers{{"Authorization", "Bearer " + token}}, body, "application/jose");
        REQUIRE(r);
        REQUIRE(r->status == 201);
        auto j = json::parse(r->body);
        std::string url = j["url"];
        return {url.substr(url.rfind('/') + 1), j["challenge"], j["id"], url};
    }
    httplib::Result post_pin(const std::string& sid, const std::string& pin) const {
        auto c = client();
        return c.Post(("/s/" + sid).c_str(), json{{"challenge", pin}}.dump(), "application/json");
    }
    uint64_t kdf_evaluations() const {
        auto c = client();
        auto r = c.Get("/api/v1/metrics", httplib::Headers{{"Authorization", "Bearer " + token}});
        return json::parse(r->body)["kdf_evaluations"].get<uint64_t>();
    }
    json status(const std::string& id) const {
        auto c = client();
        auto r = c.Get(("/api/v1/shares/" + id).c_str(), httplib::Headers{{"Authorization", "Bearer " + token}});
        return json::parse(r->body);
    }
};

}  // namespace

TEST_CASE("share create -> reveal returns identical bytes, a second reveal is refused (exit 1)") {
    Env env;
    auto created = run_shcx({"share", "create", kCard, "--server", env.server->url(), "--token", env.token, "--json",
                             "--qr", (env.dir / "link.png").string()});
    REQUIRE(created.code == 0);
    auto j = json::parse(created.out);
    std::string url = j["url"], pin = j["challenge"];
    CHECK(url.rfind(env.server->url() + "/s/", 0) == 0);
    CHECK(url.find('#') == url.size() - 44);  // 43-character key in the fragment
    CHECK(pin.size() == 8);
    CHECK(j["reveals"] == 1);

    auto out = env.dir / "revealed.shc";
    auto r = run_shcx({"share", "reveal", (env.dir / "link.png").string(), "-o", out.string()}, pin + "\n");
    CAPTURE(r.err);
    CHECK(r.code == 0);
    CHECK(read_file(out) == read_file(kCard));
    auto again = run_shcx({"share", "reveal", url, "--pin", pin});
    CHECK(again.code == 1);
    CHECK(contains(again.err, "SHARE_NOT_FOUND"));
    // The server log names no secret: not the PIN, the key, or the full share id.
    std::string log = env.server->log();
    CHECK_FALSE(contains(log, pin));
    CHECK_FALSE(contains(log, url.substr(url.find('#') + 1)));
    CHECK_FALSE(contains(log, url.substr(url.rfind('/') + 1, 22)));
    CHECK(contains(log, "POST /s/"));
}

TEST_CASE("--reveals 3 allows exactly 3, wrong PIN is exit 1, status shows the audit trail") {
    Env env;
    auto created = run_shcx({"share", "create", kCard, "--server", env.server->url(), "--token", env.token, "--json",
                             "--reveals", "3", "--ttl", "30m"});
    REQUIRE(created.code == 0);
    auto j = json::parse(created.out);
    std::string url = j["url"], pin = j["challenge"], id = j["id"];
    auto wrong = run_shcx({"share", "reveal", url, "--pin", pin == "AAAAAAAA" ? "BBBBBBBB" : "AAAAAAAA"});
    CHECK(wrong.code == 1);
    CHECK(contains(wrong.err, "SHARE_WRONG_PIN"));
    for (int i = 0; i < 3; ++i) {
        auto r = run_shcx({"share", "reveal", url, "--pin", pin});
        CHECK(r.code == 0);
        CHECK(r.out == read_file(kCard));
    }
    CHECK(run_shcx({"share", "reveal", url, "--pin", pin}).code == 1);
    auto st = run_shcx({"share", "status", id, "--server", env.server->url(), "--token", env.token, "--json"});
    CHECK(st.code == 0);
    auto s = json::parse(st.out);
    CHECK(s["state"] == "used");
    CHECK(s["reveals_left"] == 0);
    CHECK(s["attempts_left"] == 4);
    std::vector<std::string> events;
    for (const auto& e : s["events"]) events.push_back(e["event"]);
    CHECK(events == std::vector<std::string>{"created", "wrong_pin", "revealed", "revealed", "revealed"});
}

TEST_CASE("200 parallel correct PINs on a one-reveal share: exactly one 200") {
    Env env;
    auto s = env.make();
    std::atomic<int> ok{0}, not_found{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 200; ++i)
        threads.emplace_back([&] {
            auto r = env.post_pin(s.sid, s.pin);
            int status = r ? r->status : 0;
            (status == 200 ? ok : status == 404 ? not_found : other)++;
        });
    for (auto& t : threads) t.join();
    CHECK(ok == 1);
    CHECK(not_found == 199);
    CHECK(other == 0);
}

TEST_CASE("the same with two server processes on one database") {
    Env env;
    ShareServer second(env.db, {"--reveal-limit", "100000"});
    for (int round = 0; round < 3; ++round) {
        auto s = env.make();
        std::atomic<int> ok{0}, not_found{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 200; ++i)
            threads.emplace_back([&, i] {
                httplib::Client c(i % 2 ? env.server->url() : second.url());
                c.set_read_timeout(60);
                auto r = c.Post(("/s/" + s.sid).c_str(), json{{"challenge", s.pin}}.dump(), "application/json");
                if (r && r->status == 200) ++ok;
                if (r && r->status == 404) ++not_found;
            });
        for (auto& t : threads) t.join();
        CHECK(ok == 1);
        CHECK(not_found == 199);
    }
}

TEST_CASE("1000 parallel wrong PINs: at most 5 KDF evaluations, share destroyed, correct PIN then 404") {
    Env env;
    auto s = env.make();
    uint64_t before = env.kdf_evaluations();
    std::atomic<int> forbidden{0}, not_found{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 100; ++t)
        threads.emplace_back([&] {
            auto c = env.client();
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
    CHECK(env.status(s.id)["state"] == "destroyed");
    CHECK(env.post_pin(s.sid, s.pin)->status == 404);
}

TEST_CASE("GET never consumes, a malformed PIN is not charged, a body over 1 KiB is refused") {
    Env env;
    auto s = env.make();
    auto c = env.client();
    std::string page;
    for (int i = 0; i < 20; ++i) {
        auto r = c.Get(("/s/" + s.sid).c_str());
        REQUIRE(r);
        CHECK(r->status == 200);
        page = r->body;
    }
    CHECK(contains(page, "<script src=\"/static/pin.js\"></script>"));
    CHECK(c.Post(("/s/" + s.sid).c_str(), "challenge=abc", "application/x-www-form-urlencoded")->status == 403);
    CHECK(c.Post(("/s/" + s.sid).c_str(), "nothing", "text/plain")->status == 403);
    CHECK(c.Post(("/s/" + s.sid).c_str(), std::string(2000, 'x'), "text/plain")->status == 413);
    CHECK(env.status(s.id)["attempts_left"] == 5);
    auto ok = c.Post(("/s/" + s.sid).c_str(), "challenge=" + s.pin, "application/x-www-form-urlencoded");
    CHECK(ok->status == 200);
    CHECK(ok->body == "eyJhbGciOiJkaXIifQ..iv.ct.tag");
    CHECK(ok->get_header_value("Content-Type") == "application/jose");
}

TEST_CASE("the 11th create in a minute is 429, unknown, expired, used, revoked and destroyed give identical 404s") {
    Env env;
    auto used = env.make();
    auto revoked = env.make();
    auto destroyed = env.make();
    auto expired = env.make(1, 1);
    auto live = env.make();
    auto c = env.client();
    // 5 creates so far; 5 more are fine, the 11th is refused.
    for (int i = 0; i < 5; ++i) env.make();
    auto eleventh = c.Post("/api/v1/shares", httplib::Headers{{"Authorization", "Bearer " + env.token}}, "x",
                           "application/jose");
    CHECK(eleventh->status == 429);
    CHECK(eleventh->get_header_value("Retry-After") == "60");
    CHECK(c.Post("/api/v1/shares", "x", "application/jose")->status == 401);

    REQUIRE(env.post_pin(used.sid, used.pin)->status == 200);
    REQUIRE(c.Delete(("/api/v1/shares/" + revoked.id).c_str(), httplib::Headers{{"Authorization", "Bearer " + env.token}})
                ->status == 200);
    for (int i = 0; i < 5; ++i) REQUIRE(env.post_pin(destroyed.sid, "WRONG111")->status == 403);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));

    std::vector<std::string> bodies;
    for (const std::string& sid : {std::string("AAAAAAAAAAAAAAAAAAAAAA"), expired.sid, used.sid, revoked.sid, destroyed.sid}) {
        auto g = c.Get(("/s/" + sid).c_str());
        auto p = env.post_pin(sid, "ABCD1234");
        CHECK(g->status == 404);
        CHECK(p->status == 404);
        bodies.push_back(g->body);
        bodies.push_back(p->body);
    }
    for (const auto& b : bodies) CHECK(b == bodies.front());
    CHECK(c.Get(("/s/" + live.sid).c_str())->status == 200);
}

TEST_CASE("security headers on every response, per-address reveal limit answers 429 with Retry-After") {
    Env env({"--reveal-limit", "3"});
    auto s = env.make();
    auto c = env.client();
    for (const char* path : {"/s/AAAAAAAAAAAAAAAAAAAAAA", "/static/pin.js", "/healthz"}) {
        auto r = c.Get(path);
        REQUIRE(r);
        CAPTURE(path);
        CHECK(r->get_header_value("Cache-Control") == "no-store");
        CHECK(r->get_header_value("Referrer-Policy") == "no-referrer");
        CHECK(r->get_header_value("X-Robots-Tag") == "noindex, nofollow");
        CHECK(contains(r->get_header_value("Content-Security-Policy"), "default-src 'none'"));
        CHECK(contains(r->get_header_value("Content-Security-Policy"), "frame-ancestors 'none'"));
    }
    for (int i = 0; i < 3; ++i) CHECK(env.post_pin(s.sid, "BADPIN00")->status == 403);
    auto limited = env.post_pin(s.sid, s.pin);
    CHECK(limited->status == 429);
    CHECK(std::stoi(limited->get_header_value("Retry-After")) >= 1);
    CHECK(env.status(s.id)["attempts_left"] == 2);  // a refused request charges nothing
}

TEST_CASE("kill -9 under load, restart: counters consistent, no double reveal, live shares still reveal") {
    TempDir keep;
    auto env = std::make_unique<Env>();
    std::vector<Env::Made> busy, idle;
    for (int i = 0; i < 8; ++i) busy.push_back(env->make(2));
    for (int i = 0; i < 2; ++i) idle.push_back(env->make(1));
    std::atomic<bool> stop{false};
    std::vector<std::atomic<int>> got(busy.size());
    std::vector<std::thread> load;
    for (size_t i = 0; i < busy.size(); ++i)
        for (int k = 0; k < 3; ++k)
            load.emplace_back([&, i] {
                while (!stop) {
                    httplib::Client c(env->server->url());
                    auto r = c.Post(("/s/" + busy[i].sid).c_str(), json{{"challenge", busy[i].pin}}.dump(), "application/json");
                    if (!r) break;  // the server is gone
                    if (r->status == 200) ++got[i];
                    if (r->status == 404) break;
                }
            });
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    CHECK(env->server->stop(9) == 128 + 9);
    stop = true;
    for (auto& t : load) t.join();

    ShareServer restarted(env->db, {"--reveal-limit", "100000"});
    for (size_t i = 0; i < busy.size(); ++i) {
        int before = got[i], after = 0;
        for (int k = 0; k < 4; ++k) {
            httplib::Client c(restarted.url());
            auto r = c.Post(("/s/" + busy[i].sid).c_str(), json{{"challenge", busy[i].pin}}.dump(), "application/json");
            REQUIRE(r);
            if (r->status == 200) ++after;
        }
        CAPTURE(i);
        CHECK(before + after <= 2);  // never more reveals than allowed, across the crash
    }
    for (const auto& s : idle) {
        httplib::Client c(restarted.url());
        CHECK(c.Post(("/s/" + s.sid).c_str(), json{{"challenge", s.pin}}.dump(), "application/json")->status == 200);
    }
    // The database is whole and every counter is within its bounds.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(env->db.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok");
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db,
                       "SELECT count(*) FROM shares WHERE reveals_left < 0 OR reveals_left > max_reveals OR fails_left < 0 "
                       "OR fails_left > 5 OR (state = 'used') != (reveals_left = 0) OR (state != 'live' AND sealed IS NOT NULL)",
                       -1, &st, nullptr);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int(st, 0) == 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

TEST_CASE("--db mode works without a server, revoke and status from the command line") {
    TempDir dir;
    auto db = (dir / "local.db").string();
    // The pepper is created on first use (0600).
    auto created = run_shcx({"share", "create", kCard, "--db", db, "--public-url", "https://share.example", "--json"});
    CAPTURE(created.err);
    REQUIRE(created.code == 2);  // no pepper yet: serve (or user add) creates it
    REQUIRE(run_shcx({"share", "user", "add", "ops", "--db", db}).code == 0);
    auto pepper_mode = fs::status(db + ".pepper").permissions() & fs::perms::all;
    CHECK(pepper_mode == (fs::perms::owner_read | fs::perms::owner_write));
    created = run_shcx({"share", "create", kCard, "--db", db, "--public-url", "https://share.example", "--json"});
    REQUIRE(created.code == 0);
    auto j = json::parse(created.out);
    CHECK(std::string(j["url"]).rfind("https://share.example/s/", 0) == 0);
    std::string id = j["id"];
    auto st = run_shcx({"share", "status", id, "--db", db});
    CHECK(st.code == 0);
    CHECK(contains(st.out, "State:    live"));
    CHECK(run_shcx({"share", "revoke", id, "--db", db}).code == 0);
    CHECK(contains(run_shcx({"share", "status", id, "--db", db}).out, "State:    revoked"));
    CHECK(run_shcx({"share", "revoke", id, "--db", db}).code == 2);
    CHECK(run_shcx({"share", "create", kCard, "--db", db, "--public-url", "http://share.example"}).code == 2);
    CHECK(run_shcx({"share", "create", kCard, "--db", db, "--public-url", "https://s.example", "--ttl", "7h"}).code == 2);
}

TEST_CASE("serve refuses a non-https public URL for a public host, and stops cleanly on SIGTERM") {
    TempDir dir;
    auto r = run_shcx({"share", "serve", "--db", (dir / "x.db").string(), "--listen", "127.0.0.1:0", "--public-url",
                       "http://share.example"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "https://"));
    ShareServer server(dir / "y.db");
    CHECK(server.stop(15) == 0);
    CHECK(contains(server.log(), "stopped"));
}

TEST_CASE("HTTP payload cap: bodies past 1.5 MiB + 64 KiB are refused with 413 before any handler runs") {
    Env env;
    auto c = env.client();
    httplib::Headers auth{{"Authorization", "Bearer " + env.token}};
    size_t cap = share::kMaxContentBytes + 64 * 1024;
    auto at = c.Post("/api/v1/shares", auth, std::string(cap, 'x'), "application/jose");
    REQUIRE(at);
    CHECK(at->status == 400);  // read, then refused by the content rule
    auto past = c.Post("/api/v1/shares", auth, std::string(cap + 1, 'x'), "application/jose");
    REQUIRE(past);
    CHECK(past->status == 413);
}

TEST_CASE("--tls-cert/--tls-key: the server speaks HTTPS and refuses plain HTTP") {
    TempDir dir;
    ShareServer server(dir / "tls.db", {}, true);
    CHECK(server.url().rfind("https://127.0.0.1:", 0) == 0);
    int port = std::stoi(server.url().substr(server.url().rfind(':') + 1));
    httplib::SSLClient tls("127.0.0.1", port);
    tls.enable_server_certificate_verification(false);  // self-signed, made for this test
    auto r = tls.Get("/healthz");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Cache-Control") == "no-store");
    httplib::Client plain("127.0.0.1", port);
    CHECK_FALSE(plain.Get("/healthz"));
}
