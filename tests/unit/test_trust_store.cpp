// lib/shcx/trust/store: where the store is, atomic installs, the lock, the signature check.
#include <doctest/doctest.h>

#include "shcx/trust/store.h"
#include "support.h"

using namespace shcx;

namespace {
const double kNov2026 = 1795300000;

trust_store::SnapshotFiles vci_files(const std::string& tag) {
    trust_store::SnapshotFiles s;
    auto dir = test::vectors_dir() / "vci";
    s.json = test::read_file(dir / "vci_snapshot.json");
    s.signature = test::read_file(dir / "vci_snapshot.sig");
    s.certificate = test::read_file(dir / "vci_snapshot.crt");
    s.meta.source = "vci";
    s.meta.snapshot_url = "https://example.org/vci_snapshot.json";
    s.meta.snapshot_time = "2026-08-22T04:43:50Z";
    s.meta.etag = "\"" + tag + "\"";
    s.meta.sha256 = tag + "0123456789abcdef";
    s.meta.fetched_at = s.meta.checked_at = kNov2026;
    s.meta.issuer_count = 651;
    s.crls = {{"https://a.example", R"({"kid":"k","method":"rid","ctr":1,"rids":[]})"}};
    return s;
}

size_t installs(const test::fs::path& store) {
    size_t n = 0;
    for (const auto& e : test::fs::directory_iterator(store / "snapshots"))
        n += e.path().filename().string().rfind(".staging-", 0) != 0;
    return n;
}
}  // namespace

TEST_CASE("the store directory: explicit, else XDG, else HOME, else the working directory") {
    using trust_store::Location;
    CHECK(trust_store::resolve_dir(Location{"/s", "/x", "/h"}) == "/s");
    CHECK(trust_store::resolve_dir(Location{"", "/x", "/h"}) == "/x/shcx/trust");
    CHECK(trust_store::resolve_dir(Location{"", "", "/h"}) == "/h/.local/share/shcx/trust");
    CHECK(trust_store::resolve_dir(Location{}) == ".shcx-trust");
}

TEST_CASE("an empty store has no current snapshot") {
    test::TempDir dir;
    auto current = trust_store::read_current(dir.path().string());
    REQUIRE(current.ok());
    CHECK_FALSE(current.value().has_value());
    CHECK(trust_store::update_meta(dir.path().string(), {}).value().code == ErrorCode::IO_ERROR);
}

TEST_CASE("install then read back: every file, the meta and the CRLs, current and previous rotate" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    auto first = vci_files("one");
    REQUIRE_FALSE(trust_store::install(store, first).has_value());
    auto back = trust_store::read_current(store).value();
    REQUIRE(back.has_value());
    CHECK(back->json == first.json);
    CHECK(back->signature == first.signature);
    CHECK(back->certificate == first.certificate);
    CHECK(back->meta.etag == "\"one\"");
    CHECK(back->meta.issuer_count == 651);
    CHECK(back->meta.fetched_at == kNov2026);
    REQUIRE(back->crls.size() == 1);
    CHECK(back->crls[0].iss == "https://a.example");
    CHECK(back->crls[0].json == first.crls[0].json);
    CHECK(test::fs::is_symlink(dir / "current"));
    CHECK_FALSE(test::fs::exists(dir / "previous"));

    REQUIRE_FALSE(trust_store::install(store, vci_files("two")).has_value());
    CHECK(trust_store::read_current(store).value()->meta.etag == "\"two\"");
    CHECK(test::fs::is_symlink(dir / "previous"));
    REQUIRE_FALSE(trust_store::install(store, vci_files("three")).has_value());
    CHECK(installs(dir.path()) == 2);  // current and previous only
    auto previous = test::read_file(dir / "previous/meta.json");
    CHECK(test::contains(previous, "two0123456789abcdef"));  // the sha256 field of install "two"

    auto meta = trust_store::read_current(store).value()->meta;
    meta.checked_at = kNov2026 + 60;
    REQUIRE_FALSE(trust_store::update_meta(store, meta).has_value());
    CHECK(trust_store::read_current(store).value()->meta.checked_at == kNov2026 + 60);
}

TEST_CASE("an install with a file missing is IO_ERROR, not a half snapshot" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    REQUIRE_FALSE(trust_store::install(store, vci_files("one")).has_value());
    test::fs::remove(test::fs::canonical(dir / "current") / "vci_snapshot.sig");
    auto current = trust_store::read_current(store);
    REQUIRE_FALSE(current.ok());
    CHECK(current.error().code == ErrorCode::IO_ERROR);
}

TEST_CASE("check_signature: the real snapshot verifies against the built-in pin, an edit does not" * doctest::test_suite("conformance")) {
    auto files = vci_files("x");
    CHECK_FALSE(trust_store::check_signature(files, kNov2026).has_value());
    files.json[100] ^= 1;
    CHECK(trust_store::check_signature(files, kNov2026)->code == ErrorCode::SNAPSHOT_SIGNATURE_INVALID);
}

TEST_CASE("the sync lock is exclusive and released with its holder") {
    test::TempDir dir;
    std::string store = (dir / "new-store").string();
    {
        auto held = trust_store::Lock::try_acquire(store);
        REQUIRE(held.ok());
        CHECK(test::fs::exists(dir / "new-store/sync.lock"));
        auto second = trust_store::Lock::try_acquire(store);
        REQUIRE_FALSE(second.ok());
        CHECK(second.error().code == ErrorCode::IO_ERROR);
        CHECK(test::contains(second.error().message, "is running"));
    }
    CHECK(trust_store::Lock::try_acquire(store).ok());
}

TEST_CASE("meta.json holds every field") {
    trust_store::Meta m;
    m.source = "vci";
    m.etag = "\"e\"";
    m.issuer_count = 3;
    m.fetched_at = 12.5;
    auto text = trust_store::meta_to_json(m);
    for (const char* field :
         {"\"source\": \"vci\"", "\"etag\": \"\\\"e\\\"\"", "\"issuer_count\": 3", "\"fetched_at\": 12.5",
          "\"snapshot_url\"", "\"snapshot_time\"", "\"checked_at\"", "\"last_modified\"", "\"sha256\""}) {
        CAPTURE(field);
        CHECK(test::contains(text, field));
    }
}
