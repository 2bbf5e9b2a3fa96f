// Shares end to end: real `shcx share serve` processes on 127.0.0.1, real HTTP, the CLI
// as a user runs it, and the concurrency rules of docs/share-protocol.md.
#include <doctest/doctest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "share_server.h"
#include "shcx/share/crypto.h"
#include "shcx/share/service.h"
#include "shcx/timeutil.h"
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
    auto st = run_shcx({"share", "status", "--server", env.server->url(), "--token", env.token, "--json", "--", id});
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
    auto eleventh =
        c.Post("/api/v1/shares", httplib::Headers{{"Authorization", "Bearer " + env.token}}, "x", "application/jose");
    CHECK(eleventh->status == 429);
    CHECK(eleventh->get_header_value("Retry-After") == "60");
    CHECK(c.Post("/api/v1/shares", "x", "application/jose")->status == 401);

    REQUIRE(env.post_pin(used.sid, used.pin)->status == 200);
    REQUIRE(
        c.Delete(("/api/v1/shares/" + revoked.id).c_str(), httplib::Headers{{"Authorization", "Bearer " + env.token}})
            ->status == 200);
    for (int i = 0; i < 5; ++i) REQUIRE(env.post_pin(destroyed.sid, "WRONG111")->status == 403);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));

    std::vector<std::string> bodies;
    for (const std::string& sid :
         {std::string("AAAAAAAAAAAAAAAAAAAAAA"), expired.sid, used.sid, revoked.sid, destroyed.sid}) {
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

TEST_CASE(
    "share server kill -9 with attempts in flight, restart: right PINs work at once, no attempt lost, no double "
    "reveal") {
    auto env = std::make_unique<Env>();
    // Shares made with --db get the default Argon2id cost (19 MiB, 2 passes), so a reveal
    // spends most of its time inside the KDF, holding its attempt lease.
    auto slow = [&] {
        auto r = run_shcx({"share", "create", kCard, "--db", env->db.string(), "--public-url", env->server->url(),
                           "--reveals", "100", "--json"});
        REQUIRE(r.code == 0);
        auto j = json::parse(r.out);
        std::string url = j["url"];
        url = url.substr(0, url.find('#'));
        return Env::Made{url.substr(url.rfind('/') + 1), j["challenge"], j["id"], url};
    };
    std::vector<Env::Made> busy, idle;
    for (int i = 0; i < 4; ++i) busy.push_back(env->make(100));
    for (int i = 0; i < 2; ++i) busy.push_back(slow());
    for (int i = 0; i < 2; ++i) idle.push_back(env->make(1));
    std::atomic<bool> stop{false};
    std::atomic<int> total{0};
    std::vector<std::atomic<int>> got(busy.size());
    std::vector<std::thread> load;
    for (size_t i = 0; i < busy.size(); ++i)
        for (int k = 0; k < 4; ++k)  // 4 < 5 attempts: the crash can hold at most 4 of a share's attempts
            load.emplace_back([&, i] {
                while (!stop) {
                    httplib::Client c(env->server->url());
                    c.set_read_timeout(60);
                    auto r = c.Post(("/s/" + busy[i].sid).c_str(), json{{"challenge", busy[i].pin}}.dump(),
                                    "application/json");
                    if (!r) break;  // the server is gone
                    if (r->status == 200) ++got[i], ++total;
                    if (r->status == 404) break;
                }
            });
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(env->db.c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    auto count = [&](const char* sql) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        int n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return n;
    };
    for (int i = 0; i < 6000 && total < 12; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    // Kill while the slow shares' KDFs hold attempt leases: on a loaded machine a moment
    // without one is possible, so wait (bounded) until one is seen.
    for (int i = 0; i < 600 && count("SELECT count(*) FROM attempt_leases") == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(env->server->stop(9) == 128 + 9);
    stop = true;
    for (auto& t : load) t.join();

    // The dead server held attempts (the kill landed mid-KDF). Not asserted: the lease seen
    // just before the kill may have been released in between; the guarantees below are.
    WARN(count("SELECT count(*) FROM attempt_leases") >= 1);
    CHECK(count("SELECT max(n) FROM (SELECT count(*) AS n FROM attempt_leases GROUP BY h)") <= 4);

    ShareServer restarted(env->db, {"--reveal-limit", "100000"});
    for (size_t i = 0; i < busy.size(); ++i) {
        CAPTURE(i);
        httplib::Client c(restarted.url());
        c.set_read_timeout(60);
        auto r = c.Post(("/s/" + busy[i].sid).c_str(), json{{"challenge", busy[i].pin}}.dump(), "application/json");
        REQUIRE(r);
        CHECK(r->status == 200);  // at once: the dead server's leases hold at most 4 of 5 attempts
        auto local = run_shcx({"share", "status", "--db", env->db.string(), "--json", "--", busy[i].id});
        CAPTURE(local.err);
        REQUIRE(local.code == 0);
        auto st = json::parse(local.out);
        CHECK(st["state"] == "live");
        CHECK(st["attempts_left"] == 5);
        CHECK(st["wrong_pins"] == 0);
        int revealed = 0;
        for (const auto& e : st["events"]) revealed += e["event"] == "revealed";
        CHECK(revealed == 100 - st["reveals_left"].get<int>());  // every reveal counted once
        CHECK(revealed >= got[i] + 1);                           // a reveal whose answer the crash cut off still counts
    }
    for (const auto& s : idle) {
        httplib::Client c(restarted.url());
        CHECK(c.Post(("/s/" + s.sid).c_str(), json{{"challenge", s.pin}}.dump(), "application/json")->status == 200);
    }
    // The database is whole and every counter is within its bounds.
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok");
    sqlite3_finalize(st);
    CHECK(count("SELECT count(*) FROM shares WHERE reveals_left < 0 OR reveals_left > max_reveals OR fails_burned < 0 "
                "OR fails_burned > fails_allowed OR (state = 'used') != (reveals_left = 0) "
                "OR (state != 'live' AND sealed IS NOT NULL)") == 0);
    sqlite3_close(db);
}

TEST_CASE("--db mode works without a server, revoke and status from the command line") {
    TempDir dir;
    auto db = (dir / "local.db").string();
    // The pepper is created with a new database by serve or user add (0600), not by create.
    auto created = run_shcx({"share", "create", kCard, "--db", db, "--public-url", "https://share.example", "--json"});
    CAPTURE(created.err);
    REQUIRE(created.code == 2);
    CHECK(contains(created.err, "shcx: error: SHARE_PEPPER_MISSING: no pepper file at " + db + ".pepper"));
    REQUIRE(run_shcx({"share", "user", "add", "ops", "--db", db}).code == 0);
    auto pepper_mode = fs::status(db + ".pepper").permissions() & fs::perms::all;
    CHECK(pepper_mode == (fs::perms::owner_read | fs::perms::owner_write));
    created = run_shcx({"share", "create", kCard, "--db", db, "--public-url", "https://share.example", "--json"});
    REQUIRE(created.code == 0);
    auto j = json::parse(created.out);
    CHECK(std::string(j["url"]).rfind("https://share.example/s/", 0) == 0);
    std::string id = j["id"];
    auto st = run_shcx({"share", "status", "--db", db, "--", id});
    CHECK(st.code == 0);
    CHECK(contains(st.out, "State:    live"));
    CHECK(run_shcx({"share", "revoke", "--db", db, "--", id}).code == 0);
    CHECK(contains(run_shcx({"share", "status", "--db", db, "--", id}).out, "State:    revoked"));
    auto again = run_shcx({"share", "revoke", "--db", db, "--", id});
    CHECK(again.code == 2);
    CHECK(again.err == "shcx: error: SHARE_NOT_FOUND: no live share with id " + id + "\n");
    auto plain = run_shcx({"share", "create", kCard, "--db", db, "--public-url", "http://share.example"});
    CHECK(plain.code == 2);
    CHECK(contains(plain.err, "shcx: error: URL_REFUSED: "));
    CHECK(run_shcx({"share", "create", kCard, "--db", db, "--public-url", "https://s.example", "--ttl", "7h"}).code ==
          2);
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

namespace {

// A plain HTTP server on 127.0.0.1 that records what it receives and answers as told.
struct Trap {
    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::mutex mutex;
    std::vector<std::string> requests;  // "METHOD PATH BODY"
    explicit Trap(std::function<void(const httplib::Request&, httplib::Response&)> answer) {
        auto record = [this, answer](const httplib::Request& req, httplib::Response& res) {
            {
                std::lock_guard<std::mutex> l(mutex);
                requests.push_back(req.method + " " + req.path + " " + req.body);
            }
            answer(req, res);
        };
        server.Get(".*", record);
        server.Post(".*", record);
        server.Delete(".*", record);
        port = server.bind_to_any_port("127.0.0.1");
        REQUIRE(port > 0);
        thread = std::thread([this] { server.listen_after_bind(); });
        for (int i = 0; i < 2000 && !server.is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ~Trap() {
        server.stop();
        thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
    std::vector<std::string> seen() {
        std::lock_guard<std::mutex> l(mutex);
        return requests;
    }
};

const std::string kSid = "AAAAAAAAAAAAAAAAAAAAAA";
const std::string kKey = std::string(43, 'A');

}  // namespace

TEST_CASE(
    "share reveal redirect traps: a PIN is POSTed once, to the link's own address, no other origin is ever contacted") {
    Trap elsewhere([](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
    for (int code : {301, 302, 303, 307, 308}) {
        for (bool same_origin : {false, true}) {
            CAPTURE(code);
            CAPTURE(same_origin);
            std::string target;
            Trap trap([&](const httplib::Request&, httplib::Response& res) {
                res.status = code;
                res.set_header("Location", target);
            });
            target = (same_origin ? trap.url() : elsewhere.url()) + "/s/BBBBBBBBBBBBBBBBBBBBBB";
            auto r = run_shcx({"share", "reveal", trap.url() + "/s/" + kSid + "#" + kKey, "--pin", "abcd-efgh"});
            CHECK(r.code == 2);
            CHECK(contains(r.err, "shcx: error: SHARE_REDIRECT_REFUSED: the server answered the PIN with HTTP " +
                                      std::to_string(code) + " to " + (same_origin ? trap.url() : elsewhere.url()) +
                                      ": not followed"));
            auto seen = trap.seen();
            REQUIRE(seen.size() == 1);
            CHECK(seen[0] == "POST /s/" + kSid + " {\"challenge\":\"ABCDEFGH\"}");
        }
    }
    CHECK(elsewhere.seen().empty());
}

TEST_CASE("share owner API redirects: a GET follows within the origin only, a DELETE never, the token never leaves") {
    Trap elsewhere([](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
    std::string away = elsewhere.url();
    Trap server([&](const httplib::Request& req, httplib::Response& res) {
        if (req.path == "/api/v1/shares/moved") {
            res.status = 302;
            res.set_header("Location", "/api/v1/shares/here");
        } else if (req.path == "/api/v1/shares/here") {
            res.set_content(R"({"id":"here","state":"live","events":[]})", "application/json");
        } else {
            res.status = req.method == "DELETE" ? 307 : 302;
            res.set_header("Location",
                           req.path == "/api/v1/shares/away" ? away + "/api/v1/shares/x" : "/api/v1/shares/here");
        }
    });
    auto ok = run_shcx({"share", "status", "moved", "--server", server.url(), "--token", "T0KEN", "--json"});
    CAPTURE(ok.err);
    CHECK(ok.code == 0);
    CHECK(json::parse(ok.out)["id"] == "here");
    auto off = run_shcx({"share", "status", "away", "--server", server.url(), "--token", "T0KEN"});
    CHECK(off.code == 2);
    CHECK(contains(off.err,
                   "SHARE_REDIRECT_REFUSED: the server answered GET /api/v1/shares/away with HTTP 302 to " + away));
    auto del = run_shcx({"share", "revoke", "moved2", "--server", server.url(), "--token", "T0KEN"});
    CHECK(del.code == 2);
    CHECK(contains(del.err, "SHARE_REDIRECT_REFUSED: the server answered DELETE /api/v1/shares/moved2 with HTTP 307"));
    CHECK(elsewhere.seen().empty());
    auto seen = server.seen();
    CHECK(seen == std::vector<std::string>{"GET /api/v1/shares/moved ", "GET /api/v1/shares/here ",
                                           "GET /api/v1/shares/away ", "DELETE /api/v1/shares/moved2 "});
}

TEST_CASE("share userinfo URLs are refused before anything is sent: reveal, create, serve") {
    Trap trap([](const httplib::Request&, httplib::Response& res) { res.status = 500; });
    std::string sneaky = "http://127.0.0.1:" + std::to_string(trap.port) + "@127.0.0.1:" + std::to_string(trap.port);
    auto reveal = run_shcx({"share", "reveal", sneaky + "/s/" + kSid + "#" + kKey, "--pin", "ABCDEFGH"});
    CHECK(reveal.code == 2);
    CHECK(contains(reveal.err, "shcx: error: URL_REFUSED: "));
    CHECK(contains(reveal.err, "a user name or password in a URL is not allowed"));
    CHECK_FALSE(contains(reveal.err, kKey));
    auto create = run_shcx({"share", "create", kCard, "--server", sneaky, "--token", "T"});
    CHECK(create.code == 2);
    CHECK(contains(create.err, "shcx: error: URL_REFUSED: "));
    CHECK(trap.seen().empty());
    TempDir dir;
    // Bounded: were the URL accepted, the server would run until killed.
    auto serve = run_program({"timeout", "60", SHCX_BIN_PATH, "share", "serve", "--db", (dir / "x.db").string(),
                              "--listen", "127.0.0.1:0", "--public-url", "http://127.0.0.1:x@share.example"});
    CHECK(serve.code == 2);
    CHECK(contains(serve.err, "URL_REFUSED"));
    auto local = run_shcx(
        {"share", "create", kCard, "--db", (dir / "x.db").string(), "--public-url", "https://u:p@share.example"});
    CHECK(local.code == 2);
    CHECK(contains(local.err, "URL_REFUSED"));
}

TEST_CASE(
    "10 simultaneous right PINs on a 20-reveal share: ten 200s, right PINs racing 4 wrong ones never destroy it") {
    Env env;
    auto s = env.make(20);
    std::atomic<int> ok{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 10; ++i)
        threads.emplace_back([&] {
            auto r = env.post_pin(s.sid, s.pin);
            (r && r->status == 200 ? ok : other)++;
        });
    for (auto& t : threads) t.join();
    CHECK(ok == 10);
    CHECK(other == 0);

    auto raced = env.make(20);
    std::atomic<int> revealed{0}, forbidden{0}, rest{0};
    threads.clear();
    for (int i = 0; i < 14; ++i)
        threads.emplace_back([&, i] {
            auto r = env.post_pin(raced.sid, i % 3 == 0 && i < 12 ? "WR0NG000" : raced.pin);
            int status = r ? r->status : 0;
            (status == 200 ? revealed : status == 403 ? forbidden : rest)++;
        });
    for (auto& t : threads) t.join();
    CHECK(revealed == 10);
    CHECK(forbidden == 4);
    CHECK(rest == 0);
    auto st = env.status(raced.id);
    CHECK(st["state"] == "live");
    CHECK(st["attempts_left"] == 1);
}

TEST_CASE("two share server processes on one database share each address's reveal budget") {
    Env env({"--reveal-limit", "3"});
    ShareServer second(env.db, {"--reveal-limit", "3"});
    auto s = env.make();
    // Five requests within one minute: start early in one.
    while (static_cast<long>(timeutil::now()) % 60 > 45) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    httplib::Client a(env.server->url()), b(second.url());
    std::string body = json{{"challenge", "WR0NG000"}}.dump();
    std::vector<int> statuses;
    for (auto* c : {&a, &b, &a, &b, &a})
        statuses.push_back(c->Post(("/s/" + s.sid).c_str(), body, "application/json")->status);
    CHECK(statuses == std::vector<int>{403, 403, 403, 429, 429});
    CHECK(env.status(s.id)["attempts_left"] == 2);  // refused requests charge nothing
    // The CLI, from the same address, is refused too and says why.
    auto r = run_shcx(
        {"share", "reveal", env.server->url() + "/s/" + s.sid + "#" + std::string(43, 'A'), "--pin", "WR0NG000"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "SHARE_RATE_LIMITED: too many attempts; retry after "));
}

TEST_CASE("share user list|rotate|remove and --expires: 401 for expired, rotated and removed tokens") {
    Env env;
    auto db = env.db.string();
    auto temp = run_shcx({"share", "user", "add", "temp", "--db", db, "--expires", "1s"});
    REQUIRE(temp.code == 0);
    std::string temp_token = temp.out.substr(0, temp.out.find('\n'));
    CHECK(run_shcx({"share", "user", "add", "bad", "--db", db, "--expires", "soon"}).code == 2);
    auto s = env.make();
    auto st = run_shcx({"share", "status", "--server", env.server->url(), "--token", env.token, "--", s.id});
    CHECK(st.code == 0);

    auto list = run_shcx({"share", "user", "list", "--db", db, "--json"});
    REQUIRE(list.code == 0);
    auto users = json::parse(list.out);
    REQUIRE(users.size() == 2);
    CHECK(users[0]["name"] == "alice");
    CHECK(users[0]["expires_at"].is_null());
    CHECK(users[0]["last_used_at"].is_string());
    CHECK(users[1]["name"] == "temp");
    CHECK(users[1]["last_used_at"].is_null());
    CHECK(users[1]["expires_at"].is_string());
    CHECK_FALSE(contains(list.out, env.token));
    auto table = run_shcx({"share", "user", "list", "--db", db});
    CHECK(table.out.rfind("NAME   CREATED               LAST USED             EXPIRES\nalice  ", 0) == 0);

    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // temp's token lives 1 s
    auto expired = run_shcx({"share", "status", s.id, "--server", env.server->url(), "--token", temp_token});
    CHECK(expired.code == 2);
    CHECK(contains(expired.err, "shcx: error: SHARE_UNAUTHORIZED: status of " + s.id + ": the API token has expired"));
    CHECK(contains(run_shcx({"share", "user", "list", "--db", db}).out, "(expired)"));

    auto rotated = run_shcx({"share", "user", "rotate", "alice", "--db", db});
    REQUIRE(rotated.code == 0);
    std::string fresh = rotated.out.substr(0, rotated.out.find('\n'));
    CHECK(fresh.size() == 43);
    auto old = run_shcx({"share", "status", "--server", env.server->url(), "--token", env.token, "--", s.id});
    CHECK(old.code == 2);
    CHECK(contains(old.err, "SHARE_UNAUTHORIZED: status of " + s.id + ": the server refused the API token"));
    CHECK(run_shcx({"share", "status", s.id, "--server", env.server->url(), "--token", fresh}).code == 0);

    auto removed = run_shcx({"share", "user", "remove", "alice", "--db", db});
    CHECK(removed.code == 0);
    CHECK(removed.out == "Removed alice; 1 live share revoked\n");
    CHECK(run_shcx({"share", "status", s.id, "--server", env.server->url(), "--token", fresh}).code == 2);
    CHECK(env.post_pin(s.sid, s.pin)->status == 404);
    auto unknown = run_shcx({"share", "user", "remove", "alice", "--db", db});
    CHECK(unknown.code == 2);
    CHECK(unknown.err == "shcx: error: USAGE: no user named \"alice\"\n");
}

TEST_CASE("the share pepper: serve refuses a missing or different one for a database in use, --init starts over") {
    Env env;
    auto s = env.make();
    env.server->stop(15);
    std::string db = env.db.string(), pepper = db + ".pepper";
    std::string saved = read_file(pepper);
    auto serve = [&](std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"share",    "serve",       "--db",         db,
                                      "--listen", "127.0.0.1:0", "--public-url", "http://127.0.0.1:1"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_shcx(args);
    };
    fs::remove(pepper);
    auto missing = serve();
    CHECK(missing.code == 2);
    CHECK(contains(missing.err, "shcx: error: SHARE_PEPPER_MISSING: the pepper file " + pepper +
                                    " is missing, and the database has 2 users and shares that need it"));
    CHECK_FALSE(fs::exists(pepper));
    CHECK(run_shcx({"share", "user", "add", "x", "--db", db}).code == 2);  // no quiet new pepper either
    write_file(pepper, std::string(32, 'w'));
    auto wrong = serve();
    CHECK(wrong.code == 2);
    CHECK(contains(wrong.err, "shcx: error: SHARE_PEPPER_MISMATCH: the pepper file " + pepper + " is not the one"));
    auto init_over = serve({"--init"});
    CHECK(init_over.code == 2);
    CHECK(contains(init_over.err, "shcx: error: USAGE: the pepper file " + pepper + " exists"));
    CHECK(read_file(pepper) == std::string(32, 'w'));

    // Restored, everything works again.
    write_file(pepper, saved);
    {
        ShareServer back(env.db, {"--reveal-limit", "1000"});
        httplib::Client c(back.url());
        CHECK(c.Post(("/s/" + s.sid).c_str(), R"({"challenge":"WR0NG000"})", "application/json")->status == 403);
    }
    // Lost for good: --init makes a new one, and says what it cost.
    fs::remove(pepper);
    ShareServer fresh(env.db, {"--init"});
    CHECK(fs::exists(pepper));
    CHECK(read_file(pepper) != saved);
    CHECK(contains(fresh.log(), "1 live share(s) revoked"));
    httplib::Client c(fresh.url());
    auto r = c.Get("/api/v1/metrics", httplib::Headers{{"Authorization", "Bearer " + env.token}});
    CHECK(r->status == 401);
    auto rotated = run_shcx({"share", "user", "rotate", "alice", "--db", db});
    REQUIRE(rotated.code == 0);
    auto ok = c.Get("/api/v1/metrics", httplib::Headers{{"Authorization", "Bearer " + rotated.out.substr(0, 43)}});
    CHECK(ok->status == 200);
}

TEST_CASE("reveal says how many tries are left and warns before the last, status says the share was destroyed") {
    Env env;
    auto created = run_shcx({"share", "create", kCard, "--server", env.server->url(), "--token", env.token, "--json"});
    REQUIRE(created.code == 0);
    auto j = json::parse(created.out);
    std::string url = j["url"], id = j["id"], pin = j["challenge"];
    std::string wrong = pin == "WR0NG000" ? "WR0NG001" : "WR0NG000";
    std::vector<std::string> expected = {
        "shcx: error: SHARE_WRONG_PIN: wrong PIN; 4 tries left\n",
        "shcx: error: SHARE_WRONG_PIN: wrong PIN; 3 tries left\n",
        "shcx: error: SHARE_WRONG_PIN: wrong PIN; 2 tries left\n",
        "shcx: error: SHARE_WRONG_PIN: wrong PIN; 1 try left: one more wrong PIN destroys the share\n",
        "shcx: error: SHARE_WRONG_PIN: wrong PIN; that was the last try: the share is now destroyed (ask for a new "
        "link)\n"};
    for (const auto& line : expected) {
        auto r = run_shcx({"share", "reveal", url, "--pin", wrong});
        CHECK(r.code == 1);
        CHECK(r.err == line);
    }
    auto gone = run_shcx({"share", "reveal", url, "--pin", pin});
    CHECK(gone.code == 1);
    CHECK(
        gone.err ==
        "shcx: error: SHARE_NOT_FOUND: the link is not valid (unknown, expired, already used, revoked or destroyed)\n");
    auto malformed = run_shcx({"share", "reveal", url, "--pin", "ABCD-123U"});
    CHECK(malformed.code == 2);
    CHECK(contains(malformed.err, "SHARE_PIN_MALFORMED"));
    auto st = run_shcx({"share", "status", id, "--server", env.server->url(), "--token", env.token});
    CHECK(st.code == 0);
    CHECK(contains(st.out,
                   "State:    destroyed: 5 wrong PINs were entered, so the record was wiped; share it again "
                   "with a new link\n"));
    CHECK(contains(st.out, "Attempts: 0 wrong PINs left (5 entered)\n"));
    auto human = run_shcx({"share", "create", kCard, "--server", env.server->url(), "--token", env.token});
    REQUIRE(human.code == 0);
    auto at = human.out.find("PIN:     ");
    REQUIRE(at != std::string::npos);
    std::string shown = human.out.substr(at + 9, 9);
    CHECK(shown[4] == '-');  // read out in two halves
    CHECK(shown.find_first_of("ILOU") == std::string::npos);
}

TEST_CASE("the share server's database files are private (0600) and hold no ciphertext after the last reveal") {
    Env env;
    auto s = env.make(1, 3600, "eyJhbGciOiJkaXIifQ.." + std::string(3000, 'C') + ".tag");
    for (const auto& suffix : {"", "-wal", "-shm"}) {
        CAPTURE(suffix);
        REQUIRE(fs::exists(env.db.string() + suffix));
        CHECK((fs::status(env.db.string() + suffix).permissions() & fs::perms::all) ==
              (fs::perms::owner_read | fs::perms::owner_write));
    }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(env.db.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT sealed FROM shares WHERE id = ?", -1, &st, nullptr);
    sqlite3_bind_text(st, 1, s.id.c_str(), -1, SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    std::string sealed(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                       static_cast<size_t>(sqlite3_column_bytes(st, 0)));
    sqlite3_finalize(st);
    sqlite3_close(db);
    REQUIRE(env.post_pin(s.sid, s.pin)->status == 200);
    CHECK(fs::file_size(env.db.string() + "-wal") == 0);
    std::string files = read_file(env.db) + read_file(env.db.string() + "-wal");
    for (size_t at = 0; at + 32 <= sealed.size(); at += 32)
        CHECK(files.find(sealed.substr(at, 32)) == std::string::npos);
}
