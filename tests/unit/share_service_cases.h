// The share protocol's test cases, run on every store: test_share_service.cpp includes
// this with a SQLite Fixture, test_pg_store.cpp with a PostgreSQL one (ctest label
// postgresql), so both backends are held to the same outcomes. A Fixture provides:
//   Fixture(), Fixture(ServiceConfig), static ServiceConfig config()
//   test::TempDir dir; std::unique_ptr<Store> store; FakeClock clock (atomic t);
//   Service service; int64_t owner (the local user); Created create(content, reveals, ttl)
//   std::string sealed_of(id)      the share's sealed column now ("" when wiped)
//   bool wiped(sealed)             no copy of these bytes is left where the store keeps data
//                                  (SQLite: the file and its -wal; PostgreSQL: any row)
//   bool holds(text)               the text is stored anywhere (SQLite: raw file bytes;
//                                  PostgreSQL: any row of any share table, also as hex)
//   std::unique_ptr<Store> open_again()   another store (= server process) on the database
// Include only from a test .cpp, after the Fixture, FakeClock and doctest.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "shcx/digest.h"
#include "shcx/share/api.h"
#include "shcx/share/pepper.h"
#include "shcx/share/service.h"
#include "support.h"

namespace share_cases {
inline unsigned file_mode(const std::string& path) {
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}
}  // namespace share_cases

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
    CHECK(st.record.attempts_left() == 5);  // the successful attempt was refunded
    CHECK(st.record.fails_burned == 0);
    REQUIRE(st.events.size() == 2);
    CHECK(st.events[0].event == "created");
    CHECK(st.events[1].event == "revealed");
    CHECK(st.events[1].client.size() == 16);    // an HMAC tag,
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
    for (int i = 0; i < 5; ++i) {
        auto r = f.service.reveal(c.sid, "WRONG000", "x");
        CHECK(r.outcome == RevealOutcome::WrongPin);
        CHECK(r.attempts_left == 4 - i);  // the last one says 0: destroyed
    }
    CHECK(f.service.reveal(c.sid, "WRONG000", "x").outcome == RevealOutcome::Gone);
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Gone);
    auto st = f.service.status(c.id, f.owner).value();
    CHECK(st.record.state == "destroyed");
    CHECK(st.events.back().event == "destroyed");
    CHECK(f.wiped(sealed));
}

TEST_CASE("a malformed PIN is not charged, looking at a share never consumes it") {
    Fixture f;
    auto c = f.create();
    for (const char* bad : {"", "short", "WAY-TOO-LONG-PIN", "ABC!2345", "ABCD234U"})
        CHECK(f.service.reveal(c.sid, bad, "x").outcome == RevealOutcome::MalformedPin);
    for (int i = 0; i < 50; ++i) CHECK(f.service.is_live(c.sid));
    CHECK(f.service.status(c.id, f.owner)->record.attempts_left() == 5);
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
    CHECK(f.service.status(b.id, f.owner)->record.attempts_left() == 5);  // nothing charged on a dead share
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
    int64_t other = f.store->add_user("bob", "bob-token-hash", f.clock.t, std::nullopt).value();
    CHECK(f.service.create(other, "x", 1, 60).ok());  // per user
    f.clock.t = f.clock.t + 60;
    CHECK(f.service.create(f.owner, "x", 1, 60).ok());
}

TEST_CASE("revoke kills a live share for its owner only, and wipes it") {
    Fixture f;
    auto c = f.create();
    std::string sealed = f.sealed_of(c.id);
    int64_t other = f.store->add_user("mallory", "m-hash", f.clock.t, std::nullopt).value();
    CHECK_FALSE(f.service.revoke(c.id, other, "x"));
    CHECK_FALSE(f.service.status(c.id, other).has_value());
    CHECK(f.service.revoke(c.id, f.owner, "x"));
    CHECK_FALSE(f.service.revoke(c.id, f.owner, "x"));
    CHECK(f.service.reveal(c.sid, c.pin.str(), "x").outcome == RevealOutcome::Gone);
    CHECK(f.service.status(c.id, f.owner)->events.back().event == "revoked");
    CHECK(f.wiped(sealed));
}

