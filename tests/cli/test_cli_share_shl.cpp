// Shares as SMART Health Links (docs/shl.md, "Making links"): `share create --shl` against a
// real `shcx share serve` on 127.0.0.1, opened with `share reveal`, `verify` and raw
// manifest requests, with the share's guarantees (exact reveals, the attempt budget, 404s).
#include <doctest/doctest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "share_server.h"
#include "shcx/base64url.h"
#include "shcx/timeutil.h"
#include "support.h"

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

const std::string kCard = (testdata_dir() / "cards/covid-three-doses.smart-health-card").string();

struct ShlEnv {
    TempDir dir;
    fs::path db = dir / "shares.db";
    std::unique_ptr<ShareServer> server;
    std::string token;

    ShlEnv() {
        server = std::make_unique<ShareServer>(db, std::vector<std::string>{"--reveal-limit", "100000"});
        auto r = run_shcx({"share", "user", "add", "alice", "--db", db.string()});
        REQUIRE(r.code == 0);
        token = r.out.substr(0, r.out.find('\n'));
    }
    json create(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"share",   "create", kCard,    "--server", server->url(),
                                         "--token", token,    "--json", "--shl"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = run_shcx(args);
        CAPTURE(r.err);
        REQUIRE(r.code == 0);
        return json::parse(r.out);
    }
    httplib::Result post_manifest(const std::string& manifest_url, const std::string& body) const {
        httplib::Client c(server->url());
        c.set_connection_timeout(30);
        c.set_read_timeout(60);
        return c.Post(manifest_url.substr(server->url().size()).c_str(), body, "application/json");
    }
    int attempts_left(const std::string& id) const {
        auto r = run_shcx({"share", "status", id, "--db", db.string(), "--json"});
        REQUIRE(r.code == 0);
        return json::parse(r.out)["attempts_left"].get<int>();
    }
};

json payload_of(const std::string& shlink) {
    REQUIRE(shlink.rfind("shlink:/", 0) == 0);
    auto decoded = base64url::decode(shlink.substr(8));
    REQUIRE(decoded.has_value());
    return json::parse(*decoded);
}

std::string wrong_pin_for(const std::string& pin) { return pin == "WRONG000" ? "WRONG001" : "WRONG000"; }

}  // namespace

TEST_CASE("share create --shl: a viewer URL holding the shlink, flag P, the manifest URL, exp = the expiry") {
    ShlEnv env;
    auto j = env.create({"--reveals", "2", "--ttl", "2h", "--label", "Vaccination record"});
    std::string url = j["url"], shlink = j["shlink"];
    CHECK(url == env.server->url() + "/v#" + shlink);
    auto p = payload_of(shlink);
    std::string manifest = p["url"];
    CHECK(manifest.rfind(env.server->url() + "/m/", 0) == 0);
    CHECK(manifest.size() == env.server->url().size() + 3 + 22);
    CHECK(p["flag"] == "P");
    CHECK(p["label"] == "Vaccination record");
    CHECK(p["key"].get<std::string>().size() == 43);
    CHECK(p["exp"].get<double>() == *timeutil::parse_time(j["expires_at"].get<std::string>()));
    CHECK(j["reveals"] == 2);
    CHECK(j["challenge"].get<std::string>().size() == 8);
    // Without --json the same link is printed twice: the viewer URL and the bare shlink.
    auto text = run_shcx({"share", "create", kCard, "--server", env.server->url(), "--token", env.token, "--shl"});
    REQUIRE(text.code == 0);
    CHECK(contains(text.out, "URL:     " + env.server->url() + "/v#shlink:/"));
    CHECK(contains(text.out, "\nSHLink:  shlink:/"));
    // The viewer page is the PIN page, whatever the fragment.
    httplib::Client c(env.server->url());
    auto page = c.Get("/v");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(contains(page->body, "<script src=\"/static/pin.js\"></script>"));
}

