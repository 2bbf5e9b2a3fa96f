// lib/shcx/trust/sync against a real HTTP server on 127.0.0.1 serving the VCI vectors.
#include <doctest/doctest.h>

#include "shcx/digest.h"
#include "shcx/trust/load.h"
#include "shcx/trust/store.h"
#include "shcx/trust/sync.h"
#include "support.h"
#include "vci_server.h"

using namespace shcx;

namespace {
const double kNov2026 = 1795300000;

trust_sync::Options options(const test::VciServer& server, const std::string& store) {
    trust_sync::Options o;
    o.store = store;
    o.source = vci::resolve_source(server.url()).value();  // a mirror, held to the built-in pin
    o.fetch_crls = false;                                  // CRLs live on the issuers' own hosts: no network in tests
    o.now = kNov2026;
    return o;
}
}  // namespace

TEST_CASE("sync installs a verified snapshot, then a conditional GET finds it unchanged" *
          doctest::test_suite("conformance")) {
    test::VciServer server;
    test::TempDir dir;
    auto opt = options(server, dir.path().string());
    auto first = trust_sync::sync(opt);
    REQUIRE(first.ok());
    CHECK(first.value().outcome == trust_sync::Outcome::Installed);
    const auto& meta = first.value().meta;
    auto json = test::read_file(test::vectors_dir() / "vci/vci_snapshot.json");
    CHECK(meta.sha256 == digest::hex(digest::sha256(json)));
    CHECK(meta.issuer_count == 651);
    CHECK(meta.snapshot_time == "2026-08-22T04:43:50Z");
    CHECK(meta.etag == "\"snapshot-v1\"");
    CHECK(meta.source == server.url());
    CHECK(trust_store::read_current(opt.store).value()->json == json);

    opt.now += 3600;
    auto second = trust_sync::sync(opt);
    REQUIRE(second.ok());
    CHECK(second.value().outcome == trust_sync::Outcome::Unchanged);
    CHECK(server.not_modified_sent() == 1);
    CHECK(trust_store::read_current(opt.store).value()->meta.checked_at == kNov2026 + 3600);
    CHECK(trust_store::read_current(opt.store).value()->meta.fetched_at == kNov2026);

    opt.force = true;
    auto forced = trust_sync::sync(opt);
    REQUIRE(forced.ok());
    CHECK(forced.value().outcome == trust_sync::Outcome::Installed);
    CHECK(server.snapshot_bodies_sent() == 2);
}

TEST_CASE("a failed sync leaves the installed snapshot as it was" * doctest::test_suite("conformance")) {
    test::VciServer server;
    test::TempDir dir;
    auto opt = options(server, dir.path().string());
    REQUIRE(trust_sync::sync(opt).ok());
    opt.force = true;
    auto before = test::read_file(dir / "current/meta.json");
    struct Case {
        test::VciServer::Mode mode;
        ErrorCode code;
    } cases[] = {
        {test::VciServer::Mode::TamperedSnapshot, ErrorCode::SNAPSHOT_SIGNATURE_INVALID},
        {test::VciServer::Mode::TamperedSignature, ErrorCode::SNAPSHOT_SIGNATURE_INVALID},
        {test::VciServer::Mode::WrongCertificate, ErrorCode::SNAPSHOT_SIGNATURE_INVALID},
        {test::VciServer::Mode::Error500, ErrorCode::NETWORK_ERROR},
        {test::VciServer::Mode::Truncated, ErrorCode::NETWORK_ERROR},
    };
    for (const auto& c : cases) {
        int mode = static_cast<int>(c.mode);
        CAPTURE(mode);
        server.set_mode(c.mode);
        auto r = trust_sync::sync(opt);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == c.code);
        CHECK(test::read_file(dir / "current/meta.json") == before);
    }
    server.set_mode(test::VciServer::Mode::Good);
    opt.max_snapshot_bytes = 1000;
    CHECK(trust_sync::sync(opt).error().code == ErrorCode::INPUT_TOO_LARGE);
}

