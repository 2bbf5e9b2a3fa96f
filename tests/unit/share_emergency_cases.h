// Emergency-share test cases (docs/emergency.md), run on every store like
// share_service_cases.h (whose Fixture contract applies): test_share_service.cpp and
// test_pg_store.cpp include this after it.
#pragma once

#include "shcx/share/service.h"

namespace emergency_cases {
constexpr double kYear = 365 * 86400.0;
inline const std::string kSummary = "eyJhbGciOiJkaXIifQ..emergency-tier";
inline const std::string kRecord = "eyJhbGciOiJkaXIifQ..full-tier";
inline const Requester kMedic{"192.0.2.7", "Mozilla/5.0 (Responder)"};

inline EmergencyCreated create(Fixture& f, double ttl = 4 * kYear) {
    auto c = f.service.create_emergency(f.owner, kSummary, kRecord, ttl, "Wristband");
    REQUIRE(c.ok());
    return std::move(c.value());
}
}  // namespace emergency_cases

TEST_CASE("emergency share: the emergency tier with the link alone, the full tier by PIN, every access logged") {
    using namespace emergency_cases;
    Fixture f;
    auto c = create(f);
    CHECK(c.expires_at == std::floor(f.clock.t + 4 * kYear));
    for (int i = 0; i < 3; ++i) {
        auto e = f.service.read_emergency(c.sid, kMedic);
        REQUIRE(e.outcome == TierOutcome::Read);
        CHECK(e.content == kSummary);
    }
    auto full = f.service.reveal_full(c.sid, c.pin.str(), {"198.51.100.1", "shcx"});
    REQUIRE(full.outcome == RevealOutcome::Revealed);
    CHECK(full.content == kRecord);
    // The full tier by PIN again: an emergency share is not used up by its owner.
    CHECK(f.service.reveal_full(c.sid, c.pin.str(), {"198.51.100.1", "shcx"}).outcome == RevealOutcome::Revealed);
    CHECK(f.service.reveal_full(c.sid, "00000000", kMedic).outcome == RevealOutcome::WrongPin);
    auto st = f.service.emergency_status(c.id, f.owner).value();
    CHECK(st.share.record.state == "live");
    CHECK(st.emergency.label == "Wristband");
    REQUIRE(st.emergency.accesses.size() == 5);
    CHECK(st.emergency.accesses[0].tier == "emergency");
    CHECK(st.emergency.accesses[0].via == "link");
    CHECK(st.emergency.accesses[0].address == "192.0.2.7");
    CHECK(st.emergency.accesses[0].user_agent == "Mozilla/5.0 (Responder)");
    CHECK(st.emergency.accesses[0].at == f.clock.t);
    CHECK(st.emergency.accesses[3].tier == "full");
    CHECK(st.emergency.accesses[3].via == "pin");
    CHECK(st.emergency.accesses[3].address == "198.51.100.1");
    CHECK(st.emergency.accesses[4].via == "pin");  // the wrong PIN is not an access
    CHECK(st.share.record.fails_burned == 1);
    // Nothing of either tier is stored in the clear.
    CHECK_FALSE(f.holds("emergency-tier"));
    CHECK_FALSE(f.holds("full-tier"));
    // An ordinary share is not an emergency share.
    auto plain = f.create();
    CHECK_FALSE(f.service.emergency_status(plain.id, f.owner).has_value());
    CHECK(f.service.read_emergency(plain.sid, kMedic).outcome == TierOutcome::Gone);
    CHECK(f.service.break_glass(plain.sid, "A; B; C", kMedic).outcome == TierOutcome::Gone);
}