TEST_CASE("share reveal of an SHL: exactly N reveals by shlink, viewer URL or QR image, then SHL_NOT_FOUND (exit 1)") {
    ShlEnv env;
    auto j = env.create({"--reveals", "3", "--qr", (env.dir / "shl.png").string()});
    std::string pin = j["challenge"], shlink = j["shlink"], viewer = j["url"];
    auto a = run_shcx({"share", "reveal", shlink, "--pin", pin});
    CAPTURE(a.err);
    CHECK(a.code == 0);
    CHECK(a.out == read_file(kCard));
    auto b = run_shcx({"share", "reveal", viewer, "--pin", pin.substr(0, 4) + "-" + pin.substr(4)});
    CHECK(b.code == 0);
    CHECK(b.out == read_file(kCard));
    auto out = env.dir / "third.shc";
    auto c = run_shcx({"share", "reveal", (env.dir / "shl.png").string(), "-o", out.string()}, pin + "\n");
    CAPTURE(c.err);
    CHECK(c.code == 0);
    CHECK(read_file(out) == read_file(kCard));
    auto d = run_shcx({"share", "reveal", shlink, "--pin", pin});
    CHECK(d.code == 1);
    CHECK(contains(d.err, "SHL_NOT_FOUND"));
    CHECK(d.out.empty());
    auto st = run_shcx({"share", "status", j["id"], "--db", env.db.string(), "--json"});
    REQUIRE(st.code == 0);
    auto status = json::parse(st.out);
    CHECK(status["state"] == "used");
    CHECK(status["reveals_left"] == 0);
    // The server log holds neither the PIN, the key nor the share's sid.
    std::string log = env.server->log();
    auto p = payload_of(shlink);
    CHECK_FALSE(contains(log, pin));
    CHECK_FALSE(contains(log, p["key"].get<std::string>()));
    CHECK_FALSE(contains(log, p["url"].get<std::string>().substr(p["url"].get<std::string>().size() - 22)));
    CHECK(contains(log, "POST /m/"));
}

TEST_CASE(
    "wrong passcodes on an SHL: 401 remainingAttempts, verify and reveal say how many remain, the fifth destroys it") {
    ShlEnv env;
    auto j = env.create();
    std::string pin = j["challenge"], shlink = j["shlink"], id = j["id"];
    std::string manifest = payload_of(shlink)["url"];
    std::string wrong = wrong_pin_for(pin);

    // shcx verify of the link with a wrong passcode reports the attempts left (exit 2).
    auto v = run_shcx({"verify", shlink, "--passcode", wrong});
    CAPTURE(v.err);
    CHECK(v.code == 2);
    CHECK(contains(v.err, "SHL_PASSCODE_WRONG"));
    CHECK(contains(v.err, "4 attempts remaining"));
    // A raw manifest request: 401 with exactly {"remainingAttempts": n}.
    auto r = env.post_manifest(manifest,
                               json{{"recipient", "test"}, {"passcode", wrong}, {"embeddedLengthMax", 100}}.dump());
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(json::parse(r->body) == json{{"remainingAttempts", 3}});
    // Not a manifest request: 400, nothing charged. A passcode that cannot be a PIN is
    // refused by `share reveal` before anything is sent.
    CHECK(env.post_manifest(manifest, "{\"passcode\":\"" + wrong + "\"}")->status == 400);
    auto malformed = run_shcx({"share", "reveal", shlink, "--pin", "ABCD123U"});
    CHECK(malformed.code == 2);
    CHECK(contains(malformed.err, "SHARE_PIN_MALFORMED"));
    CHECK(env.attempts_left(id) == 3);
    // share reveal: the same count, and the warning when one is left.
    auto w = run_shcx({"share", "reveal", shlink, "--pin", wrong});
    CHECK(w.code == 1);
    CHECK(contains(w.err, "SHL_PASSCODE_WRONG"));
    CHECK(contains(w.err, "2 attempts remaining"));
    auto w2 = run_shcx({"share", "reveal", j["url"].get<std::string>(), "--pin", wrong});
    CHECK(contains(w2.err, "1 attempt remaining"));
    auto last = env.post_manifest(manifest, json{{"recipient", "test"}, {"passcode", wrong}}.dump());
    CHECK(last->status == 401);
    CHECK(json::parse(last->body) == json{{"remainingAttempts", 0}});
    // Destroyed: the right PIN now finds nothing.
    auto after = run_shcx({"share", "reveal", shlink, "--pin", pin});
    CHECK(after.code == 1);
    CHECK(contains(after.err, "SHL_NOT_FOUND"));
    auto gone = env.post_manifest(manifest, json{{"recipient", "test"}, {"passcode", pin}}.dump());
    CHECK(gone->status == 404);
    auto st = run_shcx({"share", "status", id, "--db", env.db.string(), "--json"});
    CHECK(json::parse(st.out)["state"] == "destroyed");
}

