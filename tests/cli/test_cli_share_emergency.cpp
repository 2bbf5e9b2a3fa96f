// Emergency shares end to end (docs/emergency.md): `share create --emergency` on the
// server's database and through its HTTP API with a token, the three reads over real
// HTTP, status --json, revoke, rotate and resume, the API's refusals, and the printed QR
// surviving a blanked quarter.
#include <doctest/doctest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "share_server.h"
#include "shcx/base64url.h"
#include "shcx/issue/qr_write.h"
#include "shcx/read/image.h"
#include "shcx/read/qr_read.h"
#include "shcx/share/crypto.h"
#include "shcx/timeutil.h"
#include "support.h"

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

const std::string kSummary = "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[]}\n";
const std::string kFull = "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"entry\":[]}\n";

struct Emergency {
    TempDir dir;
    fs::path db = dir / "shares.db";
    ShareServer server{db, {"--reveal-limit", "1000"}};
    std::string url, pin, id;

    Emergency() {
        write_file(dir / "summary.json", kSummary);
        write_file(dir / "full.json", kFull);
    }
    // On the server's database, or where `owner` says (e.g. --server URL --token T).
    RunResult create(std::vector<std::string> extra = {}, std::vector<std::string> owner = {}) {
        if (owner.empty()) owner = {"--db", db.string(), "--public-url", server.url()};
        std::vector<std::string> args = {
            "share", "create", "--emergency", (dir / "summary.json").string(), "--full", (dir / "full.json").string(),
            "--json"};
        args.insert(args.end(), owner.begin(), owner.end());
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = run_shcx(args);
        if (r.code == 0) {
            auto j = json::parse(r.out);
            url = j["url"];
            pin = j["challenge"];
            id = j["id"];
        }
        return r;
    }
    // An API user's token.
    std::string user(const std::string& name) {
        auto r = run_shcx({"share", "user", "add", name, "--db", db.string()});
        REQUIRE(r.code == 0);
        return r.out.substr(0, r.out.find('\n'));
    }
    std::vector<std::string> remote(const std::string& token) const {
        return {"--server", server.url(), "--token", token};
    }
    RunResult reveal(const std::string& link, std::vector<std::string> how) const {
        std::vector<std::string> args = {"share", "reveal", link};
        args.insert(args.end(), how.begin(), how.end());
        return run_shcx(args);
    }
    json status() {
        auto r = run_shcx({"share", "status", id, "--db", db.string(), "--json"});
        REQUIRE(r.code == 0);
        return json::parse(r.out);
    }
};

const std::string kGone =
    "shcx: error: SHARE_NOT_FOUND: the link is not valid (unknown, expired, revoked or destroyed)\n";
const std::string kAttest = "Jo Bloggs; paramedic; unconscious";

}  // namespace

TEST_CASE("emergency share CLI: the emergency tier without a PIN, the full tier by PIN or break glass, all logged") {
    Emergency e;
    auto made = e.create({"--ttl", "5y", "--label", "Wristband"});
    REQUIRE(made.code == 0);
    CHECK(made.err == "");
    CHECK(e.url.rfind(e.server.url() + "/e/", 0) == 0);
    CHECK(e.pin.size() == 8);

    auto tier = run_shcx({"share", "reveal", e.url, "--tier", "emergency"});
    CHECK(tier.code == 0);
    CHECK(tier.out == kSummary);
    auto full = run_shcx({"share", "reveal", e.url, "--pin", e.pin});
    CHECK(full.code == 0);
    CHECK(full.out == kFull);
    auto glass = run_shcx({"share", "reveal", e.url, "--break-glass", "--attest", "Jo Bloggs; paramedic; unconscious"});
    CHECK(glass.code == 0);
    CHECK(glass.out == kFull);

    auto wrong = run_shcx({"share", "reveal", e.url, "--pin", "00000000"});
    CHECK(wrong.code == 1);
    CHECK(wrong.out == "");
    CHECK(wrong.err == "shcx: error: SHARE_WRONG_PIN: wrong PIN: 4 tries left\n");
    auto bad = run_shcx({"share", "reveal", e.url, "--break-glass", "--attest", "Jo Bloggs"});
    CHECK(bad.code == 2);
    CHECK(bad.err ==
          "shcx: error: SHARE_ATTESTATION_INVALID: an attestation is \"NAME; ROLE; REASON\": three non-empty parts, at "
          "most 300 bytes\n");
    auto lonely = run_shcx({"share", "reveal", e.url, "--break-glass"});
    CHECK(lonely.code == 2);
    CHECK(lonely.err == "shcx: error: USAGE: --break-glass goes with --attest \"NAME; ROLE; REASON\"\n");

    auto st = e.status();
    CHECK(st["state"] == "live");
    CHECK(st["emergency"]["label"] == "Wristband");
    CHECK(st["emergency"]["break_glass"]["uses"] == 1);
    auto accesses = st["emergency"]["accesses"];
    REQUIRE(accesses.size() == 3);
    CHECK(accesses[0]["tier"] == "emergency");
    CHECK(accesses[0]["via"] == "link");
    CHECK(accesses[0]["address"] == "127.0.0.1");
    CHECK(accesses[1]["via"] == "pin");
    CHECK(accesses[2]["via"] == "break-glass");
    CHECK(accesses[2]["attestation"] == "Jo Bloggs; paramedic; unconscious");
    CHECK(accesses[2]["user_agent"].get<std::string>().rfind("shcx/", 0) == 0);
    // The status never holds health data.
    CHECK(st.dump().find("resourceType") == std::string::npos);
}