TEST_CASE("emergency share as an SHL: is_emergency tells it from an ordinary share, live or dead; reads log via shl") {
    using namespace emergency_cases;
    Fixture f;
    auto c = create(f);
    auto plain = f.create();
    CHECK(f.service.is_emergency(c.sid));
    CHECK_FALSE(f.service.is_emergency(plain.sid));
    CHECK_FALSE(f.service.is_emergency("not-a-sid"));
    CHECK_FALSE(f.service.is_emergency(std::string(22, 'A')));
    auto read = f.service.read_emergency(c.sid, kMedic, "shl");
    REQUIRE(read.outcome == TierOutcome::Read);
    CHECK(read.content == kSummary);
    auto st = f.service.emergency_status(c.id, f.owner).value();
    REQUIRE(st.emergency.accesses.size() == 1);
    CHECK(st.emergency.accesses[0].tier == "emergency");
    CHECK(st.emergency.accesses[0].via == "shl");
    // Dead, it is still an emergency share (its manifest answers 404, never the PIN reveal).
    REQUIRE(f.service.revoke(c.id, f.owner, "test"));
    CHECK(f.service.is_emergency(c.sid));
    CHECK(f.service.read_emergency(c.sid, kMedic, "shl").outcome == TierOutcome::Gone);
}

TEST_CASE("emergency share: lifetime up to 5 years, tiers and label bounded") {
    using namespace emergency_cases;
    Fixture f;
    CHECK(f.service.create_emergency(f.owner, kSummary, kRecord, 5 * kYear, "").ok());
    auto too_long = f.service.create_emergency(f.owner, kSummary, kRecord, 5 * kYear + 2 * 86400, "");
    REQUIRE_FALSE(too_long.ok());
    CHECK(too_long.error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create_emergency(f.owner, "", kRecord, kYear, "").error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create_emergency(f.owner, kSummary, "", kYear, "").error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create_emergency(f.owner, kSummary, kRecord, 0, "").error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.create_emergency(f.owner, kSummary, kRecord, kYear, std::string(81, 'x')).error().code ==
          ErrorCode::SHARE_INVALID);
    CHECK(f.service.create_emergency(f.owner, kSummary, kRecord, kYear, "a\nb").error().code ==
          ErrorCode::SHARE_INVALID);
    // Ordinary shares keep their 6 hours.
    CHECK(f.service.create(f.owner, "x", 1, kYear).error().code == ErrorCode::SHARE_INVALID);
}

TEST_CASE("emergency share: attestations are NAME, ROLE, REASON") {
    CHECK(normalise_attestation("Jo Bloggs; paramedic; unconscious patient").value() ==
          "Jo Bloggs; paramedic; unconscious patient");
    CHECK(normalise_attestation("  Jo ;medic;  fall ").value() == "Jo; medic; fall");
    CHECK_FALSE(normalise_attestation("Jo; medic").has_value());
    CHECK_FALSE(normalise_attestation("Jo; medic; fall; extra").has_value());
    CHECK_FALSE(normalise_attestation("Jo; ; fall").has_value());
    CHECK_FALSE(normalise_attestation("Jo; medic; fall\n").has_value());
    CHECK_FALSE(normalise_attestation("Jo; medic; " + std::string(300, 'x')).has_value());
}