TEST_CASE("an expired SHL: the server answers 404, share reveal says SHL_EXPIRED before asking") {
    ShlEnv env;
    auto j = env.create({"--ttl", "1s"});
    std::string pin = j["challenge"], shlink = j["shlink"];
    std::string manifest = payload_of(shlink)["url"];
    double exp = payload_of(shlink)["exp"].get<double>();
    while (timeutil::now() < exp + 0.2) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r = env.post_manifest(manifest, json{{"recipient", "test"}, {"passcode", pin}}.dump());
    REQUIRE(r);
    CHECK(r->status == 404);
    auto reveal = run_shcx({"share", "reveal", shlink, "--pin", pin});
    CHECK(reveal.code == 1);
    CHECK(contains(reveal.err, "SHL_EXPIRED"));
}

TEST_CASE(
    "share create --shl with --db, and refused for other content, a public URL too long for 128 characters, --label "
    "alone") {
    ShlEnv env;
    std::string base = env.server->url();
    auto made = run_shcx({"share", "create", kCard, "--db", env.db.string(), "--public-url", base, "--shl", "--json"});
    CAPTURE(made.err);
    REQUIRE(made.code == 0);
    auto j = json::parse(made.out);
    auto r = run_shcx({"share", "reveal", j["url"], "--pin", j["challenge"]});
    CHECK(r.code == 0);
    CHECK(r.out == read_file(kCard));

    write_file(env.dir / "note.txt", "not a card\n");
    auto text = run_shcx(
        {"share", "create", (env.dir / "note.txt").string(), "--db", env.db.string(), "--public-url", base, "--shl"});
    CHECK(text.code == 2);
    CHECK(contains(text.err, "SHARE_INVALID"));
    CHECK(contains(text.err, "text/plain"));
    CHECK(text.out.empty());

    // base + "/m/" + 22 characters must fit in 128.
    std::string long_base = base + "/" + std::string(128 - base.size() - 26, 'p');
    auto fits =
        run_shcx({"share", "create", kCard, "--db", env.db.string(), "--public-url", long_base, "--shl", "--json"});
    CAPTURE(fits.err);
    CHECK(fits.code == 0);
    CHECK(payload_of(json::parse(fits.out)["shlink"])["url"].get<std::string>().size() == 128);
    auto too_long = run_shcx(
        {"share", "create", kCard, "--db", env.db.string(), "--public-url", long_base + "q", "--shl", "--json"});
    CHECK(too_long.code == 2);
    CHECK(contains(too_long.err, "SHARE_INVALID"));
    CHECK(contains(too_long.err, "129 characters"));
    CHECK(too_long.out.empty());
    // A share made before its link was refused is not left live: the refused ones were
    // revoked.
    auto states = [&] {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open_v2(env.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "SELECT state, count(*) FROM shares GROUP BY state ORDER BY state", -1, &st,
                                   nullptr) == SQLITE_OK);
        std::string out;
        while (sqlite3_step(st) == SQLITE_ROW)
            out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) + "=" +
                   std::to_string(sqlite3_column_int(st, 1)) + " ";
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
    };
    auto long_label = run_shcx({"share", "create", kCard, "--db", env.db.string(), "--public-url", base, "--shl",
                                "--label", std::string(81, 'x')});
    CHECK(long_label.code == 2);
    CHECK(contains(long_label.err, "SHARE_INVALID"));
    CHECK(contains(long_label.err, "label"));
    CHECK(long_label.out.empty());
    CHECK(states() == "live=1 revoked=2 used=1 ");

    auto label = run_shcx({"share", "create", kCard, "--db", env.db.string(), "--public-url", base, "--label", "x"});
    CHECK(label.code == 2);
    CHECK(contains(label.err, "--label goes with --shl"));
}