TEST_CASE("emergency page: GET /e/{sid} is the same page for a live, a revoked and an unknown link") {
    Emergency e;
    REQUIRE(e.create().code == 0);
    std::string path = e.url.substr(e.server.url().size(), e.url.find('#') - e.server.url().size());
    REQUIRE(path.size() == 3 + 22);
    httplib::Client c(e.server.url());
    auto live = c.Get(path.c_str());
    REQUIRE(live);
    CHECK(live->status == 200);
    CHECK(live->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(contains(live->get_header_value("Content-Security-Policy"), "script-src 'self';"));
    CHECK(contains(live->body, "<script src=\"/static/emergency.js\"></script>"));
    CHECK(c.Get("/e/AAAAAAAAAAAAAAAAAAAAAA")->body == live->body);
    for (const char* file : {"/static/emergency.js", "/static/record.js", "/static/emergency.css"}) {
        auto r = c.Get(file);
        CAPTURE(file);
        CHECK(r->status == 200);
        CHECK(r->get_header_value("Content-Type") ==
              (contains(file, ".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8"));
    }
    // Not the shape of a sid: the dead-link page.
    auto odd = c.Get("/e/short");
    CHECK(odd->status == 404);
    auto dead_share = c.Post("/s/AAAAAAAAAAAAAAAAAAAAAA", "{\"challenge\":\"00000000\"}", "application/json");
    CHECK(dead_share->status == 404);
    CHECK(odd->body == dead_share->body);

    REQUIRE(run_shcx({"share", "revoke", e.id, "--db", e.db.string()}).code == 0);
    auto revoked = c.Get(path.c_str());
    CHECK(revoked->status == 200);
    CHECK(revoked->body == live->body);
    // The page's own read of a dead link: the same bytes as any dead share.
    auto read = c.Post(path.c_str(), "{\"tier\":\"emergency\"}", "application/json");
    CHECK(read->status == 404);
    CHECK(read->body == dead_share->body);
    // The server's log line cuts the sid, as for /s/ and /m/.
    std::string log = e.server.log();
    CHECK(contains(log, " GET " + path.substr(0, 7) + "... 200 "));
    CHECK(!contains(log, path.substr(3)));
}

TEST_CASE("emergency share CLI: --ttl past 5y and a missing --full are refused, nothing is created") {
    Emergency e;
    auto past = e.create({"--ttl", "6y"});
    CHECK(past.code == 2);
    CHECK(past.out == "");
    CHECK(past.err == "shcx: error: USAGE: --ttl must be more than 0 and at most 5y for an emergency share\n");
    auto half = run_shcx({"share", "create", "--db", e.db.string(), "--public-url", e.server.url(), "--emergency",
                          (e.dir / "summary.json").string()});
    CHECK(half.code == 2);
    CHECK(half.err == "shcx: error: USAGE: --emergency SUMMARY goes with --full RECORD\n");
}

TEST_CASE("emergency share CLI: revoke kills both tiers, rotate gives a new link and kills the old one") {
    Emergency e;
    REQUIRE(e.create().code == 0);
    std::string old_url = e.url, old_id = e.id;
    auto rotated =
        run_shcx({"share", "rotate", old_id, "--db", e.db.string(), "--public-url", e.server.url(), "--emergency",
                  (e.dir / "summary.json").string(), "--full", (e.dir / "full.json").string(), "--json"});
    REQUIRE(rotated.code == 0);
    CHECK(rotated.err == "shcx: revoked " + old_id + ": its link and QR no longer work\n");
    auto j = json::parse(rotated.out);
    std::string new_url = j["url"], new_id = j["id"];
    CHECK(new_url != old_url);
    const std::string gone =
        "shcx: error: SHARE_NOT_FOUND: the link is not valid (unknown, expired, revoked or destroyed)\n";
    auto old_tier = run_shcx({"share", "reveal", old_url, "--tier", "emergency"});
    CHECK(old_tier.code == 1);
    CHECK(old_tier.err == gone);
    CHECK(run_shcx({"share", "reveal", new_url, "--tier", "emergency"}).out == kSummary);

    auto revoked = run_shcx({"share", "revoke", new_id, "--db", e.db.string()});
    CHECK(revoked.code == 0);
    for (std::vector<std::string> how : {std::vector<std::string>{"--tier", "emergency"},
                                         std::vector<std::string>{"--pin", j["challenge"].get<std::string>()},
                                         std::vector<std::string>{"--break-glass", "--attest", "A; B; C"}}) {
        std::vector<std::string> args = {"share", "reveal", new_url};
        args.insert(args.end(), how.begin(), how.end());
        auto r = run_shcx(args);
        CHECK(r.code == 1);
        CHECK(r.err == gone);
    }
}

namespace {

// POST {base}/m/{sid} with `body`, as an SHL client does.
httplib::Result post_manifest(const std::string& base, const std::string& sid, const std::string& body) {
    httplib::Client c(base);
    c.set_connection_timeout(30);
    c.set_read_timeout(60);
    return c.Post(("/m/" + sid).c_str(), body, "application/json");
}

}  // namespace

TEST_CASE("emergency share as a SMART Health Link: flag L, no P, the emergency tier only, logged, dead when revoked") {
    Emergency e;
    auto made = e.create({"--label", "Wristband"});
    REQUIRE(made.code == 0);
    CHECK(made.err == "");
    auto j = json::parse(made.out);
    std::string shlink = j["shl"];
    REQUIRE(shlink.rfind("shlink:/", 0) == 0);
    auto decoded = base64url::decode(shlink.substr(8));
    REQUIRE(decoded);
    auto p = json::parse(*decoded);
    std::string sid = e.url.substr(e.server.url().size() + 3, 22);
    CHECK(p["url"] == e.server.url() + "/m/" + sid);
    CHECK(p["flag"] == "L");
    CHECK(p["label"] == "Wristband");
    CHECK(p["exp"].get<double>() == *timeutil::parse_time(j["expires_at"].get<std::string>()));
    // Its key is the emergency tier's: the first of the /e/ link's two.
    std::string fragment = e.url.substr(e.url.find('#') + 1);
    CHECK(p["key"] == fragment.substr(0, fragment.find('.')));
    auto emergency_key = base64url::decode(fragment.substr(0, fragment.find('.')));
    auto full_key = base64url::decode(fragment.substr(fragment.find('.') + 1));
    REQUIRE(emergency_key);
    REQUIRE(full_key);

    // The manifest holds the emergency tier and nothing else, with or without a passcode
    // (the PIN included: it opens the full tier on the page, never here).
    for (const std::string& body :
         {std::string(R"({"recipient":"test"})"), R"({"recipient":"test","passcode":")" + e.pin + "\"}"}) {
        auto r = post_manifest(e.server.url(), sid, body);
        REQUIRE(r);
        CHECK(r->status == 200);
        auto m = json::parse(r->body);
        REQUIRE(m["files"].size() == 1);
        CHECK(m["files"][0]["contentType"] == "application/fhir+json");
        std::string embedded = m["files"][0]["embedded"];
        auto tier = share::jwe_decrypt(*emergency_key, embedded);
        REQUIRE(tier);
        CHECK(tier.value().content_type == "application/fhir+json");
        CHECK(tier.value().plaintext == kSummary);
        CHECK_FALSE(share::jwe_decrypt(*full_key, embedded));
    }
    auto revealed = run_shcx({"share", "reveal", shlink});
    CHECK(revealed.code == 0);
    CHECK(revealed.err == "");
    CHECK(revealed.out == kSummary);
    // Each read is in the owner's access log as an emergency-tier read via "shl".
    auto accesses = e.status()["emergency"]["accesses"];
    REQUIRE(accesses.size() == 3);
    for (const auto& a : accesses) {
        CHECK(a["tier"] == "emergency");
        CHECK(a["via"] == "shl");
        CHECK(a["attestation"] == "");
    }

    // Without --json: an SHL line after the URL.
    auto text = run_shcx({"share", "create", "--emergency", (e.dir / "summary.json").string(), "--full",
                          (e.dir / "full.json").string(), "--db", e.db.string(), "--public-url", e.server.url()});
    REQUIRE(text.code == 0);
    CHECK(contains(text.out, "\nSHL:     shlink:/"));
    CHECK(contains(text.out, "   (the emergency tier only, for SMART Health Links apps)\nPIN:     "));

    // A rotation kills the old SHL with the old link; the new one works; a revoke kills it.
    const std::string shl_gone =
        "shcx: error: SHL_NOT_FOUND: the link is no longer active: expired, used up or "
        "revoked (HTTP 404 from " +
        e.server.url() + ")\n";
    auto rotated =
        run_shcx({"share", "rotate", e.id, "--db", e.db.string(), "--public-url", e.server.url(), "--emergency",
                  (e.dir / "summary.json").string(), "--full", (e.dir / "full.json").string(), "--json"});
    REQUIRE(rotated.code == 0);
    auto r = json::parse(rotated.out);
    std::string new_shlink = r["shl"];
    CHECK(new_shlink != shlink);
    auto old_read = run_shcx({"share", "reveal", shlink});
    CHECK(old_read.code == 1);
    CHECK(old_read.out == "");
    CHECK(old_read.err == shl_gone);
    CHECK(post_manifest(e.server.url(), sid, R"({"recipient":"test"})")->status == 404);
    CHECK(run_shcx({"share", "reveal", new_shlink}).out == kSummary);
    REQUIRE(run_shcx({"share", "revoke", r["id"], "--db", e.db.string()}).code == 0);
    auto dead = run_shcx({"share", "reveal", new_shlink});
    CHECK(dead.code == 1);
    CHECK(dead.out == "");
    CHECK(dead.err == shl_gone);
    std::string new_url = r["url"];
    CHECK(post_manifest(e.server.url(), new_url.substr(e.server.url().size() + 3, 22), R"({"recipient":"test"})")
              ->status == 404);
}

TEST_CASE("emergency share as a SMART Health Link: none when the emergency tier is not a card or FHIR JSON") {
    Emergency e;
    write_file(e.dir / "summary.json", "Allergies: penicillin\n");
    auto made = e.create();
    REQUIRE(made.code == 0);
    CHECK(made.err == "");
    CHECK_FALSE(json::parse(made.out).contains("shl"));
}

namespace {

// Paints a rectangle of whole modules (8 px each, after the 4-module quiet zone) in `shade`.
void paint_modules(image::Gray& img, int mx, int my, int w, int h, uint8_t shade) {
    for (int y = (4 + my) * 8; y < (4 + my + h) * 8; ++y)
        for (int x = (4 + mx) * 8; x < (4 + mx + w) * 8; ++x)
            img.pixels[static_cast<size_t>(y) * static_cast<size_t>(img.width) + static_cast<size_t>(x)] = shade;
}

// The bottom-right corner rectangle of whole modules, W/2 wide and just tall enough to
// cover a quarter of the W x W symbol (30 x 32 of 61 x 61: 25.8%).
struct Quarter {
    int x, y, w, h;
};
Quarter bottom_right_quarter(int width) {
    int w = width / 2, h = (width * width + 4 * w - 1) / (4 * w);
    return {width - w, width - h, w, h};
}

std::string random_b64u(size_t bytes) { return base64url::encode(share::random_bytes(bytes)); }

}  // namespace

TEST_CASE("emergency share CLI: the QR (level H) still reads with a quarter of the symbol blanked, white or black") {
    Emergency e;
    auto qr = e.dir / "wristband.png";
    REQUIRE(e.create({"--qr", qr.string()}).code == 0);
    auto printed = image::decode_gray(read_file(qr)).value();
    REQUIRE(qr_read::read_qr_texts(printed) == std::vector<std::string>{e.url});
    int width = printed.width / 8 - 8;  // modules, without the quiet zone
    auto q = bottom_right_quarter(width);
    CHECK(q.w * q.h * 4 >= width * width);
    paint_modules(printed, q.x, q.y, q.w, q.h, 255);
    CHECK(qr_read::read_qr_texts(printed) == std::vector<std::string>{e.url});
    // The link read from the damaged QR opens the emergency tier.
    auto tier = run_shcx({"share", "reveal", e.url, "--tier", "emergency"});
    CHECK(tier.out == kSummary);

    // 20 more links of the same shape on two kinds of public URL (versions 11 and 12),
    // drawn as `share create --qr` draws them. The bottom-right quarter holds an alignment
    // pattern and data; blanked white or black, level H restores it. (A centred quarter
    // mostly does not read, docs/emergency.md "The QR"; whether one link does depends on
    // its bits, so that is measured there, not asserted here.)
    for (int i = 0; i < 20; ++i) {
        std::string base = i % 2 ? "https://shares.example.org" : "http://127.0.0.1:40123";
        std::string link = base + "/e/" + random_b64u(16) + "#" + random_b64u(32) + "." + random_b64u(32);
        auto sym = qr_write::encode_text(link, qr_write::Ecc::H).value();
        CHECK(sym.version == (i % 2 ? 12 : 11));
        auto clean = image::decode_gray(qr_write::render_png({sym}, 8)).value();
        auto quarter = bottom_right_quarter(sym.width);
        for (uint8_t shade : {uint8_t{255}, uint8_t{0}}) {
            auto img = clean;
            paint_modules(img, quarter.x, quarter.y, quarter.w, quarter.h, shade);
            CAPTURE(link);
            CAPTURE(int{shade});
            CHECK(qr_read::read_qr_texts(img) == std::vector<std::string>{link});
        }
    }
}

TEST_CASE("emergency share CLI: break glass is rate-limited per address, the owner's resume restarts its count") {
    Emergency e;
    REQUIRE(e.create().code == 0);
    wait_for_minute_room(30);  // the three reads below must fall in one limit window
    // Two break-glass reads a minute from one address (the pause after 3 uses is tested
    // on both stores in share_emergency_cases.h, with an injected clock).
    for (int i = 0; i < 2; ++i)
        CHECK(run_shcx({"share", "reveal", e.url, "--break-glass", "--attest", "A; B; C"}).code == 0);
    auto limited = run_shcx({"share", "reveal", e.url, "--break-glass", "--attest", "A; B; C"});
    CHECK(limited.code == 1);
    CHECK(limited.err.rfind("shcx: error: SHARE_RATE_LIMITED: too many requests; retry in ", 0) == 0);
    auto resumed = run_shcx({"share", "resume", e.id, "--db", e.db.string()});
    CHECK(resumed.code == 0);
    CHECK(resumed.out == "Break glass works again on " + e.id + "\n");
    auto unknown = run_shcx({"share", "resume", "nosuchshare00000", "--db", e.db.string()});
    CHECK(unknown.code == 1);
    CHECK(unknown.err == "shcx: error: SHARE_NOT_FOUND: no live emergency share with id nosuchshare00000\n");
    CHECK(e.status()["emergency"]["break_glass"]["uses"] == 0);
    CHECK(e.status()["emergency"]["accesses"].size() == 2);
}

TEST_CASE("emergency share over the HTTP API: create with a token, the three reads, status, resume, revoke") {
    Emergency e;
    std::string alice = e.user("alice");
    auto made = e.create({"--ttl", "5y", "--label", "Wristband"}, e.remote(alice));
    CAPTURE(made.err);
    REQUIRE(made.code == 0);
    CHECK(made.err == "");
    auto j = json::parse(made.out);
    CHECK(j["kind"] == "emergency");
    CHECK(j["label"] == "Wristband");
    CHECK(e.url.rfind(e.server.url() + "/e/", 0) == 0);
    CHECK(e.pin.size() == 8);
    // The server holds neither tier in the clear, nor a key from the link.
    CHECK_FALSE(contains(read_file(e.db), "resourceType"));

    CHECK(e.reveal(e.url, {"--tier", "emergency"}).out == kSummary);
    CHECK(e.reveal(e.url, {"--pin", e.pin}).out == kFull);
    auto glass = e.reveal(e.url, {"--break-glass", "--attest", kAttest});
    CHECK(glass.code == 0);
    CHECK(glass.out == kFull);

    auto st = run_shcx({"share", "status", e.id, "--server", e.server.url(), "--token", alice, "--json"});
    REQUIRE(st.code == 0);
    auto status = json::parse(st.out);
    CHECK(status["state"] == "live");
    CHECK(status["emergency"]["label"] == "Wristband");
    CHECK(status["emergency"]["break_glass"]["uses"] == 1);
    REQUIRE(status["emergency"]["accesses"].size() == 3);
    CHECK(status["emergency"]["accesses"][2]["attestation"] == kAttest);

    auto resumed = run_shcx({"share", "resume", e.id, "--server", e.server.url(), "--token", alice});
    CHECK(resumed.code == 0);
    CHECK(resumed.out == "Break glass works again on " + e.id + "\n");
    CHECK(e.status()["emergency"]["break_glass"]["uses"] == 0);

    auto revoked = run_shcx({"share", "revoke", e.id, "--server", e.server.url(), "--token", alice});
    CHECK(revoked.code == 0);
    CHECK(revoked.out == "Revoked " + e.id + "\n");
    for (std::vector<std::string> how :
         {std::vector<std::string>{"--tier", "emergency"}, std::vector<std::string>{"--pin", e.pin},
          std::vector<std::string>{"--break-glass", "--attest", kAttest}}) {
        auto r = e.reveal(e.url, how);
        CHECK(r.code == 1);
        CHECK(r.err == kGone);
    }
    CHECK(e.status()["state"] == "revoked");
}

TEST_CASE("emergency share over the HTTP API: rotate kills the old link, another user can neither rotate nor revoke") {
    Emergency e;
    std::string alice = e.user("alice"), bob = e.user("bob");
    REQUIRE(e.create({"--label", "Wallet card"}, e.remote(alice)).code == 0);
    std::string old_url = e.url, old_id = e.id, old_pin = e.pin;
    std::string old_expiry = e.status()["expires_at"];

    // Bob is refused everything on Alice's share, as if it did not exist, and it lives on.
    auto rotate = [&](const std::string& token, const std::string& id) {
        return run_shcx({"share", "rotate", id, "--emergency", (e.dir / "summary.json").string(), "--full",
                         (e.dir / "full.json").string(), "--json", "--server", e.server.url(), "--token", token});
    };
    auto stolen = rotate(bob, old_id);
    CHECK(stolen.code == 1);
    CHECK(stolen.out == "");
    CHECK(stolen.err == "shcx: error: SHARE_NOT_FOUND: no live emergency share with id " + old_id + "\n");
    // (revoke and status exit 2 on SHARE_NOT_FOUND, as they do for every share.)
    auto bob_revoke = run_shcx({"share", "revoke", old_id, "--server", e.server.url(), "--token", bob});
    CHECK(bob_revoke.code == 2);
    CHECK(bob_revoke.err == "shcx: error: SHARE_NOT_FOUND: no live share with id " + old_id + "\n");
    auto bob_resume = run_shcx({"share", "resume", old_id, "--server", e.server.url(), "--token", bob});
    CHECK(bob_resume.code == 1);
    CHECK(bob_resume.err == "shcx: error: SHARE_NOT_FOUND: no live emergency share with id " + old_id + "\n");
    auto bob_status = run_shcx({"share", "status", old_id, "--server", e.server.url(), "--token", bob});
    CHECK(bob_status.code == 2);
    CHECK(bob_status.err == "shcx: error: SHARE_NOT_FOUND: status of " + old_id + ": not found\n");
    CHECK(e.reveal(old_url, {"--tier", "emergency"}).out == kSummary);

    auto rotated = rotate(alice, old_id);
    CAPTURE(rotated.err);
    REQUIRE(rotated.code == 0);
    CHECK(rotated.err == "shcx: revoked " + old_id + ": its link and QR no longer work\n");
    auto j = json::parse(rotated.out);
    std::string new_url = j["url"], new_id = j["id"], new_pin = j["challenge"];
    CHECK(new_id != old_id);
    CHECK(new_url != old_url);
    CHECK(j["label"] == "Wallet card");
    CHECK(j["expires_at"] == old_expiry);
    for (std::vector<std::string> how :
         {std::vector<std::string>{"--tier", "emergency"}, std::vector<std::string>{"--pin", old_pin},
          std::vector<std::string>{"--break-glass", "--attest", kAttest}}) {
        auto r = e.reveal(old_url, how);
        CHECK(r.code == 1);
        CHECK(r.err == kGone);
    }
    CHECK(e.reveal(new_url, {"--tier", "emergency"}).out == kSummary);
    CHECK(e.reveal(new_url, {"--pin", new_pin}).out == kFull);
    // The old one cannot be rotated again, nor an ordinary share.
    auto again = rotate(alice, old_id);
    CHECK(again.code == 1);
    CHECK(again.err == "shcx: error: SHARE_NOT_FOUND: no live emergency share with id " + old_id + "\n");
}

TEST_CASE("emergency share over the HTTP API: no token 401, ttl past 5 years, oversized bodies 413, the create limit") {
    Emergency e;
    std::string alice = e.user("alice");
    httplib::Client c(e.server.url());
    c.set_read_timeout(60);
    httplib::Headers auth{{"Authorization", "Bearer " + alice}};
    const std::string jwe = "eyJhbGciOiJkaXIifQ..iv.ct.tag";
    auto body = [&](long ttl) { return json{{"emergency", jwe}, {"full", jwe}, {"ttl", ttl}}.dump(); };

    auto anonymous = c.Post("/api/v1/emergency", body(3600), "application/json");
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    CHECK(anonymous->body == "{\"error\":\"unauthorized\"}\n");
    for (const char* path : {"/api/v1/shares/AAAAAAAAAAAAAAAA/rotate", "/api/v1/shares/AAAAAAAAAAAAAAAA/resume"}) {
        auto r = c.Post(path, body(3600), "application/json");
        REQUIRE(r);
        CHECK(r->status == 401);
    }
    auto no_token = e.create({}, {"--server", e.server.url()});
    CHECK(no_token.code == 2);
    CHECK(no_token.err == "shcx: error: USAGE: --token (or $SHCX_SHARE_TOKEN) is required with --server\n");
    auto bad_token = e.create({}, e.remote("not-a-token"));
    CHECK(bad_token.code == 2);
    CHECK(bad_token.err == "shcx: error: SHARE_UNAUTHORIZED: create: the server refused the API token\n");

    // Five years (and the day of slack in kMaxEmergencyTtlSeconds) at most, checked by the server.
    auto ok = c.Post("/api/v1/emergency", auth, body(5L * 365 * 86400), "application/json");
    REQUIRE(ok);
    CHECK(ok->status == 201);
    auto too_long = c.Post("/api/v1/emergency", auth, body(5L * 365 * 86400 + 2 * 86400), "application/json");
    REQUIRE(too_long);
    CHECK(too_long->status == 400);
    CHECK(too_long->body ==
          "{\"error\":\"invalid\",\"message\":\"an emergency share lives more than 0 seconds and at most 5 years\"}\n");
    auto no_ttl = c.Post("/api/v1/emergency", auth, json{{"emergency", jwe}, {"full", jwe}}.dump(), "application/json");
    REQUIRE(no_ttl);
    CHECK(no_ttl->status == 400);
    auto cli_too_long = e.create({"--ttl", "6y"}, e.remote(alice));
    CHECK(cli_too_long.code == 2);
    CHECK(cli_too_long.err == "shcx: error: USAGE: --ttl must be more than 0 and at most 5y for an emergency share\n");

    // Both tiers together: 1.5 MiB at most through the API (413 from the API), and a body
    // past the server's request limit is refused before it is read (413 from the server).
    auto big =
        c.Post("/api/v1/emergency", auth,
               json{{"emergency", std::string(800000, 'a')}, {"full", std::string(800000, 'b')}, {"ttl", 60}}.dump(),
               "application/json");
    REQUIRE(big);
    CHECK(big->status == 413);
    CHECK(json::parse(big->body)["error"] == "too_large");
    auto huge = c.Post("/api/v1/emergency", auth,
                       json{{"emergency", std::string(1200000, 'a')}, {"full", std::string(1200000, 'b')}}.dump(),
                       "application/json");
    if (huge) {  // the server may close the connection while the client is still sending
        CHECK(huge->status == 413);
        CHECK(huge->body == "{\"error\":\"too_large\"}\n");
    }
    write_file(e.dir / "big-summary.txt", std::string(600000, 's'));
    write_file(e.dir / "big-full.txt", std::string(600000, 'f'));
    auto cli_big = run_shcx({"share", "create", "--emergency", (e.dir / "big-summary.txt").string(), "--full",
                             (e.dir / "big-full.txt").string(), "--server", e.server.url(), "--token", alice});
    CHECK(cli_big.code == 2);
    CHECK(cli_big.out == "");
    CHECK(cli_big.err ==
          "shcx: error: INPUT_TOO_LARGE: create: the server refused the request as too large (the two tiers together "
          "are at most 1.5 MiB of client-encrypted JWE)\n");
}

TEST_CASE("emergency share over the HTTP API: the per-user create limit counts emergency shares and rotations") {
    TempDir dir;
    auto db = dir / "shares.db";
    ShareServer server(db, {"--create-limit", "2"});
    write_file(dir / "summary.json", kSummary);
    write_file(dir / "full.json", kFull);
    auto user = run_shcx({"share", "user", "add", "carol", "--db", db.string()});
    REQUIRE(user.code == 0);
    std::string token = user.out.substr(0, user.out.find('\n'));
    std::vector<std::string> tiers = {"--emergency", (dir / "summary.json").string(),
                                      "--full",      (dir / "full.json").string(),
                                      "--server",    server.url(),
                                      "--token",     token,
                                      "--json"};
    auto create = [&] {
        std::vector<std::string> args = {"share", "create"};
        args.insert(args.end(), tiers.begin(), tiers.end());
        return run_shcx(args);
    };
    auto minute = [] {
        return std::chrono::duration_cast<std::chrono::minutes>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    auto first_minute = minute();
    auto first = create();
    REQUIRE(first.code == 0);
    std::vector<std::string> rotate = {"share", "rotate", json::parse(first.out)["id"]};
    rotate.insert(rotate.end(), tiers.begin(), tiers.end());
    REQUIRE(run_shcx(rotate).code == 0);
    auto third = create();
    if (minute() != first_minute) return;  // a new window began between the requests: nothing to check
    CHECK(third.code == 1);
    CHECK(third.out == "");
    CHECK(third.err == "shcx: error: SHARE_RATE_LIMITED: create: at most 2 shares per minute; retry after 60 s\n");
}

TEST_CASE("emergency share over the HTTP API: a QR that cannot be written revokes a new share, not a rotated one") {
    Emergency e;
    std::string alice = e.user("alice");
    const std::string nowhere = (e.dir / "missing" / "band.png").string();
    const std::string cannot =
        "shcx: error: IO_ERROR: cannot create a file next to " + nowhere + ": No such file or directory\n";
    auto made = e.create({"--qr", nowhere}, e.remote(alice));
    CHECK(made.code == 2);
    CHECK(made.out == "");
    CHECK(made.err == cannot);
    auto count = [&](const std::string& state) {
        sqlite3* h = nullptr;
        REQUIRE(sqlite3_open_v2(e.db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
        sqlite3_stmt* q = nullptr;
        sqlite3_prepare_v2(h, "SELECT count(*) FROM shares WHERE state = ?", -1, &q, nullptr);
        sqlite3_bind_text(q, 1, state.c_str(), -1, SQLITE_TRANSIENT);
        int n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
        sqlite3_finalize(q);
        sqlite3_close(h);
        return n;
    };
    CHECK(count("live") == 0);  // the link nobody was shown is dead
    CHECK(count("revoked") == 1);

    // A rotation has killed the old link already: the new one is printed without its QR.
    REQUIRE(e.create({}, e.remote(alice)).code == 0);
    auto rotated = run_shcx({"share", "rotate", e.id, "--emergency", (e.dir / "summary.json").string(), "--full",
                             (e.dir / "full.json").string(), "--json", "--qr", nowhere, "--server", e.server.url(),
                             "--token", alice});
    CHECK(rotated.code == 2);
    CHECK(rotated.err == "shcx: revoked " + e.id + ": its link and QR no longer work\n" + cannot);
    auto j = json::parse(rotated.out);
    CHECK(e.reveal(j["url"], {"--tier", "emergency"}).out == kSummary);
    CHECK(count("live") == 1);
}