TEST_CASE(
    "emergency share: break glass gives the full tier with an attestation, paused after M uses until the owner resumes "
    "it") {
    using namespace emergency_cases;
    auto cfg = Fixture::config();
    cfg.emergency.break_glass_max_uses = 2;
    cfg.emergency.break_glass_pause = 600;
    cfg.emergency.break_glass_per_minute_per_address = 100;
    cfg.emergency.break_glass_per_minute_per_link = 100;
    Fixture f(cfg);
    auto c = create(f);
    CHECK(f.service.break_glass(c.sid, "no attestation", kMedic).outcome == TierOutcome::BadAttestation);
    auto first = f.service.break_glass(c.sid, "Jo Bloggs; paramedic; unconscious", kMedic);
    REQUIRE(first.outcome == TierOutcome::Read);
    CHECK(first.content == kRecord);
    CHECK(f.service.break_glass(c.sid, "Al; nurse; ER", {"203.0.113.5", "ua"}).outcome == TierOutcome::Read);
    auto paused = f.service.break_glass(c.sid, "Al; nurse; ER", kMedic);
    CHECK(paused.outcome == TierOutcome::Paused);
    CHECK(paused.retry_after == 600);
    f.clock.t = f.clock.t + 599;
    CHECK(f.service.break_glass(c.sid, "Al; nurse; ER", kMedic).outcome == TierOutcome::Paused);
    // The PIN and the emergency tier are not paused.
    CHECK(f.service.read_emergency(c.sid, kMedic).outcome == TierOutcome::Read);
    CHECK(f.service.reveal_full(c.sid, c.pin.str(), kMedic).outcome == RevealOutcome::Revealed);
    CHECK(f.service.resume_break_glass(c.id, f.owner));
    CHECK_FALSE(f.service.resume_break_glass(c.id, f.owner + 1000));  // not the owner
    CHECK(f.service.break_glass(c.sid, "Al; nurse; ER", kMedic).outcome == TierOutcome::Read);
    auto st = f.service.emergency_status(c.id, f.owner).value();
    REQUIRE(st.emergency.accesses.size() == 5);
    CHECK(st.emergency.accesses[0].via == "break-glass");
    CHECK(st.emergency.accesses[0].tier == "full");
    CHECK(st.emergency.accesses[0].attestation == "Jo Bloggs; paramedic; unconscious");
    CHECK(st.emergency.accesses[1].address == "203.0.113.5");
    CHECK(st.emergency.break_glass_uses == 1);
    CHECK(st.emergency.break_glass_paused_until == 0);
}

TEST_CASE("emergency share: reads are rate-limited per address and per link") {
    using namespace emergency_cases;
    auto cfg = Fixture::config();
    cfg.emergency.reads_per_minute_per_address = 2;
    cfg.emergency.reads_per_minute_per_link = 3;
    cfg.emergency.break_glass_per_minute_per_address = 1;
    cfg.emergency.break_glass_per_minute_per_link = 5;
    Fixture f(cfg);
    f.clock.t = 1800000020.0;  // 20 s into a minute
    auto c = create(f);
    CHECK(f.service.read_emergency(c.sid, {"a", ""}).outcome == TierOutcome::Read);
    CHECK(f.service.read_emergency(c.sid, {"a", ""}).outcome == TierOutcome::Read);
    auto limited = f.service.read_emergency(c.sid, {"a", ""});
    CHECK(limited.outcome == TierOutcome::RateLimited);
    CHECK(limited.retry_after == 40);
    CHECK(f.service.read_emergency(c.sid, {"b", ""}).outcome == TierOutcome::Read);
    CHECK(f.service.read_emergency(c.sid, {"c", ""}).outcome == TierOutcome::RateLimited);  // the link's 3
    CHECK(f.service.break_glass(c.sid, "A; B; C", {"a", ""}).outcome == TierOutcome::Read);
    CHECK(f.service.break_glass(c.sid, "A; B; C", {"a", ""}).outcome == TierOutcome::RateLimited);
    f.clock.t = f.clock.t + 60;
    CHECK(f.service.read_emergency(c.sid, {"a", ""}).outcome == TierOutcome::Read);
    // Refused reads are not accesses.
    CHECK(f.service.emergency_status(c.id, f.owner).value().emergency.accesses.size() == 5);
}

TEST_CASE("revoking an emergency share kills both tiers at once and wipes them") {
    using namespace emergency_cases;
    Fixture f;
    auto c = create(f);
    REQUIRE(f.service.read_emergency(c.sid, kMedic).outcome == TierOutcome::Read);
    CHECK(f.service.revoke(c.id, f.owner, "owner"));
    CHECK(f.service.read_emergency(c.sid, kMedic).outcome == TierOutcome::Gone);
    CHECK(f.service.break_glass(c.sid, "A; B; C", kMedic).outcome == TierOutcome::Gone);
    CHECK(f.service.reveal_full(c.sid, c.pin.str(), kMedic).outcome == RevealOutcome::Gone);
    CHECK_FALSE(f.service.resume_break_glass(c.id, f.owner));
    auto st = f.service.emergency_status(c.id, f.owner).value();
    CHECK(st.share.record.state == "revoked");
    CHECK(st.emergency.accesses.size() == 1);
    CHECK(f.sealed_of(c.id).empty());
}

