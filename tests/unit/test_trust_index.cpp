// lib/shcx/trust/index: the compiled index of an installed snapshot is used only when it
// is authentic and matches the installed bytes; anything else falls back to the full check.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include "shcx/trust/index.h"
#include "shcx/trust/load.h"
#include "support.h"

using namespace shcx;

namespace {
const double kNov2026 = 1795300000;
const std::string kDemo = "https://issuer.shcx.example/demo";
const std::string kDemoKid = "EJjOyYtie6145Ou71J8Y3gR7nX45v5ceeyZKAtPxvKo";

void install_real_snapshot(const std::string& store) {
    trust_store::SnapshotFiles s;
    auto dir = test::vectors_dir() / "vci";
    s.json = test::read_file(dir / "vci_snapshot.json");
    s.signature = test::read_file(dir / "vci_snapshot.sig");
    s.certificate = test::read_file(dir / "vci_snapshot.crt");
    s.meta.snapshot_time = "2026-08-22T04:43:50Z";
    s.crls = {{kDemo, R"({"kid":")" + kDemoKid + R"(","method":"rid","ctr":2,"rids":["r1","r2.1700000000"]})"},
              {kDemo, "not a CRL"}};
    REQUIRE_FALSE(trust_store::install(store, s).has_value());
}

trust_store::SnapshotFiles current(const std::string& store) { return *trust_store::read_current(store).value(); }

test::fs::path index_path(const test::TempDir& dir) {
    return test::fs::canonical(dir.path() / "current") / trust_index::kIndexFile;
}

// The index yields exactly what the full check yields.
void check_same(const trust_index::Compiled& a, const trust_index::Compiled& b) {
    REQUIRE(a.snapshot.issuers.size() == b.snapshot.issuers.size());
    for (size_t i = 0; i < a.snapshot.issuers.size(); ++i) {
        const auto& x = a.snapshot.issuers[i];
        const auto& y = b.snapshot.issuers[i];
        CHECK(x.iss == y.iss);
        CHECK(x.name == y.name);
        CHECK(x.website == y.website);
        CHECK(x.canonical_iss == y.canonical_iss);
        CHECK(x.source == y.source);
        REQUIRE(x.keys.size() == y.keys.size());
        for (size_t k = 0; k < x.keys.size(); ++k) {
            CHECK(x.keys[k].kid == y.keys[k].kid);
            CHECK(x.keys[k].x == y.keys[k].x);
            CHECK(x.keys[k].y == y.keys[k].y);
            CHECK(x.keys[k].alg == y.keys[k].alg);
            CHECK(x.keys[k].use == y.keys[k].use);
            CHECK(x.keys[k].crl_version == y.keys[k].crl_version);
            CHECK(x.keys[k].x5c == y.keys[k].x5c);
        }
    }
    CHECK(a.snapshot.time == b.snapshot.time);
    REQUIRE(a.snapshot.crls.size() == b.snapshot.crls.size());
    REQUIRE(a.crls.size() == b.crls.size());
    for (size_t i = 0; i < a.crls.size(); ++i) {
        CHECK(a.crls[i].first == b.crls[i].first);
        CHECK(a.crls[i].second.ctr == b.crls[i].second.ctr);
        REQUIRE(a.crls[i].second.entries.size() == b.crls[i].second.entries.size());
        for (size_t e = 0; e < a.crls[i].second.entries.size(); ++e) {
            CHECK(a.crls[i].second.entries[e].rid == b.crls[i].second.entries[e].rid);
            CHECK(a.crls[i].second.entries[e].before == b.crls[i].second.entries[e].before);
        }
    }
    REQUIRE(a.invalid_crls.size() == b.invalid_crls.size());
    REQUIRE(a.warnings.size() == b.warnings.size());
    for (size_t i = 0; i < a.warnings.size(); ++i) {
        CHECK(a.warnings[i].code == b.warnings[i].code);
        CHECK(a.warnings[i].message == b.warnings[i].message);
    }
}
}  // namespace

