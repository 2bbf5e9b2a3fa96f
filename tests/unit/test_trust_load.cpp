// lib/shcx/trust/load: what a verifier trusts (store, one-off files) and `trust status`.
#include <doctest/doctest.h>

#include "shcx/trust/load.h"
#include "shcx/trust/local_issuers.h"
#include "support.h"

using namespace shcx;

namespace {
const double kNov2026 = 1795300000;
const std::string kDemo = "https://issuer.shcx.example/demo";
const std::string kDemoKid = "EJjOyYtie6145Ou71J8Y3gR7nX45v5ceeyZKAtPxvKo";

std::string demo_jwks_path() { return (test::testdata_dir() / "issuer/jwks.json").string(); }

void install_real_snapshot(const std::string& store) {
    trust_store::SnapshotFiles s;
    auto dir = test::vectors_dir() / "vci";
    s.json = test::read_file(dir / "vci_snapshot.json");
    s.signature = test::read_file(dir / "vci_snapshot.sig");
    s.certificate = test::read_file(dir / "vci_snapshot.crt");
    s.meta.snapshot_time = "2026-08-22T04:43:50Z";
    s.crls = {{kDemo, R"({"kid":")" + kDemoKid + R"(","method":"rid","ctr":2,"rids":["r1"]})"}, {kDemo, "not a CRL"}};
    REQUIRE_FALSE(trust_store::install(store, s).has_value());
}
}  // namespace

TEST_CASE("load: an empty store trusts nobody") {
    test::TempDir dir;
    auto loaded = trust_store::load(dir.path().string(), kNov2026);
    REQUIRE(loaded.ok());
    CHECK(loaded.value().trust.empty());
    CHECK_FALSE(loaded.value().meta.has_value());
    CHECK(loaded.value().local_issuers == 0);
}

TEST_CASE("load: the installed snapshot, its CRLs (bad ones as warnings) and local issuers" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_store::add_local_issuer(store, kDemo, "Demo", test::read_file(demo_jwks_path())).has_value());
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE(loaded.ok());
    const auto& l = loaded.value();
    CHECK(l.trust.issuers().size() == 652);
    CHECK(l.local_issuers == 1);
    REQUIRE(l.meta.has_value());
    CHECK(l.meta->snapshot_time == "2026-08-22T04:43:50Z");
    auto demo = l.trust.find(kDemo, kDemoKid);
    REQUIRE(demo.issuer);
    CHECK(demo.issuer->source == "local");
    CHECK(l.trust.find_crl(kDemo, kDemoKid)->ctr == 2);
    REQUIRE(l.warnings.size() == 1);
    CHECK(l.warnings[0].code == ErrorCode::CRL_INVALID);
}

TEST_CASE("load: a snapshot edited on disk is refused" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    auto json = test::fs::canonical(dir / "current") / "vci_snapshot.json";
    auto text = test::read_file(json);
    text[text.size() / 2] ^= 1;
    test::write_file(json, text);
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
    CHECK(test::contains(loaded.error().message, "run `shcx trust sync`"));
}

TEST_CASE("assemble: a snapshot file instead of the store, extra JWKS bound or unbound, extra CRLs" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    test::write_file(dir / "crl.json", R"({"kid":")" + kDemoKid + R"(","method":"rid","ctr":5,"rids":["x"]})");
    trust_store::Sources s;
    s.snapshot_file = (test::vectors_dir() / "vci/vci_snapshot.json").string();
    s.store = "/nonexistent/never-read";
    s.jwks = {{kDemo, demo_jwks_path()}};
    s.crl_files = {(dir / "crl.json").string()};
    auto loaded = trust_store::assemble(s, kNov2026);
    REQUIRE(loaded.ok());
    const auto& trust = loaded.value().trust;
    CHECK(trust.issuers().size() == 652);
    CHECK(trust.find(kDemo, kDemoKid).keys.size() == 1);
    CHECK(trust.find("https://elsewhere.example", kDemoKid).keys.empty());  // bound to kDemo
    CHECK(trust.find_crl("https://any.example", kDemoKid)->ctr == 5);       // CRL files apply under any iss

    trust_store::Sources unbound;
    unbound.store = dir.path().string();  // empty store
    unbound.jwks = {{"", demo_jwks_path()}};
    auto any = trust_store::assemble(unbound, kNov2026);
    REQUIRE(any.ok());
    CHECK(any.value().trust.find("https://elsewhere.example", kDemoKid).keys.size() == 1);
}