TEST_CASE("an emergency share expires like any other: both tiers die at the expiry") {
    using namespace emergency_cases;
    Fixture f;
    auto c = create(f, 86400);
    f.clock.t = c.expires_at - 1;
    CHECK(f.service.read_emergency(c.sid, kMedic).outcome == TierOutcome::Read);
    f.clock.t = c.expires_at;
    CHECK(f.service.read_emergency(c.sid, kMedic).outcome == TierOutcome::Gone);
    CHECK(f.service.break_glass(c.sid, "A; B; C", kMedic).outcome == TierOutcome::Gone);
    CHECK(f.service.sweep() == 1);
    CHECK(f.service.emergency_status(c.id, f.owner).value().share.record.state == "expired");
}

TEST_CASE("emergency share: share ids never start with '-', so they pass as command-line arguments") {
    using namespace emergency_cases;
    auto cfg = Fixture::config();
    cfg.creates_per_minute = 1000;
    Fixture f(cfg);
    // 1 in 64 random ids would start with '-': 300 of each kind catch a regression
    // with a probability of 1 - (63/64)^600.
    for (int i = 0; i < 300; ++i) {
        CHECK(f.create("x").id.front() != '-');
        CHECK(create(f, 3600).id.front() != '-');
    }
}

TEST_CASE("emergency share: rotate makes a new link with the same owner, label and expiry, and kills the old one") {
    using namespace emergency_cases;
    Fixture f;
    auto old = create(f);
    f.clock.t = f.clock.t + 1000.25;
    auto bob = f.service.add_user("bob");
    REQUIRE(bob.ok());
    int64_t bob_id = f.service.authenticate(bob.value().str()).user;
    // Only the owner rotates; a refused rotation changes nothing.
    auto refused = f.service.rotate_emergency(old.id, bob_id, "x", "y");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::SHARE_NOT_FOUND);
    CHECK(refused.error().message == "no live emergency share with id " + old.id);
    CHECK(f.service.read_emergency(old.sid, kMedic).outcome == TierOutcome::Read);
    // Bounds are create_emergency's; the old share stays live when they refuse.
    CHECK(f.service.rotate_emergency(old.id, f.owner, "", kRecord).error().code == ErrorCode::SHARE_INVALID);
    CHECK(f.service.read_emergency(old.sid, kMedic).outcome == TierOutcome::Read);

    auto made = f.service.rotate_emergency(old.id, f.owner, "eyJhbGciOiJkaXIifQ..new-emergency",
                                           "eyJhbGciOiJkaXIifQ..new-full");
    REQUIRE(made.ok());
    auto& c = made.value();
    CHECK(c.id != old.id);
    CHECK(c.sid != old.sid);
    CHECK(c.label == "Wristband");
    CHECK(c.expires_at == old.expires_at);
    auto st = f.service.emergency_status(c.id, f.owner).value();
    CHECK(st.share.record.owner == f.owner);
    CHECK(st.emergency.label == "Wristband");
    CHECK(f.service.read_emergency(c.sid, kMedic).content == "eyJhbGciOiJkaXIifQ..new-emergency");
    CHECK(f.service.break_glass(c.sid, "A; B; C", kMedic).content == "eyJhbGciOiJkaXIifQ..new-full");
    CHECK(f.service.reveal_full(c.sid, c.pin.str(), kMedic).content == "eyJhbGciOiJkaXIifQ..new-full");
    // The old link is dead in all three ways, and cannot be rotated again.
    CHECK(f.service.read_emergency(old.sid, kMedic).outcome == TierOutcome::Gone);
    CHECK(f.service.break_glass(old.sid, "A; B; C", kMedic).outcome == TierOutcome::Gone);
    CHECK(f.service.reveal_full(old.sid, old.pin.str(), kMedic).outcome == RevealOutcome::Gone);
    CHECK(f.service.emergency_status(old.id, f.owner).value().share.record.state == "revoked");
    CHECK(f.service.rotate_emergency(old.id, f.owner, kSummary, kRecord).error().code == ErrorCode::SHARE_NOT_FOUND);
    // An ordinary share is not rotated.
    auto plain = f.create();
    CHECK(f.service.rotate_emergency(plain.id, f.owner, kSummary, kRecord).error().code == ErrorCode::SHARE_NOT_FOUND);
    CHECK(f.service.is_live(plain.sid));
}

