// The share protocol over a real SQLite database with an injected clock: counters,
// expiry at the boundary, concurrency, rate limits, and wiping.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "shcx/share/service.h"
#include "support.h"

using namespace shcx;
using namespace shcx::share;

namespace {

struct FakeClock final : Clock {
    std::atomic<double> t{1800000000.0};
    double now() const override { return t; }
};

struct Fixture {
    test::TempDir dir;
    std::string db = (dir / "shares.db").string();
    std::unique_ptr<Store> store = open_sqlite_store(db).value();
    FakeClock clock;
    Service service{*store, clock, config()};
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
    std::string sealed_of(const std::string& id) {
        sqlite3* h = nullptr;
        sqlite3_open(db.c_str(), &h);
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(h, "SELECT sealed FROM shares WHERE id = ?", -1, &s, nullptr);
        sqlite3_bind_text(s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
        std::string out;
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_blob(s, 0))
            out.assign(static_cast<const char*>(sqlite3_column_blob(s, 0)), static_cast<size_t>(sqlite3_column_bytes(s, 0)));
        sqlite3_finalize(s);
        sqlite3_close(h);
        return out;
    }
    // True if any 32-byte piece of `blob` occurs in the database file or its WAL (a
    // blob larger than a page is not stored contiguously, so look for pieces).
    bool on_disk(const std::string& blob) {
        std::string files;
        for (const auto& f : {db, db + "-wal"})
            if (test::fs::exists(f)) files += test::read_file(f);
        for (size_t at = 0; at + 32 <= blob.size(); at += 32)
            if (files.find(blob.substr(at, 32)) != std::string::npos) return true;
        return false;
    }
};

}  // namespace

TEST_CASE("create then reveal returns the exact bytes, a second reveal is gone") {
    Fixture f;
    auto c = f.create("eyJhbGciOiJkaXIifQ..content");
    CHECK(c.sid.size() == 22);
    CHECK(c.pin.str().size() == 8);
    auto r = f.service.reveal(c.sid, c.pin.str(), "127.0.0.1");
    CHECK(r.outcome == RevealOutcome::Revealed);
    CHECK(r.content == "eyJhbGciOiJkaXIifQ..content");
    CHECK(f.service.reveal(c.sid, c.pin.str(), "127.0.0.1").outcome == RevealOutcome::Gone);
    auto st = f.service.status(c.id, f.owner).value();
    CHECK(st.record.state == "used");
    CHECK(st.record.fails_left == 5);  // the successful attempt was refunded
    REQUIRE(st.events.size() == 2);
    CHECK(st.events[0].event == "created");
    CHECK(st.events[1].event == "revealed");
    CHECK(st.events[1].client.size() == 16);     // an HMAC tag,
    CHECK(st.events[1].client != "127.0.0.1");  // never the address
}

TEST_CASE("--reveals 3 allows exactly three reveals, PIN input is normalised") {
    Fixture f;
    auto c = f.create("x", 3);
    std::string lower = c.pin.str();
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(ch));
    CHECK(f.service.reveal(c.sid, lower, "a").outcome == RevealOutcome::Revealed);
    CHECK(f.service.reveal(c.sid, c.pin.str().substr(0, 4) + " " + c.pin.str().substr(4), "a").outcome ==
          RevealOutcome::Revealed);
    CHECK(f.service.reveal(c.sid, c.pin.str(), "a").outcome == RevealOutcome::Revealed);
    CHECK(f.service.reveal(c.sid, c.pin.str(), "a").outcome == RevealOutcome::Gone);
}

TEST_CASE("five wrong PINs destroy the share, the right PIN afterwards finds nothing") {
    Fixture f;
    auto c = f.create();
    std::string sealed = f.sealed_of(c.id);
    REQUIRE(sealed.size() > 16);
    for (int i = 0; i < 5; ++i) CHECK(f.service.reveal(c.sid, "WRONG000", "x").outcome == RevealOutcome::WrongPin);
    CHECK(f.service.reveal(c.sid, "WRONG000", "x").outcome == RevealOutcome::Gone);
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Gone);
    auto st = f.service.status(c.id, f.owner).value();
    CHECK(st.record.state == "destroyed");
    CHECK(st.events.back().event == "destroyed");
    CHECK_FALSE(f.on_disk(sealed));
}

TEST_CASE("a malformed PIN is not charged, looking at a share never consumes it") {
    Fixture f;
    auto c = f.create();
    for (const char* bad : {"", "short", "WAY-TOO-LONG-PIN", "ABC!2345"})
        CHECK(f.service.reveal(c.sid, bad, "x").outcome == RevealOutcome::MalformedPin);
    for (int i = 0; i < 50; ++i) CHECK(f.service.is_live(c.sid));
    CHECK(f.service.status(c.id, f.owner)->record.fails_left == 5);
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Revealed);
    CHECK_FALSE(f.service.is_live(c.sid));
}

