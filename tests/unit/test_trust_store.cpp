// lib/shcx/trust/store: where the store is, atomic installs, the lock, the signature check.
#include <doctest/doctest.h>
#include <sys/stat.h>

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

TEST_CASE("the store directory: explicit, else root's system store, else the user's, else the system store") {
    using trust_store::Access;
    test::TempDir dir;
    auto system = (dir / "system").string(), xdg = (dir / "xdg").string(), home = (dir / "home").string();
    auto where = [&](std::string explicit_dir, std::string x, std::string h, bool admin) {
        trust_store::Location l;
        l.dir = std::move(explicit_dir);
        l.xdg_data_home = std::move(x);
        l.home = std::move(h);
        l.system_dir = system;
        l.admin = admin;
        return l;
    };
    auto xdg_store = xdg + "/shcx/trust", home_store = home + "/.local/share/shcx/trust";
    for (auto access : {Access::Read, Access::Write}) {
        CAPTURE(static_cast<int>(access));
        // An explicit directory wins for everyone.
        CHECK(trust_store::resolve_dir(where("/s", xdg, home, true), access) == "/s");
        CHECK(trust_store::resolve_dir(where("/s", xdg, home, false), access) == "/s");
        // Root uses the system store.
        CHECK(trust_store::resolve_dir(where("", xdg, home, true), access) == system);
        // Others: the user store, XDG first; nothing installed anywhere yet.
        CHECK(trust_store::resolve_dir(where("", xdg, home, false), access) == xdg_store);
        CHECK(trust_store::resolve_dir(where("", "", home, false), access) == home_store);
        // No HOME (or only relative paths, which XDG says to ignore): never ./.shcx-trust,
        // the system store.
        CHECK(trust_store::resolve_dir(where("", "", "", false), access) == system);
        CHECK(trust_store::resolve_dir(where("", "rel", "also-rel", false), access) == system);
    }
    // Once the system store holds trust, a user with no store of their own reads it, but
    // writes their own.
    test::fs::create_directories(system);
    test::write_file(test::fs::path(system) / "local_issuers.json", "{}");
    CHECK(trust_store::holds_trust(system));
    CHECK_FALSE(trust_store::holds_trust(home_store));
    CHECK(trust_store::resolve_dir(where("", "", home, false), Access::Read) == system);
    CHECK(trust_store::resolve_dir(where("", "", home, false), Access::Write) == home_store);
    // A directory alone (say, a lock left by a failed sync) does not shadow it...
    test::fs::create_directories(home_store);
    test::write_file(test::fs::path(home_store) / "sync.lock", "");
    CHECK(trust_store::resolve_dir(where("", "", home, false), Access::Read) == system);
    // ...a user store with an install does, damaged or not (the damage is then reported).
    test::fs::create_directory_symlink("snapshots/gone", test::fs::path(home_store) / "current");
    CHECK(trust_store::resolve_dir(where("", "", home, false), Access::Read) == home_store);
    CHECK(trust_store::read_current(home_store).error().code == ErrorCode::TRUST_STORE_DAMAGED);
}

TEST_CASE("an empty store has no current snapshot") {
    test::TempDir dir;
    auto current = trust_store::read_current(dir.path().string());
    REQUIRE(current.ok());
    CHECK_FALSE(current.value().has_value());
    CHECK(trust_store::update_meta(dir.path().string(), {}).value().code == ErrorCode::IO_ERROR);
}

TEST_CASE("install then read back: every file, the meta and the CRLs, current and previous rotate" *
          doctest::test_suite("conformance")) {
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

TEST_CASE("an install with a file missing is TRUST_STORE_DAMAGED, not a half snapshot" *
          doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = dir.path().string();
    REQUIRE_FALSE(trust_store::install(store, vci_files("one")).has_value());
    test::fs::remove(test::fs::canonical(dir / "current") / "vci_snapshot.sig");
    auto current = trust_store::read_current(store);
    REQUIRE_FALSE(current.ok());
    CHECK(current.error().code == ErrorCode::TRUST_STORE_DAMAGED);
}

TEST_CASE("check_signature: the real snapshot verifies against the built-in pin, an edit does not" *
          doctest::test_suite("conformance")) {
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

TEST_CASE("an install is world-readable whatever the writer's umask" * doctest::test_suite("conformance")) {
    test::TempDir dir;
    std::string store = (dir / "store").string();
    mode_t old = umask(077);
    auto lock = trust_store::Lock::try_acquire(store);
    auto installed = trust_store::install(store, vci_files("one"));
    auto updated = trust_store::update_meta(store, vci_files("one").meta);
    umask(old);
    REQUIRE(lock.ok());
    REQUIRE_FALSE(installed.has_value());
    REQUIRE_FALSE(updated.has_value());
    auto mode = [](const test::fs::path& p) { return static_cast<int>(test::fs::status(p).permissions()); };
    CHECK(mode(store) == 0755);
    CHECK(mode(dir / "store/snapshots") == 0755);
    auto current = test::fs::canonical(dir / "store/current");
    CHECK(mode(current) == 0755);
    CHECK(mode(current / "crls") == 0755);
    for (const char* f :
         {"vci_snapshot.json", "vci_snapshot.sig", "vci_snapshot.crt", "meta.json", "crls/0.json", "crls/index.json"}) {
        CAPTURE(f);
        CHECK(mode(current / f) == 0644);
    }
}