TEST_CASE("assemble: each unusable file is an error naming it") {
    test::TempDir dir;
    test::write_file(dir / "bad.json", "[]");
    auto store = dir.path().string();
    auto missing = (dir / "missing.json").string();
    auto bad = (dir / "bad.json").string();
    struct Case {
        trust_store::Sources sources;
        ErrorCode code;
        std::string named;
    } cases[] = {
        {{missing, store, {}, {}}, ErrorCode::INPUT_UNREADABLE, missing},
        {{bad, store, {}, {}}, ErrorCode::SNAPSHOT_INVALID, bad},
        {{"", store, {{"", missing}}, {}}, ErrorCode::INPUT_UNREADABLE, missing},
        {{"", store, {{"", bad}}, {}}, ErrorCode::KEY_INVALID, bad},
        {{"", store, {}, {missing}}, ErrorCode::INPUT_UNREADABLE, missing},
        {{"", store, {}, {bad}}, ErrorCode::CRL_INVALID, bad},
    };
    for (const auto& c : cases) {
        CAPTURE(c.named);
        auto r = trust_store::assemble(c.sources, kNov2026);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == c.code);
        CHECK(test::contains(r.error().message, c.named));
    }
}

TEST_CASE("inspect: usable with a verified snapshot, or with local issuers only" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    auto empty = trust_store::inspect(store, kNov2026).value();
    CHECK_FALSE(empty.snapshot.has_value());
    CHECK_FALSE(empty.usable());
    REQUIRE_FALSE(trust_store::add_local_issuer(store, kDemo, "", test::read_file(demo_jwks_path())).has_value());
    auto local = trust_store::inspect(store, kNov2026).value();
    CHECK(local.local_issuers == 1);
    CHECK(local.usable());
    install_real_snapshot(store);
    auto good = trust_store::inspect(store, kNov2026).value();
    REQUIRE(good.snapshot.has_value());
    CHECK_FALSE(good.signature_problem.has_value());
    CHECK(good.usable());
    // The certificate has expired by 2033: the same files no longer check out.
    auto later = trust_store::inspect(store, 2000000000.0).value();
    REQUIRE(later.signature_problem.has_value());
    CHECK(later.signature_problem->code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
    CHECK_FALSE(later.usable());
}

TEST_CASE("inspect and load: an install with a file missing or meta.json unreadable is TRUST_STORE_DAMAGED" *
          doctest::test_suite("conformance")) {
    for (const char* damage : {"remove vci_snapshot.sig", "remove meta.json", "garble meta.json"}) {
        CAPTURE(damage);
        test::TempDir dir;
        std::string store = dir.path().string();
        install_real_snapshot(store);
        auto current = test::fs::canonical(dir / "current");
        std::string what = damage;
        if (what == "garble meta.json") test::write_file(current / "meta.json", "{\"source\": ");
        else test::fs::remove(current / what.substr(7));
        auto status = trust_store::inspect(store, kNov2026);
        REQUIRE_FALSE(status.ok());
        CHECK(status.error().code == ErrorCode::TRUST_STORE_DAMAGED);
        auto loaded = trust_store::load(store, kNov2026);
        REQUIRE_FALSE(loaded.ok());
        CHECK(loaded.error().code == ErrorCode::TRUST_STORE_DAMAGED);
        CHECK(test::contains(loaded.error().message, "run `shcx trust sync`"));
    }
}

TEST_CASE("inspect: a truncated snapshot is unusable (its signature fails)" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    auto json = test::fs::canonical(dir / "current") / "vci_snapshot.json";
    auto text = test::read_file(json);
    test::write_file(json, text.substr(0, text.size() / 2));
    auto st = trust_store::inspect(store, kNov2026).value();
    REQUIRE(st.signature_problem.has_value());
    CHECK(st.signature_problem->code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
    CHECK_FALSE(st.usable());
    CHECK(trust_store::check_installed(*st.snapshot, kNov2026)->code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
}

TEST_CASE("check_age: stale past the limit, by the snapshot's time, else by its fetch time") {
    trust_store::Meta m;
    m.snapshot_time = "2026-08-22T04:43:50Z";
    const double made = 1787373830;  // 2026-08-22T04:43:50Z
    const double day = 86400;
    CHECK_FALSE(trust_store::check_age(m, made + 90 * day, 90 * day).has_value());  // exactly the limit: fresh
    auto stale = trust_store::check_age(m, made + 90 * day + 1, 90 * day);
    REQUIRE(stale.has_value());
    CHECK(stale->code == ErrorCode::TRUST_SNAPSHOT_STALE);
    CHECK(
        stale->message ==
        "the trust snapshot of 2026-08-22T04:43:50Z is 90 days old, over the limit of 90 days; run `shcx trust sync`");
    CHECK(trust_store::check_age(m, made + 13 * 3600, 12 * 3600)->message ==
          "the trust snapshot of 2026-08-22T04:43:50Z is 13 h old, over the limit of 12 h; run `shcx trust sync`");
    // No readable snapshot time: the fetch time stands in.
    m.snapshot_time = "garbage";
    m.fetched_at = made;
    CHECK_FALSE(trust_store::check_age(m, made + day, 2 * day).has_value());
    CHECK(trust_store::check_age(m, made + 3 * day, 2 * day)->code == ErrorCode::TRUST_SNAPSHOT_STALE);
}
