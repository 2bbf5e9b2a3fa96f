// lib/shcx/trust/index: the compiled index of an installed snapshot is used only when it
// is authentic and bound to the installed files; anything else falls back to the full check.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "shcx/trust/index.h"
#include "shcx/trust/load.h"
#include "shcx/trust/local_issuers.h"
#include "support.h"

using namespace shcx;

namespace {
const double kNov2026 = 1795300000;
const std::string kDemo = "https://issuer.shcx.example/demo";
const std::string kDemoKid = "EJjOyYtie6145Ou71J8Y3gR7nX45v5ceeyZKAtPxvKo";
const std::string kCalifornia = "https://myvaccinerecord.cdph.ca.gov/creds";  // the snapshot's first issuer

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

test::fs::path install_dir(const test::TempDir& dir) { return test::fs::canonical(dir.path() / "current"); }
test::fs::path index_path(const test::TempDir& dir) { return install_dir(dir) / trust_index::kIndexFile; }

// What the index yields, in the form of the full check's result.
trust_index::Compiled as_compiled(const trust_index::Opened& o) {
    trust_index::Compiled c;
    c.snapshot.issuers = o.issuers->all();
    c.snapshot.time = o.snapshot_time;
    c.snapshot.crls = o.snapshot_crls;
    c.snapshot.invalid_crls = o.snapshot_invalid_crls;
    c.crls = o.crls;
    c.invalid_crls = o.invalid_crls;
    c.warnings = o.warnings;
    c.cert_not_before = o.cert_not_before;
    c.cert_not_after = o.cert_not_after;
    return c;
}

// Writes `text` as a new file renamed over `path` (how an install writes), keeping nothing
// of the old file but its name.
void replace_file(const test::fs::path& path, const std::string& text) {
    auto tmp = path.string() + ".new";
    test::write_file(tmp, text);
    test::fs::rename(tmp, path);
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
    CHECK_FALSE(trust_index::open(store, kNov2026).has_value());  // none yet
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    struct stat st {};
    REQUIRE(stat((dir.path() / trust_index::kKeyFile).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto opened = trust_index::open(store, kNov2026);
    REQUIRE(opened.has_value());
    CHECK(opened->meta.snapshot_time == "2026-08-22T04:43:50Z");
    CHECK(opened->issuers->size() == 651);
    CHECK(opened->issuers->contains(kCalifornia));
    CHECK_FALSE(opened->issuers->contains(kDemo));
    CHECK_FALSE(opened->issuers->contains(""));
    CHECK(opened->issuers->find(kDemo) == nullptr);
    const trust::Issuer* ca = opened->issuers->find(kCalifornia);
    REQUIRE(ca != nullptr);
    CHECK(ca->name == "State of California");
    CHECK(ca->keys.size() == 4);
    CHECK(opened->issuers->find(kCalifornia) == ca);  // decoded once, kept
    auto fast = as_compiled(*opened);
    auto full = trust_index::compile(current(store), kNov2026);
    REQUIRE(full.ok());
    check_same(fast, full.value());
    CHECK(fast.snapshot.issuers.size() == 651);
    CHECK(fast.warnings.size() == 1);
    CHECK(fast.warnings[0].code == ErrorCode::CRL_INVALID);
    // load() through the index: the same answers as test_trust_load's full-check case.
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE(loaded.ok());
    CHECK_FALSE(loaded.value().trust.empty());
    CHECK(loaded.value().trust.find(kCalifornia, ca->keys[0].kid).keys.size() == 1);
    CHECK(loaded.value().trust.find(kCalifornia, "no such kid").issuer->name == "State of California");
    CHECK(loaded.value().trust.issuers().size() == 651);
    CHECK(loaded.value().trust.find_crl(kDemo, kDemoKid)->ctr == 2);
    REQUIRE(loaded.value().warnings.size() == 1);
    CHECK(loaded.value().warnings[0].code == ErrorCode::CRL_INVALID);
    REQUIRE(loaded.value().meta.has_value());
    CHECK(loaded.value().meta->snapshot_time == "2026-08-22T04:43:50Z");
}

TEST_CASE("index: a tampered, truncated or foreign index is ignored and the full check runs" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    const std::string good = test::read_file(index_path(dir));
    REQUIRE(trust_index::open(store, kNov2026).has_value());
    uint64_t header_bytes = 0;
    std::memcpy(&header_bytes, good.data() + 19, sizeof header_bytes);  // after "shcx-trust-index-2\n"
    REQUIRE(good.substr(0, 19) == "shcx-trust-index-2\n");
    const size_t mac_at = 19 + 8 + header_bytes;
    REQUIRE(mac_at + 32 < good.size());

    SUBCASE("one byte flipped in the header") {
        std::string bad = good;
        bad[19 + 8 + header_bytes / 2] ^= 1;
        test::write_file(index_path(dir), bad);
    }
    SUBCASE("the header's length changed") {
        std::string bad = good;
        bad[19] ^= 1;
        test::write_file(index_path(dir), bad);
    }
    SUBCASE("one byte flipped in the MAC") {
        std::string bad = good;
        bad[mac_at + 31] ^= 1;
        test::write_file(index_path(dir), bad);
    }
    SUBCASE("an older format") {
        std::string bad = good;
        bad[17] = '1';
        test::write_file(index_path(dir), bad);
    }
    SUBCASE("truncated inside the records") { test::write_file(index_path(dir), good.substr(0, good.size() - 40)); }
    SUBCASE("truncated inside the header") { test::write_file(index_path(dir), good.substr(0, mac_at - 1)); }
    SUBCASE("empty") { test::write_file(index_path(dir), ""); }
    SUBCASE("another store's key") {
        std::string other(32, 'k');
        test::write_file(dir.path() / trust_index::kKeyFile, other);
        chmod((dir.path() / trust_index::kKeyFile).c_str(), 0600);
    }
    SUBCASE("a key that others can read is not trusted") { chmod((dir.path() / trust_index::kKeyFile).c_str(), 0644); }
    SUBCASE("the certificate is not valid at the verification time") {
        CHECK_FALSE(trust_index::open(store, 4102444800 /* 2100 */).has_value());
        auto loaded = trust_store::load(store, 4102444800);
        REQUIRE_FALSE(loaded.ok());
        CHECK(loaded.error().code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
        return;
    }
    CHECK_FALSE(trust_index::open(store, kNov2026).has_value());
    // The full check still answers, with the same trust.
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE(loaded.ok());
    CHECK(loaded.value().trust.issuers().size() == 651);
}

TEST_CASE("index: a record changed after the header is checked: the full check answers for the issuers" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    std::string bytes = test::read_file(index_path(dir));
    // The last issuer's record ends the file: its last byte belongs to it.
    bytes.back() ^= 1;
    test::write_file(index_path(dir), bytes);
    auto opened = trust_index::open(store, kNov2026);
    REQUIRE(opened.has_value());  // the header is intact
    auto full = trust_index::compile(current(store), kNov2026);
    REQUIRE(full.ok());
    // Every issuer is still the full check's, the damaged one included.
    check_same(as_compiled(*opened), full.value());
    const trust::Issuer* ca = opened->issuers->find(kCalifornia);
    REQUIRE(ca != nullptr);
    CHECK(ca->keys.size() == 4);

    SUBCASE("and the snapshot no longer verifies either: no issuer is trusted") {
        auto again = trust_index::open(store, kNov2026);
        REQUIRE(again.has_value());
        // The identity check passed at open; the snapshot is changed afterwards.
        auto json = install_dir(dir) / "vci_snapshot.json";
        std::string text = test::read_file(json);
        text[text.size() / 2] ^= 1;
        test::write_file(json, text);
        CHECK(again->issuers->find(full.value().snapshot.issuers.back().iss) == nullptr);
        CHECK(again->issuers->find(kCalifornia) == nullptr);
        CHECK(again->issuers->all().empty());
        CHECK(again->issuers->size() == 0);
    }
}

TEST_CASE("index: an edited snapshot is refused even with a valid index" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    auto json = install_dir(dir) / "vci_snapshot.json";
    std::string text = test::read_file(json);
    text[text.size() / 2] ^= 1;  // the same size

    SUBCASE("written in place") { test::write_file(json, text); }
    SUBCASE("written in place, its mtime put back") {
        struct stat before {};
        REQUIRE(stat(json.c_str(), &before) == 0);
        test::write_file(json, text);
        timespec times[2] = {before.st_atim, before.st_mtim};
        REQUIRE(utimensat(AT_FDCWD, json.c_str(), times, 0) == 0);
        struct stat after {};
        REQUIRE(stat(json.c_str(), &after) == 0);
        CHECK(after.st_size == before.st_size);
        CHECK(after.st_ino == before.st_ino);
        CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);  // only the ctime tells
    }
    SUBCASE("replaced by another file of the same size") { replace_file(json, text); }
    CHECK_FALSE(trust_index::open(store, kNov2026).has_value());
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
}

TEST_CASE("index: any installed file replaced, even by the same bytes, makes the index stale" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    REQUIRE(trust_index::open(store, kNov2026).has_value());
    auto inst = install_dir(dir);
    SUBCASE("the snapshot") { replace_file(inst / "vci_snapshot.json", test::read_file(inst / "vci_snapshot.json")); }
    SUBCASE("the signature") { replace_file(inst / "vci_snapshot.sig", test::read_file(inst / "vci_snapshot.sig")); }
    SUBCASE("the certificate") { replace_file(inst / "vci_snapshot.crt", test::read_file(inst / "vci_snapshot.crt")); }
    SUBCASE("the CRL list") { replace_file(inst / "crls/index.json", test::read_file(inst / "crls/index.json")); }
    SUBCASE("a file added to crls/") { test::write_file(inst / "crls/extra.json", "{}"); }
    SUBCASE("a CRL file removed") {
        std::string kept = test::read_file(inst / "crls/1.json");
        test::fs::remove(inst / "crls/1.json");
        test::write_file(inst / "crls/1.json", kept);
    }
    CHECK_FALSE(trust_index::open(store, kNov2026).has_value());
    // The bytes are the same: the full check answers as the index did.
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE(loaded.ok());
    CHECK(loaded.value().trust.issuers().size() == 651);
    CHECK(loaded.value().trust.find_crl(kDemo, kDemoKid)->ctr == 2);
}

TEST_CASE("index: meta.json is read from the install, and rewritten without making the index stale" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    trust_store::Meta meta = current(store).meta;
    meta.checked_at = 1795000000;  // what an unchanged (304) sync does
    REQUIRE_FALSE(trust_store::update_meta(store, meta).has_value());
    auto opened = trust_index::open(store, kNov2026);
    REQUIRE(opened.has_value());
    CHECK(opened->meta.checked_at == 1795000000);
    // An unreadable meta.json: the index is not used, and the full check says why.
    test::write_file(install_dir(dir) / "meta.json", "not json");
    CHECK_FALSE(trust_index::open(store, kNov2026).has_value());
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().code == ErrorCode::TRUST_STORE_DAMAGED);
}

TEST_CASE("index: a local issuer with a snapshot issuer's iss is merged into it, as without the index" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    std::string jwks = test::read_file(test::testdata_dir() / "issuer/jwks.json");
    REQUIRE_FALSE(trust_store::add_local_issuer(store, kCalifornia, "Local name", jwks).has_value());
    REQUIRE(trust_index::open(store, kNov2026).has_value());
    auto indexed = trust_store::load(store, kNov2026);
    REQUIRE(indexed.ok());
    test::fs::remove(index_path(dir));
    auto full = trust_store::load(store, kNov2026);
    REQUIRE(full.ok());
    for (const auto* loaded : {&indexed.value(), &full.value()}) {
        auto m = loaded->trust.find(kCalifornia, kDemoKid);
        REQUIRE(m.issuer != nullptr);
        CHECK(m.issuer->name == "State of California");  // the snapshot's name stays
        CHECK(m.issuer->keys.size() == 5);
        REQUIRE(m.keys.size() == 1);
        CHECK(m.keys[0]->kid == kDemoKid);
        CHECK(loaded->trust.issuers().size() == 651);
        CHECK(loaded->trust.issuers().front().iss == kCalifornia);
    }
}

TEST_CASE("index: an edited CRL file makes the index stale" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    install_real_snapshot(store);
    REQUIRE_FALSE(trust_index::write(store, kNov2026).has_value());
    auto crl = install_dir(dir) / "crls" / "0.json";
    test::write_file(crl, R"({"kid":")" + kDemoKid + R"(","method":"rid","ctr":3,"rids":["r1"]})");
    CHECK_FALSE(trust_index::open(store, kNov2026).has_value());
    auto loaded = trust_store::load(store, kNov2026);
    REQUIRE(loaded.ok());
    CHECK(loaded.value().trust.find_crl(kDemo, kDemoKid)->ctr == 3);
}

TEST_CASE("index: nothing installed, nothing written") {
    test::TempDir dir;
    CHECK_FALSE(trust_index::write(dir.path().string(), kNov2026).has_value());
    CHECK_FALSE(test::fs::exists(dir.path() / trust_index::kKeyFile));
}
