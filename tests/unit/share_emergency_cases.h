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