TEST_CASE("after reveal, expiry (sweeper) and revocation, neither the sealed blob nor the content is stored") {
    Fixture f;
    std::string content = "CONTENT-" + std::string(5000, 'z');  // spans overflow pages
    auto revealed = f.create(content);
    auto expired = f.create(content, 1, 60);
    auto revoked = f.create(content);
    std::string s1 = f.sealed_of(revealed.id), s2 = f.sealed_of(expired.id), s3 = f.sealed_of(revoked.id);
    CHECK_FALSE(f.wiped(s1));       // the check can see a blob that is there
    CHECK_FALSE(f.holds(content));  // content is only ever stored sealed
    REQUIRE(f.service.reveal(revealed.sid, revealed.pin.str(), "x").outcome == RevealOutcome::Revealed);
    f.clock.t = f.clock.t + 61;
    CHECK(f.service.sweep() == 1);
    CHECK(f.service.status(expired.id, f.owner)->events.back().event == "expired");
    REQUIRE(f.service.revoke(revoked.id, f.owner, "x"));
    for (const auto* s : {&s1, &s2, &s3}) CHECK(f.wiped(*s));
    CHECK_FALSE(f.holds(content));
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

TEST_CASE("10 simultaneous right PINs on a 20-reveal share: all 10 are revealed, no attempt is burned") {
    for (int round = 0; round < 5; ++round) {
        Fixture f;
        auto c = f.create("twenty", 20);
        std::atomic<int> revealed{0}, other{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 10; ++i)
            threads.emplace_back([&] {
                auto r = f.service.reveal(c.sid, c.pin.str(), "x");
                (r.outcome == RevealOutcome::Revealed && r.content == "twenty" ? revealed : other)++;
            });
        for (auto& t : threads) t.join();
        CAPTURE(round);
        CHECK(revealed == 10);
        CHECK(other == 0);
        auto st = f.service.status(c.id, f.owner).value();
        CHECK(st.record.reveals_left == 10);
        CHECK(st.record.attempts_left() == 5);
        CHECK(st.record.state == "live");
    }
}

TEST_CASE("right PINs racing 4 wrong PINs never destroy the share: 4 burned, every right PIN revealed") {
    for (int round = 0; round < 5; ++round) {
        Fixture f;
        auto c = f.create("x", 20);
        std::atomic<int> revealed{0}, wrong{0}, other{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 14; ++i)
            threads.emplace_back([&, i] {
                auto r = f.service.reveal(c.sid, i % 3 == 0 && i < 12 ? "WRONG000" : c.pin.str(), "x");
                (r.outcome == RevealOutcome::Revealed   ? revealed
                 : r.outcome == RevealOutcome::WrongPin ? wrong
                                                        : other)++;
            });
        for (auto& t : threads) t.join();
        CAPTURE(round);
        CHECK(wrong == 4);
        CHECK(revealed == 10);
        CHECK(other == 0);
        auto st = f.service.status(c.id, f.owner).value();
        CHECK(st.record.state == "live");
        CHECK(st.record.fails_burned == 4);
        CHECK(st.record.attempts_left() == 1);
    }
}

TEST_CASE(
    "a server that dies holding every attempt of a share: Busy (429) until its leases lapse, then the right PIN "
    "works") {
    ServiceConfig cfg = Fixture::config();
    cfg.lease_wait_seconds = 0.2;
    Fixture f(cfg);
    auto c = f.create("survives", 2);
    // A crashed server's requests: attempts leased, never ended.
    for (int i = 0; i < 5; ++i)
        REQUIRE(f.store->precharge(digest::sha256(c.sid), f.clock.t, f.clock.t + cfg.lease_seconds).status ==
                Lease::Status::Granted);
    CHECK(f.store->precharge(digest::sha256(c.sid), f.clock.t, f.clock.t + 30).status == Lease::Status::Busy);
    auto busy = f.service.reveal(c.sid, c.pin.str(), "x");
    CHECK(busy.outcome == RevealOutcome::Busy);
    CHECK(busy.retry_after == 30);
    CHECK(f.service.reveal(c.sid, "WRONG000", "x").outcome == RevealOutcome::Busy);  // nothing burned either
    // The owner sees no attempt lost: leases are not burned attempts.
    CHECK(f.service.status(c.id, f.owner)->record.attempts_left() == 5);
    // A restarted server on the same database, after the leases lapsed.
    auto reopened = f.open_again();
    Service restarted(*reopened, f.clock, cfg);
    f.clock.t = f.clock.t + cfg.lease_seconds;
    auto r = restarted.reveal(c.sid, c.pin.str(), "x");
    CHECK(r.outcome == RevealOutcome::Revealed);
    CHECK(r.content == "survives");
    CHECK(restarted.status(c.id, f.owner)->record.attempts_left() == 5);
    CHECK(restarted.sweep() == 0);
    CHECK(restarted.reveal(c.sid, "WRONG000", "x").attempts_left == 4);
}

TEST_CASE("share leases: a wrong PIN whose lease lapsed still burns an attempt, a stale lease id ends nothing else") {
    Fixture f;
    auto c = f.create();
    std::string h = digest::sha256(c.sid);
    auto first = f.store->precharge(h, f.clock.t, f.clock.t + 30);
    REQUIRE(first.status == Lease::Status::Granted);
    f.clock.t = f.clock.t + 31;  // lapsed: it no longer holds an attempt
    CHECK(f.store->sweep(f.clock.t) == 0);
    auto second = f.store->precharge(h, f.clock.t, f.clock.t + 30);
    REQUIRE(second.status == Lease::Status::Granted);
    CHECK(second.id != first.id);  // lease ids are never reused
    auto burned = f.store->burn_attempt(h, first.id, f.clock.t, "tag");
    REQUIRE(burned.has_value());
    CHECK(burned->attempts_left == 4);
    // The second lease still holds its attempt: 5 - 1 burned - 1 leased = 3 free.
    for (int i = 0; i < 3; ++i)
        CHECK(f.store->precharge(h, f.clock.t, f.clock.t + 30).status == Lease::Status::Granted);
    CHECK(f.store->precharge(h, f.clock.t, f.clock.t + 30).status == Lease::Status::Busy);
    f.store->release_lease(second.id);
    CHECK(f.store->precharge(h, f.clock.t, f.clock.t + 30).status == Lease::Status::Granted);
}

TEST_CASE("the share reveal rate limit lives in the store: two services on one database share each address's budget") {
    Fixture f;
    auto other_store = f.open_again();
    Service other(*other_store, f.clock, Fixture::config());
    f.clock.t = 1800000000.0 - std::fmod(1800000000.0, 60.0) + 10;  // 50 s left in this minute
    CHECK(f.service.reveal_rate_wait("10.0.0.1", 3) == 0);
    CHECK(other.reveal_rate_wait("10.0.0.1", 3) == 0);
    CHECK(f.service.reveal_rate_wait("10.0.0.1", 3) == 0);
    CHECK(other.reveal_rate_wait("10.0.0.1", 3) == 50);  // the 4th, whichever process gets it
    CHECK(f.service.reveal_rate_wait("10.0.0.1", 3) == 50);
    CHECK(other.reveal_rate_wait("10.0.0.2", 3) == 0);  // per address
    f.clock.t = f.clock.t + 50;
    CHECK(other.reveal_rate_wait("10.0.0.1", 3) == 0);  // a new minute
    // The database holds keyed tags, never the addresses.
    CHECK_FALSE(f.holds("10.0.0.1"));
}

TEST_CASE("share API tokens: expiry (401 token_expired), last use, rotate, remove, and list never shows a token") {
    Fixture f;
    auto alice = f.service.add_user("alice", 3600).value();
    auto bob = f.service.add_user("bob").value();
    CHECK(f.service.add_user("alice").error().code == ErrorCode::USAGE);
    CHECK(f.service.add_user("(local)").error().code == ErrorCode::USAGE);
    CHECK(f.service.add_user("x", 0.0).error().code == ErrorCode::USAGE);
    CHECK(f.service.authenticate(alice.str()).status == Authenticated::Status::Ok);
    auto users = f.service.list_users();
    REQUIRE(users.size() == 2);
    CHECK(users[0].name == "alice");
    CHECK(users[0].expires_at == f.clock.t + 3600);
    CHECK(users[0].last_used_at == f.clock.t.load());
    CHECK_FALSE(users[1].last_used_at.has_value());  // bob never used his token
    CHECK_FALSE(users[1].expires_at.has_value());

    f.clock.t = f.clock.t + 3600;  // alice's token expires at exactly this time
    CHECK(f.service.authenticate(alice.str()).status == Authenticated::Status::Expired);
    CHECK(f.service.authenticate("not-a-token").status == Authenticated::Status::Unknown);
    Api api(f.service, f.clock, "https://s.example", 100);
    HttpRequest req{"GET", "/api/v1/metrics", {}, "", "Bearer " + alice.str(), "", "1.2.3.4"};
    auto expired = api.handle(req);
    CHECK(expired.status == 401);
    CHECK(expired.body == "{\"error\":\"token_expired\"}\n");
    req.authorization = "Bearer nope";
    CHECK(api.handle(req).body == "{\"error\":\"unauthorized\"}\n");

    auto rotated = f.service.rotate_user("alice", 60).value();
    CHECK(f.service.authenticate(alice.str()).status == Authenticated::Status::Unknown);  // the old token is gone
    CHECK(f.service.authenticate(rotated.str()).status == Authenticated::Status::Ok);
    CHECK(f.service.rotate_user("nobody").error().code == ErrorCode::USAGE);

    // Removing bob revokes (and wipes) his live shares; the tombstones stay readable to the operator.
    int64_t bob_id = f.service.authenticate(bob.str()).user;
    auto live = f.service.create(bob_id, "bob's record", 1, 600).value();
    auto used = f.service.create(bob_id, "used", 1, 600).value();
    REQUIRE(f.service.reveal(used.sid, used.pin.str(), "x").outcome == RevealOutcome::Revealed);
    CHECK(f.service.remove_user("bob").value() == 1);
    CHECK(f.service.authenticate(bob.str()).status == Authenticated::Status::Unknown);
    CHECK(f.service.reveal(live.sid, live.pin.str(), "x").outcome == RevealOutcome::Gone);
    CHECK(f.service.status(live.id, -1)->record.state == "revoked");
    CHECK(f.service.status(live.id, -1)->events.back().event == "revoked");
    CHECK(f.service.remove_user("bob").error().code == ErrorCode::USAGE);
    CHECK(f.service.list_users().size() == 1);
    CHECK(f.service.add_user("bob").ok());  // the name is free again
}

TEST_CASE("403 bodies say how many tries are left, warn before the last, and say when the share is destroyed") {
    Fixture f;
    Api api(f.service, f.clock, "https://s.example", 100);
    auto c = f.create();
    HttpRequest req{"POST", "/s/" + c.sid, {}, "application/json", "", R"({"challenge":"WRONG000"})", "1.2.3.4"};
    std::vector<std::string> bodies;
    for (int i = 0; i < 5; ++i) {
        auto r = api.handle(req);
        CHECK(r.status == 403);
        CHECK(r.content_type == "application/json");
        bodies.push_back(r.body);
    }
    CHECK(bodies[0] == "{\"error\":\"wrong_pin\",\"remaining_attempts\":4}\n");
    CHECK(bodies[2] == "{\"error\":\"wrong_pin\",\"remaining_attempts\":2}\n");
    CHECK(
        bodies[3] ==
        "{\"error\":\"wrong_pin\",\"remaining_attempts\":1,\"message\":\"One try left: another wrong PIN destroys the "
        "share.\"}\n");
    CHECK(
        bodies[4] ==
        "{\"error\":\"wrong_pin\",\"remaining_attempts\":0,\"destroyed\":true,\"message\":\"That was the last try: the "
        "share is destroyed.\"}\n");
    CHECK(api.handle(req).status == 404);
    req.body = R"({"challenge":"ABCD123U"})";
    auto malformed = api.handle(req);
    CHECK(malformed.status == 403);
    CHECK(malformed.body ==
          "{\"error\":\"malformed_pin\",\"message\":\"A PIN is 8 characters: digits and letters (not U).\"}\n");
    auto st = f.service.status(c.id, f.owner).value();
    auto json = status_json(st);
    CHECK(test::contains(json, "\"state\":\"destroyed\""));
    CHECK(test::contains(json, "\"wrong_pins\":5,\"attempts_left\":0"));
}

TEST_CASE("a PIN read aloud: O for 0, I or L for 1, lower case, dashes and spaces all open the share") {
    Fixture f;
    for (int i = 0; i < 20; ++i) {
        auto c = f.create();
        std::string spoken = format_pin(c.pin.str());
        for (auto& ch : spoken) {
            if (ch == '0') ch = 'o';
            else if (ch == '1') ch = (i % 2) ? 'I' : 'l';
            else ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        spoken.insert(2, " ");
        CAPTURE(spoken);
        CHECK(f.service.reveal(c.sid, spoken, "x").outcome == RevealOutcome::Revealed);
        f.clock.t = f.clock.t + 7;  // stay under 10 creates a minute
    }
}

TEST_CASE("share pepper: created 0600 for a new database, refused when missing or different, --init starts over") {
    Fixture f;
    auto& store = f.store;
    std::string path = (f.dir / "p.pepper").string();
    double now = 1800000000.0;
    CHECK(open_pepper(path, *store, PepperMode::Existing, now).error().code == ErrorCode::SHARE_PEPPER_MISSING);
    auto first = open_pepper(path, *store, PepperMode::CreateIfNew, now);
    REQUIRE(first.ok());
    CHECK(first.value().created);
    CHECK_FALSE(first.value().replaced);
    CHECK(first.value().bytes.str().size() == 32);
    CHECK(share_cases::file_mode(path) == 0600);
    CHECK(store->pepper_check() == pepper_fingerprint(first.value().bytes.str()));
    auto second = open_pepper(path, *store, PepperMode::CreateIfNew, now);
    REQUIRE(second.ok());
    CHECK_FALSE(second.value().created);
    CHECK(second.value().bytes.str() == first.value().bytes.str());

    // Data that depends on it: a user and a share.
    FakeClock clock;
    ServiceConfig cfg = Fixture::config();
    cfg.pepper = first.value().bytes.str();
    Service service(*store, clock, cfg);
    auto token = service.add_user("clinic").value();
    auto share = service.create(service.local_user(), "record", 1, 600).value();

    // The file is lost (a database restored without it): nothing creates a new one quietly.
    std::string saved = test::read_file(path);
    test::fs::remove(path);
    auto missing = open_pepper(path, *store, PepperMode::CreateIfNew, now);
    CHECK(missing.error().code == ErrorCode::SHARE_PEPPER_MISSING);
    CHECK(test::contains(missing.error().message, "has 2 users and shares that need it"));
    CHECK(test::contains(missing.error().message, "--init"));
    CHECK_FALSE(test::fs::exists(path));
    // Some other 32 bytes.
    test::write_file(path, std::string(32, 'z'));
    CHECK(open_pepper(path, *store, PepperMode::CreateIfNew, now).error().code == ErrorCode::SHARE_PEPPER_MISMATCH);
    CHECK(open_pepper(path, *store, PepperMode::Existing, now).error().code == ErrorCode::SHARE_PEPPER_MISMATCH);
    test::write_file(path, std::string(31, 'z'));
    CHECK(open_pepper(path, *store, PepperMode::Existing, now).error().code == ErrorCode::IO_ERROR);
    // --init never replaces a file that is there.
    CHECK(open_pepper(path, *store, PepperMode::Init, now).error().code == ErrorCode::USAGE);
    CHECK(test::read_file(path) == std::string(31, 'z'));
    // The right file back: all is well.
    test::write_file(path, saved);
    CHECK(open_pepper(path, *store, PepperMode::Existing, now).ok());

    // --init on purpose: a new pepper, the old shares revoked and wiped, old tokens dead.
    test::fs::remove(path);
    auto fresh = open_pepper(path, *store, PepperMode::Init, now);
    REQUIRE(fresh.ok());
    CHECK(fresh.value().created);
    CHECK(fresh.value().replaced);
    CHECK(fresh.value().shares_revoked == 1);
    CHECK(fresh.value().bytes.str() != saved);
    CHECK(store->pepper_check() == pepper_fingerprint(fresh.value().bytes.str()));
    cfg.pepper = fresh.value().bytes.str();
    Service after(*store, clock, cfg);
    CHECK(after.authenticate(token.str()).status == Authenticated::Status::Unknown);
    CHECK(after.status(share.id, -1)->record.state == "revoked");
    CHECK(after.status(share.id, -1)->events.back().client == "pepper-reset");
    auto rotated = after.rotate_user("clinic").value();
    CHECK(after.authenticate(rotated.str()).status == Authenticated::Status::Ok);
    CHECK(open_pepper(path, *store, PepperMode::CreateIfNew, now).ok());
}

TEST_CASE("share pepper: a database from before the fingerprint adopts the pepper file it is opened with") {
    Fixture f;
    auto& store = f.store;
    std::string path = (f.dir / "legacy.pepper").string();
    REQUIRE(store->add_user("old", "hash", 1, std::nullopt).ok());
    CHECK_FALSE(store->pepper_check().has_value());
    CHECK(open_pepper(path, *store, PepperMode::CreateIfNew, 1).error().code == ErrorCode::SHARE_PEPPER_MISSING);
    test::write_file(path, std::string(32, 'k'));
    REQUIRE(open_pepper(path, *store, PepperMode::Existing, 1).ok());
    CHECK(store->pepper_check() == pepper_fingerprint(std::string(32, 'k')));
}

TEST_CASE(
    "the SHL manifest protocol: 401 remainingAttempts for wrong, missing and malformed passcodes, exactly N reveals, "
    "then 404") {
    Fixture f;
    Api api(f.service, f.clock, "https://s.example", 100);
    // A JWE header naming its content, so the manifest's contentType can be checked.
    const std::string jwe =
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiY3R5IjoiYXBwbGljYXRpb24vZmhpcitqc29uIn0..iv.ct.tag";
    auto c = f.create(jwe, 2);
    auto post = [&](const std::string& body) {
        return api.handle(HttpRequest{"POST", "/m/" + c.sid, {}, "application/json", "", body, "1.2.3.4"});
    };
    auto attempts_left = [&] { return f.service.status(c.id, f.owner).value().record.attempts_left(); };
    // Not a manifest request: refused before anything is charged.
    CHECK(post("not json").status == 400);
    CHECK(post(R"({"passcode":"WRONG000"})").status == 400);         // no recipient
    CHECK(post(R"({"recipient":"r","passcode":7})").status == 400);  // passcode not a string
    CHECK(post(std::string(2000, ' ')).status == 413);
    CHECK(attempts_left() == 5);
    // Wrong, missing and malformed passcodes each cost an attempt; the malformed ones no KDF.
    auto kdf_before = f.service.kdf_evaluations();
    auto wrong = post(R"({"recipient":"r","passcode":"WRONG000","embeddedLengthMax":10})");
    CHECK(wrong.status == 401);
    CHECK(wrong.content_type == "application/json");
    CHECK(wrong.body == "{\"remainingAttempts\":4}\n");
    CHECK(f.service.kdf_evaluations() == kdf_before + 1);
    CHECK(post(R"({"recipient":"r"})").body == "{\"remainingAttempts\":3}\n");
    CHECK(post(R"({"recipient":"r","passcode":"ABCD123U"})").body == "{\"remainingAttempts\":2}\n");
    CHECK(f.service.kdf_evaluations() == kdf_before + 1);
    CHECK(attempts_left() == 2);
    // The PIN as passcode, as a person types it: exactly two reveals, each with the file embedded.
    std::string spoken = c.pin.str().substr(0, 4) + "-" + c.pin.str().substr(4);
    for (auto& ch : spoken) ch = static_cast<char>(std::tolower(ch));
    for (int i = 0; i < 2; ++i) {
        auto ok = post(R"({"recipient":"r","passcode":")" + spoken + R"(","embeddedLengthMax":10})");
        CHECK(ok.status == 200);
        CHECK(ok.content_type == "application/json");
        CHECK(ok.body == "{\"files\":[{\"contentType\":\"application/fhir+json\",\"embedded\":\"" + jwe + "\"}]}\n");
    }
    auto gone = post(R"({"recipient":"r","passcode":")" + c.pin.str() + "\"}");
    CHECK(gone.status == 404);
    CHECK(gone.body == Api::not_found_body());
    CHECK(f.service.status(c.id, f.owner).value().record.state == "used");
    // The last wrong passcode destroys a share: remainingAttempts 0, then 404.
    auto d = f.create(jwe);
    auto post_d = [&](const std::string& body) {
        return api.handle(HttpRequest{"POST", "/m/" + d.sid, {}, "application/json", "", body, "1.2.3.4"});
    };
    for (int i = 4; i >= 0; --i)
        CHECK(post_d(R"({"recipient":"r","passcode":"WRONG000"})").body ==
              "{\"remainingAttempts\":" + std::to_string(i) + "}\n");
    CHECK(post_d(R"({"recipient":"r","passcode":")" + d.pin.str() + "\"}").status == 404);
    // An expired share is 404 too; GET on a manifest URL is 404 and changes nothing; the viewer page is served.
    auto e = f.create(jwe, 1, 60);
    f.clock.t = f.clock.t + 61;
    CHECK(api.handle(HttpRequest{"POST",
                                 "/m/" + e.sid,
                                 {},
                                 "application/json",
                                 "",
                                 R"({"recipient":"r","passcode":")" + e.pin.str() + "\"}",
                                 "1.2.3.4"})
              .status == 404);
    auto live = f.create(jwe);
    CHECK(api.handle(HttpRequest{"GET", "/m/" + live.sid, {}, "", "", "", "1.2.3.4"}).status == 404);
    CHECK(f.service.status(live.id, f.owner).value().record.attempts_left() == 5);
    auto viewer = api.handle(HttpRequest{"GET", "/v", {}, "", "", "", "1.2.3.4"});
    CHECK(viewer.status == 200);
    CHECK(test::contains(viewer.body, "<script src=\"/static/pin.js\"></script>"));
}