// --- The owner's alert on break glass (emergency_alerts.cpp). The test files include
// webhook_receiver.h, nlohmann/json.hpp and shcx/digest.h before this header.
namespace emergency_cases {
inline EmergencyCreated create_notified(Fixture& f, const std::string& url) {
    auto c = f.service.create_emergency(f.owner, kSummary, kRecord, kYear, "Wristband", url);
    REQUIRE(c.ok());
    REQUIRE(c.value().notify_secret.str().size() == 43);  // 256 bits in base64url
    return std::move(c.value());
}
inline AlertPolicy quick_policy(int max_attempts = 12) {
    AlertPolicy p;
    p.max_attempts = max_attempts;
    p.timeout_s = 10;
    p.lease_s = 60;
    return p;
}
}  // namespace emergency_cases

TEST_CASE("emergency share alert: break glass alerts the owner: a signed POST without health data, once") {
    using namespace emergency_cases;
    shcx::test::WebhookReceiver hook;
    Fixture f;
    auto c = create_notified(f, hook.url());
    // Neither the emergency tier nor the PIN alerts; break glass does.
    REQUIRE(f.service.read_emergency(c.sid, kMedic).outcome == TierOutcome::Read);
    REQUIRE(f.service.reveal_full(c.sid, c.pin.str(), kMedic).outcome == RevealOutcome::Revealed);
    CHECK(f.service.deliver_alerts(quick_policy()) == 0);
    REQUIRE(f.service.break_glass(c.sid, " Jo Bloggs ;paramedic; unconscious", kMedic).outcome == TierOutcome::Read);
    auto pending = f.service.emergency_status(c.id, f.owner).value().emergency;
    CHECK(pending.notify_url == hook.url());
    REQUIRE(pending.alerts.size() == 1);
    CHECK(pending.alerts[0].state == "pending");
    CHECK(pending.alerts[0].attempts == 0);
    CHECK(f.service.deliver_alerts(quick_policy()) == 1);
    REQUIRE(hook.hits().size() == 1);
    auto hit = hook.hits()[0];
    CHECK(hit.request_line == "POST /hook HTTP/1.1");
    CHECK(hit.headers["content-type"] == "application/json");
    CHECK(hit.headers["shcx-alert-id"] == std::to_string(pending.alerts[0].seq));
    auto body = nlohmann::json::parse(hit.body);
    CHECK(body == nlohmann::json{{"event", "break_glass"},
                                 {"alert_id", pending.alerts[0].seq},
                                 {"share_id", c.id},
                                 {"at", shcx::timeutil::format_utc(f.clock.t)},
                                 {"tier", "full"},
                                 {"attestation", "Jo Bloggs; paramedic; unconscious"},
                                 {"address", kMedic.address},
                                 {"user_agent", kMedic.user_agent}});
    CHECK_FALSE(shcx::test::contains(hit.body, "tier\":\"emergency"));
    CHECK_FALSE(shcx::test::contains(hit.body, kSummary));
    CHECK_FALSE(shcx::test::contains(hit.body, kRecord));
    // The signature: t is the sending time (the fake clock), v1 the HMAC the owner recomputes.
    const std::string& sig = hit.headers["shcx-signature"];
    CHECK(sig.rfind("t=" + std::to_string(static_cast<int64_t>(f.clock.t)) + ",v1=", 0) == 0);
    CHECK(shcx::test::alert_signature_ok(sig, c.notify_secret.str(), hit.body));
    CHECK(sig == alert_signature(c.notify_secret.str(), static_cast<int64_t>(f.clock.t), hit.body));
    // Negative: another secret, a changed body, a changed time all fail the check.
    CHECK_FALSE(shcx::test::alert_signature_ok(sig, std::string(43, 'A'), hit.body));
    std::string forged = hit.body;
    forged.replace(forged.find("paramedic"), 9, "Paramedic");
    CHECK_FALSE(shcx::test::alert_signature_ok(sig, c.notify_secret.str(), forged));
    std::string shifted = "t=" + std::to_string(static_cast<int64_t>(f.clock.t) + 1) + sig.substr(sig.find(','));
    CHECK_FALSE(shcx::test::alert_signature_ok(shifted, c.notify_secret.str(), hit.body));
    auto done = f.service.emergency_status(c.id, f.owner).value().emergency.alerts;
    REQUIRE(done.size() == 1);
    CHECK(done[0].state == "delivered");
    CHECK(done[0].attempts == 1);
    CHECK(done[0].last_status == 200);
    CHECK(f.service.deliver_alerts(quick_policy()) == 0);  // delivered once, not again
    CHECK(hook.hits().size() == 1);
    // The webhook secret is never stored in the clear.
    CHECK_FALSE(f.holds(c.notify_secret.str()));
}