TEST_CASE("index: written at sync, used when it matches, the same trust as the full check" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    CHECK_FALSE(trust_index::open(store, current(store), kNov2026).has_value());  // none yet
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    struct stat st {};
    REQUIRE(stat((dir.path() / trust_index::kKeyFile).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto fast = trust_index::open(store, current(store), kNov2026);
    REQUIRE(fast.has_value());
    auto full = trust_index::compile(current(store), kNov2026);
    REQUIRE(full.ok());
    check_same(*fast, full.value());
    CHECK(fast->snapshot.issuers.size() == 651);
    CHECK(fast->warnings.size() == 1);
    CHECK(fast->warnings[0].code == ErrorCode::CRL_INVALID);
    // load() through the index: the same answers as test_trust_load's full-check case.
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE(loaded.ok());
    CHECK(loaded.value().trust.issuers().size() == 651);
    CHECK(loaded.value().trust.find_crl(kDemo, kDemoKid)->ctr == 2);
    REQUIRE(loaded.value().warnings.size() == 1);
    CHECK(loaded.value().warnings[0].code == ErrorCode::CRL_INVALID);
}

TEST_CASE("index: a tampered, truncated or foreign index is ignored and the full check runs" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    const std::string good = test::read_file(index_path(dir));
    REQUIRE(trust_index::open(store, current(store), kNov2026).has_value());

    SUBCASE("one byte flipped in the body") {
        std::string bad = good;
        bad[bad.size() / 2] ^= 1;
        test::write_file(index_path(dir), bad);
    }
    SUBCASE("one byte flipped in the MAC") {
        std::string bad = good;
        bad.back() ^= 1;
        test::write_file(index_path(dir), bad);
    }
    SUBCASE("truncated") { test::write_file(index_path(dir), good.substr(0, good.size() - 40)); }
    SUBCASE("empty") { test::write_file(index_path(dir), ""); }
    SUBCASE("another store's key") {
        std::string other(32, 'k');
        test::write_file(dir.path() / trust_index::kKeyFile, other);
        chmod((dir.path() / trust_index::kKeyFile).c_str(), 0600);
    }
    SUBCASE("a key that others can read is not trusted") { chmod((dir.path() / trust_index::kKeyFile).c_str(), 0644); }
    SUBCASE("the certificate is not valid at the verification time") {
        CHECK_FALSE(trust_index::open(store, current(store), 4102444800 /* 2100 */).has_value());
        auto loaded = trust_store::load(store, 4102444800);
        REQUIRE_FALSE(loaded.ok());
        CHECK(loaded.error().code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
        return;
    }
    CHECK_FALSE(trust_index::open(store, current(store), kNov2026).has_value());
    // The full check still answers, with the same trust.
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE(loaded.ok());
    CHECK(loaded.value().trust.issuers().size() == 651);
}

TEST_CASE("index: an edited snapshot is refused even with a valid index" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    auto json = test::fs::canonical(dir.path() / "current") / "vci_snapshot.json";
    auto text = test::read_file(json);
    text[text.size() / 2] ^= 1;
    test::write_file(json, text);
    CHECK_FALSE(trust_index::open(store, current(store), kNov2026).has_value());
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
}

TEST_CASE("index: an edited CRL file makes the index stale" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    auto crl = test::fs::canonical(dir.path() / "current") / "crls" / "0.json";
    test::write_file(crl, R"({"kid":")" + kDemoKid + R"(","method":"rid","ctr":3,"rids":["r1"]})");
    CHECK_FALSE(trust_index::open(store, current(store), kNov2026).has_value());
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE(loaded.ok());
    CHECK(loaded.value().trust.find_crl(kDemo, kDemoKid)->ctr == 3);
}

TEST_CASE("index: nothing installed, nothing written") {
    test::TempDir dir;
    CHECK_FALSE(trust_index::write(dir.path().string(), kNov2026).has_value());
    CHECK_FALSE(test::fs::exists(dir.path() / trust_index::kKeyFile));
}