TEST_CASE("expiry is exact: live until expires_at, gone at it") {
    Fixture f;
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
    Fixture f;
    CHECK(f.service.create(f.owner, "x", 1, 6 * 3600).ok());
    CHECK(f.service.create(f.owner, "x", 1, 6 * 3600 + 1).error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create(f.owner, "x", 0, 60).error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create(f.owner, "x", 101, 60).error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create(f.owner, "", 1, 60).error().code == ErrorCode::SHARE_INVALID);
}

TEST_CASE("the 11th create in a minute is refused, the next minute allows more") {
    Fixture f;
    f.clock.t = 1800000000.0 - std::fmod(1800000000.0, 60.0) + 5;  // early in a minute
    for (int i = 0; i < 10; ++i) REQUIRE(f.service.create(f.owner, "x", 1, 60).ok());
    CHECK(f.service.create(f.owner, "x", 1, 60).error().code == ErrorCode::SHARE_RATE_LIMITED);
    int64_t other = f.store->add_user("bob", "bob-token-hash").value();
    CHECK(f.service.create(other, "x", 1, 60).ok());  // per user
    f.clock.t = f.clock.t + 60;
    CHECK(f.service.create(f.owner, "x", 1, 60).ok());
}

TEST_CASE("revoke kills a live share for its owner only, and wipes it") {
    Fixture f;
    auto c = f.create();
    std::string sealed = f.sealed_of(c.id);
    int64_t other = f.store->add_user("mallory", "m-hash").value();
    CHECK_FALSE(f.service.revoke(c.id, other, "x"));
    CHECK_FALSE(f.service.status(c.id, other).has_value());
    CHECK(f.service.revoke(c.id, f.owner, "x"));
    CHECK_FALSE(f.service.revoke(c.id, f.owner, "x"));
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Gone);
    CHECK(f.service.status(c.id, f.owner)->events.back().event == "revoked");
    CHECK_FALSE(f.on_disk(sealed));
}

TEST_CASE("after reveal, expiry (sweeper) and revocation, neither the sealed blob nor the content is on disk") {
    Fixture f;
    std::string content = "CONTENT-" + std::string(5000, 'z');  // spans overflow pages
    auto revealed = f.create(content);
    auto expired = f.create(content, 1, 60);
    auto revoked = f.create(content);
    std::string s1 = f.sealed_of(revealed.id), s2 = f.sealed_of(expired.id), s3 = f.sealed_of(revoked.id);
    CHECK(f.on_disk(s1));  // the check can see a blob that is there
    CHECK_FALSE(f.on_disk(content));  // content is only ever stored sealed
    REQUIRE(f.service.reveal(revealed.sid, revealed.pin.str(), "x").outcome == RevealOutcome::Revealed);
    f.clock.t = f.clock.t + 61;
    CHECK(f.service.sweep() == 1);
    CHECK(f.service.status(expired.id, f.owner)->events.back().event == "expired");
    REQUIRE(f.service.revoke(revoked.id, f.owner, "x"));
    for (const auto* s : {&s1, &s2, &s3}) CHECK_FALSE(f.on_disk(*s));
}

TEST_CASE("200 concurrent correct PINs on a one-reveal share: exactly one reveal") {
    Fixture f;
    auto c = f.create();
    std::atomic<int> revealed{0}, gone{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 200; ++i)
        threads.emplace_back([&] {
            auto r = f.service.reveal(c.sid, c.pin.str(), "x");
            (r.outcome == RevealOutcome::Revealed ? revealed : gone)++;
        });
    for (auto& t : threads) t.join();
    CHECK(revealed == 1);
    CHECK(gone == 199);
}

TEST_CASE("1000 concurrent wrong PINs: at most 5 KDF evaluations, then the share is destroyed") {
    Fixture f;
    auto c = f.create();
    uint64_t before = f.service.kdf_evaluations();
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 1000; ++i)
        threads.emplace_back([&] {
            if (f.service.reveal(c.sid, "AAAA0000", "x").outcome == RevealOutcome::WrongPin) ++wrong;
        });
    for (auto& t : threads) t.join();
    CHECK(f.service.kdf_evaluations() - before <= 5);
    CHECK(wrong == 5);
    CHECK(f.service.status(c.id, f.owner)->record.state == "destroyed");
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Gone);
}