TEST_CASE(
    "emergency share alert: an alert that fails twice with 500 is delivered on the third attempt, after 1 s then 2 s") {
    using namespace emergency_cases;
    shcx::test::WebhookReceiver hook({500, 500});
    Fixture f;
    auto c = create_notified(f, hook.url());
    REQUIRE(f.service.break_glass(c.sid, "A; B; C", kMedic).outcome == TierOutcome::Read);
    CHECK(f.service.deliver_alerts(quick_policy()) == 1);
    auto a = f.service.emergency_status(c.id, f.owner).value().emergency.alerts.at(0);
    CHECK(a.state == "pending");
    CHECK(a.attempts == 1);
    CHECK(a.last_status == 500);
    CHECK(a.last_error == "HTTP 500");
    f.clock.t = f.clock.t + 0.999;
    CHECK(f.service.deliver_alerts(quick_policy()) == 0);  // not due before 1 s
    f.clock.t = f.clock.t + 0.001;
    CHECK(f.service.deliver_alerts(quick_policy()) == 1);
    f.clock.t = f.clock.t + 1.999;
    CHECK(f.service.deliver_alerts(quick_policy()) == 0);  // not due before 2 s more
    f.clock.t = f.clock.t + 0.001;
    CHECK(f.service.deliver_alerts(quick_policy()) == 1);
    auto hits = hook.hits();
    REQUIRE(hits.size() == 3);
    CHECK(hits[0].body == hits[2].body);  // the same alert, the same id
    a = f.service.emergency_status(c.id, f.owner).value().emergency.alerts.at(0);
    CHECK(a.state == "delivered");
    CHECK(a.attempts == 3);
    f.clock.t = f.clock.t + 3600;
    CHECK(f.service.deliver_alerts(quick_policy()) == 0);
    CHECK(alert_backoff(quick_policy(), 1) == 1);
    CHECK(alert_backoff(quick_policy(), 4) == 8);
    CHECK(alert_backoff(quick_policy(), 30) == 600);  // capped
}

TEST_CASE("emergency share alert: an unreachable receiver: every attempt recorded, then given up") {
    using namespace emergency_cases;
    Fixture f;
    auto c = create_notified(f, shcx::test::WebhookReceiver::unreachable_url());
    REQUIRE(f.service.break_glass(c.sid, "A; B; C", kMedic).outcome == TierOutcome::Read);
    for (double wait : {0.0, 1.0, 2.0}) {
        f.clock.t = f.clock.t + wait;
        CHECK(f.service.deliver_alerts(quick_policy(3)) == 1);
    }
    auto a = f.service.emergency_status(c.id, f.owner).value().emergency.alerts.at(0);
    CHECK(a.state == "failed");
    CHECK(a.attempts == 3);
    CHECK(a.last_status == 0);
    CHECK_FALSE(a.last_error.empty());
    CHECK(a.done_at == f.clock.t);
    f.clock.t = f.clock.t + 3600;
    CHECK(f.service.deliver_alerts(quick_policy(3)) == 0);
    // Break glass itself never waits for the alert.
    CHECK(f.service.read_emergency(c.sid, kMedic).outcome == TierOutcome::Read);
}