TEST_CASE("a sync while another holds the lock is IO_ERROR" * doctest::test_suite("conformance")) {
    test::VciServer server;
    test::TempDir dir;
    auto held = trust_store::Lock::try_acquire(dir.path().string());
    REQUIRE(held.ok());
    auto r = trust_sync::sync(options(server, dir.path().string()));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::IO_ERROR);
    CHECK(server.snapshot_bodies_sent() == 0);
}

TEST_CASE("sync checks the installed copy before a 304 may vouch for it: a damaged one is downloaded again" *
          doctest::test_suite("conformance")) {
    struct Case {
        const char* damage;
        ErrorCode found;
    } cases[] = {
        {"edit vci_snapshot.json", ErrorCode::SNAPSHOT_SIGNATURE_INVALID},
        {"truncate vci_snapshot.json", ErrorCode::SNAPSHOT_SIGNATURE_INVALID},
        {"truncate vci_snapshot.sig", ErrorCode::SNAPSHOT_SIGNATURE_INVALID},
        {"remove vci_snapshot.crt", ErrorCode::TRUST_STORE_DAMAGED},
        {"garble meta.json", ErrorCode::TRUST_STORE_DAMAGED},
        {"remove the install", ErrorCode::TRUST_STORE_DAMAGED},
    };
    for (const auto& c : cases) {
        CAPTURE(c.damage);
        test::VciServer server;
        test::TempDir dir;
        auto opt = options(server, dir.path().string());
        REQUIRE(trust_sync::sync(opt).ok());
        auto current = test::fs::canonical(dir / "current");
        std::string d = c.damage;
        if (d == "edit vci_snapshot.json") {
            auto text = test::read_file(current / "vci_snapshot.json");
            text[text.size() / 3] ^= 1;
            test::write_file(current / "vci_snapshot.json", text);
        } else if (d.rfind("truncate ", 0) == 0) {
            auto file = current / d.substr(9);
            test::write_file(file, test::read_file(file).substr(0, 20));
        } else if (d == "remove vci_snapshot.crt") {
            test::fs::remove(current / "vci_snapshot.crt");
        } else if (d == "garble meta.json") {
            test::write_file(current / "meta.json", "not json");
        } else {
            test::fs::remove_all(current);
        }
        REQUIRE_FALSE(trust_store::load(opt.store, opt.now).ok());

        opt.now += 3600;
        auto r = trust_sync::sync(opt);  // not forced: a sound install would get a 304
        REQUIRE(r.ok());
        CHECK(r.value().outcome == trust_sync::Outcome::Installed);
        CHECK(server.not_modified_sent() == 0);
        CHECK(server.snapshot_bodies_sent() == 2);
        REQUIRE(r.value().warnings.size() >= 1);
        CHECK(r.value().warnings[0].code == ErrorCode::TRUST_STORE_REPAIRED);
        CHECK(test::contains(r.value().warnings[0].message, std::string(code_name(c.found))));
        auto loaded = trust_store::load(opt.store, opt.now);
        REQUIRE(loaded.ok());
        CHECK(loaded.value().meta->issuer_count == 651);
        // Repaired: the next sync is a plain 304 again.
        auto again = trust_sync::sync(opt);
        REQUIRE(again.ok());
        CHECK(again.value().outcome == trust_sync::Outcome::Unchanged);
        CHECK(again.value().warnings.empty());
    }
}

TEST_CASE("a damaged store whose repair fails says so and stays as it was" * doctest::test_suite("conformance")) {
    test::VciServer server;
    test::TempDir dir;
    auto opt = options(server, dir.path().string());
    REQUIRE(trust_sync::sync(opt).ok());
    auto current = test::fs::canonical(dir / "current");
    test::fs::remove(current / "vci_snapshot.sig");
    server.set_mode(test::VciServer::Mode::Error500);
    auto r = trust_sync::sync(opt);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::NETWORK_ERROR);
    CHECK(test::contains(r.error().message, "was damaged (TRUST_STORE_DAMAGED: "));
    CHECK(test::contains(r.error().message, "is still in place"));
    CHECK(test::fs::canonical(dir / "current") == current);
}
