// Emergency shares end to end (docs/emergency.md): `share create --emergency` on the
// server's database, the three reads over real HTTP, status --json, revoke and rotate,
// and the printed QR surviving a blanked quarter.
#include <doctest/doctest.h>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "share_server.h"
#include "shcx/base64url.h"
#include "shcx/issue/qr_write.h"
#include "shcx/read/image.h"
#include "shcx/read/qr_read.h"
#include "shcx/share/crypto.h"
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
    RunResult create(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"share",        "create",
                                         "--db",         db.string(),
                                         "--public-url", server.url(),
                                         "--emergency",  (dir / "summary.json").string(),
                                         "--full",       (dir / "full.json").string(),
                                         "--json"};
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
    json status() {
        auto r = run_shcx({"share", "status", id, "--db", db.string(), "--json"});
        REQUIRE(r.code == 0);
        return json::parse(r.out);
    }
};

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
    // pattern and data; blanked white or black, level H restores it. A centred quarter
    // does not read (docs/emergency.md, "The QR"): it holds data only, more codewords
    // than level H can restore.
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
        auto centred = clean;
        paint_modules(centred, (sym.width - quarter.w) / 2, (sym.width - quarter.h) / 2, quarter.w, quarter.h, 255);
        CHECK(qr_read::read_qr_texts(centred).empty());
    }
}

TEST_CASE("emergency share CLI: break glass is rate-limited per address, the owner's resume restarts its count") {
    Emergency e;
    REQUIRE(e.create().code == 0);
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