TEST_CASE("emergency share alert: a break glass is still alerted when the patient revokes right after") {
    using namespace emergency_cases;
    shcx::test::WebhookReceiver hook;
    Fixture f;
    auto c = create_notified(f, hook.url());
    REQUIRE(f.service.break_glass(c.sid, "A; B; C", kMedic).outcome == TierOutcome::Read);
    REQUIRE(f.service.revoke(c.id, f.owner, "owner"));
    auto st = f.service.emergency_status(c.id, f.owner).value().emergency;
    CHECK(st.notify_url.empty());                          // the share's notify row died with it ...
    CHECK(f.service.deliver_alerts(quick_policy()) == 1);  // ... its alert did not
    REQUIRE(hook.hits().size() == 1);
    CHECK(shcx::test::alert_signature_ok(hook.hits()[0].headers["shcx-signature"], c.notify_secret.str(),
                                         hook.hits()[0].body));
    CHECK(f.service.emergency_status(c.id, f.owner).value().emergency.alerts.at(0).state == "delivered");
}

TEST_CASE("emergency share alert: a notify URL follows the URL policy: https, or http to loopback only") {
    using namespace emergency_cases;
    Fixture f;
    auto refused = f.service.create_emergency(f.owner, kSummary, kRecord, kYear, "", "http://example.org/hook");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::URL_REFUSED);
    auto invalid = f.service.create_emergency(f.owner, kSummary, kRecord, kYear, "", "not a url");
    REQUIRE_FALSE(invalid.ok());
    CHECK(invalid.error().code == ErrorCode::URL_INVALID);
    auto userinfo =
        f.service.create_emergency(f.owner, kSummary, kRecord, kYear, "", "https://user:pw@example.org/hook");
    REQUIRE_FALSE(userinfo.ok());
    CHECK(userinfo.error().code == ErrorCode::URL_REFUSED);
    auto ok = f.service.create_emergency(f.owner, kSummary, kRecord, kYear, "", "https://hooks.example.org/x");
    REQUIRE(ok.ok());
    CHECK(f.service.emergency_status(ok.value().id, f.owner).value().emergency.notify_url ==
          "https://hooks.example.org/x");
    // Without a URL: no secret, no alerts.
    auto plain = create(f);
    CHECK(plain.notify_secret.str().empty());
    REQUIRE(f.service.break_glass(plain.sid, "A; B; C", kMedic).outcome == TierOutcome::Read);
    CHECK(f.service.emergency_status(plain.id, f.owner).value().emergency.alerts.empty());
}

TEST_CASE("emergency share alert: two deliverers on one store deliver each alert exactly once") {
    using namespace emergency_cases;
    shcx::test::WebhookReceiver hook;
    Fixture f;
    auto second_store = f.open_again();  // another server process on the same database
    Service second{*second_store, f.clock, Fixture::config()};
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) {
        auto c = create_notified(f, hook.url());
        ids.push_back(c.id);
        REQUIRE(f.service.break_glass(c.sid, "A; B; C", {"192.0.2." + std::to_string(i), "x"}).outcome ==
                TierOutcome::Read);
    }
    auto policy = quick_policy();
    policy.batch = 1;
    std::atomic<int> attempted{0};
    auto run = [&](Service& s) {
        for (int round = 0; round < 8; ++round) attempted += s.deliver_alerts(policy);
    };
    std::thread a([&] { run(f.service); });
    std::thread b([&] { run(second); });
    a.join();
    b.join();
    CHECK(attempted == 4);
    REQUIRE(hook.hits().size() == 4);
    std::set<std::string> seen;
    for (const auto& hit : hook.hits()) seen.insert(nlohmann::json::parse(hit.body)["share_id"].get<std::string>());
    CHECK(seen == std::set<std::string>(ids.begin(), ids.end()));
}
