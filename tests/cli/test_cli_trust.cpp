// `shcx trust` end to end against a real HTTP server on 127.0.0.1 serving the VCI
// vectors: every failure leaves the installed store exactly as it was.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "support.h"
#include "vci_server.h"

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

using Mode = VciServer::Mode;

RunResult sync(const VciServer& srv, const fs::path& store, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"trust", "sync", "--store", store.string(), "--source", srv.url()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_shcx(args);
}

// What is installed: the current symlink's target and the bytes behind it.
std::string installed_state(const fs::path& store) {
    std::error_code ec;
    if (!fs::is_symlink(store / "current", ec)) return "(none)";
    std::string s = fs::read_symlink(store / "current").string() + "\n";
    for (const char* f : {"vci_snapshot.json", "vci_snapshot.sig", "vci_snapshot.crt"})
        s += read_file(store / "current" / f);
    return s;
}

json store_status(const fs::path& store) {
    auto r = run_shcx({"trust", "status", "--json", "--store", store.string()});
    return json::parse(r.out);
}

}  // namespace

TEST_CASE("trust sync installs a verified snapshot, status reports it, unchanged is not downloaded again" *
          doctest::test_suite("conformance")) {
    VciServer srv;
    TempDir tmp;
    auto store = tmp / "store";
    auto r = sync(srv, store);
    CAPTURE(r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.out, "Installed VCI snapshot of 2026-08-22T04:43:50Z: 651 issuers, signature verified"));
    CHECK(read_file(store / "current/vci_snapshot.json") == read_file(vectors_dir() / "vci/vci_snapshot.json"));
    auto st = store_status(store);
    CHECK(st["snapshot"]["signature"] == "verified");
    CHECK(st["snapshot"]["issuers"] == 651);
    CHECK(st["snapshot"]["time"] == "2026-08-22T04:43:50Z");
    CHECK(st["snapshot"]["etag"] == "\"snapshot-v1\"");
    CHECK(st["snapshot"]["source"] == srv.url());
    CHECK(run_shcx({"trust", "status", "--store", store.string()}).code == 0);

    std::string before = installed_state(store);
    auto again = sync(srv, store);
    CHECK(again.code == 0);
    CHECK(contains(again.out, "unchanged"));
    CHECK(srv.snapshot_bodies_sent() == 1);
    CHECK(srv.not_modified_sent() == 1);
    CHECK(installed_state(store) == before);

    // --force downloads again and installs a fresh copy; the old one becomes `previous`.
    auto forced = sync(srv, store, {"--force"});
    CHECK(forced.code == 0);
    CHECK(srv.snapshot_bodies_sent() == 2);
    CHECK(fs::is_symlink(store / "previous"));
    CHECK(read_file(store / "previous/vci_snapshot.json") == read_file(store / "current/vci_snapshot.json"));

    // The installed store is what verify uses: issuers listed, real names shown.
    auto list = run_shcx({"trust", "list", "--json", "--store", store.string()});
    CHECK(list.code == 0);
    CHECK(json::parse(list.out)["issuers"].size() == 651);
}

TEST_CASE("every failed sync exits non-zero, says what happened and leaves the store untouched" *
          doctest::test_suite("conformance")) {
    VciServer srv;
    TempDir tmp;
    auto store = tmp / "store";
    REQUIRE(sync(srv, store).code == 0);
    const std::string good = installed_state(store);
    struct Case {
        Mode mode;
        int code;
        std::string message;
    } cases[] = {
        {Mode::TamperedSnapshot, 1, "SNAPSHOT_SIGNATURE_INVALID"},
        {Mode::TamperedSignature, 1, "SNAPSHOT_SIGNATURE_INVALID"},
        {Mode::WrongCertificate, 1, "is not the pinned"},
        {Mode::Error500, 2, "HTTP 500"},
        {Mode::Truncated, 2, "NETWORK_ERROR"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.message);
        srv.set_mode(c.mode);
        auto r = sync(srv, store, {"--force"});
        CHECK(r.code == c.code);
        CHECK(contains(r.err, c.message));
        CHECK(contains(r.err, "left unchanged"));
        CHECK(r.out.empty());
        CHECK(installed_state(store) == good);
        CHECK(store_status(store)["snapshot"]["signature"] == "verified");
    }
    // The same failures on an empty store install nothing at all.
    srv.set_mode(Mode::TamperedSnapshot);
    auto fresh = tmp / "fresh";
    CHECK(sync(srv, fresh).code == 1);
    CHECK(installed_state(fresh) == "(none)");
    CHECK(run_shcx({"trust", "status", "--store", fresh.string()}).code == 1);
}

TEST_CASE("a changed snapshot (new ETag) is downloaded and installed" * doctest::test_suite("conformance")) {
    VciServer srv;
    TempDir tmp;
    auto store = tmp / "store";
    REQUIRE(sync(srv, store).code == 0);
    srv.set_mode(Mode::NewVersion);
    auto r = sync(srv, store);
    CHECK(r.code == 0);
    CHECK(contains(r.out, "Installed"));
    CHECK(srv.snapshot_bodies_sent() == 2);
    CHECK(store_status(store)["snapshot"]["etag"] == "\"snapshot-v2\"");
}

TEST_CASE("two syncs started at once: one installs, the other is refused by the lock, the store is whole" *
          doctest::test_suite("conformance")) {
    VciServer srv;
    srv.set_delay_ms(1500);
    TempDir tmp;
    auto store = tmp / "store";
    RunResult a, b;
    std::thread ta([&] { a = sync(srv, store); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::thread tb([&] { b = sync(srv, store); });
    ta.join();
    tb.join();
    CHECK(a.code == 0);
    CHECK(b.code == 2);
    CHECK(contains(b.err, "another `shcx trust sync` is running"));
    CHECK(store_status(store)["snapshot"]["signature"] == "verified");
    CHECK(read_file(store / "current/vci_snapshot.json") == read_file(vectors_dir() / "vci/vci_snapshot.json"));
}

TEST_CASE("an installed snapshot edited on disk is refused by verify and status" * doctest::test_suite("conformance")) {
    VciServer srv;
    TempDir tmp;
    auto store = tmp / "store";
    REQUIRE(sync(srv, store).code == 0);
    auto snap = store / "current/vci_snapshot.json";
    std::string text = read_file(snap);
    text[100] = text[100] == 'a' ? 'b' : 'a';
    write_file(snap, text);
    auto v = run_shcx({"verify", "--store", store.string(), (testdata_dir() / "cards/lab-result.txt").string()});
    CHECK(v.code == 2);
    CHECK(contains(v.err, "SNAPSHOT_SIGNATURE_INVALID"));
    CHECK(run_shcx({"trust", "status", "--store", store.string()}).code == 1);
}

TEST_CASE("trust add / list / remove of a local issuer, used by verify") {
    TempDir tmp;
    auto store = (tmp / "store").string();
    auto jwks = (testdata_dir() / "issuer/jwks.json").string();
    auto cardfile = (testdata_dir() / "cards/lab-result.png").string();
    CHECK(run_shcx({"verify", "--store", store, cardfile}).code == 1);
    auto add = run_shcx({"trust", "add", "--store", store, "--iss", "https://issuer.shcx.example/demo", "--jwks", jwks,
                         "--name", "Demo Issuer"});
    CHECK(add.code == 0);
    auto v = run_shcx({"verify", "--store", store, cardfile});
    CHECK(v.code == 0);
    CHECK(contains(v.out, "Issuer:     Demo Issuer <https://issuer.shcx.example/demo> (trusted, local)"));
    auto list = run_shcx({"trust", "list", "--store", store});
    CHECK(list.out == "https://issuer.shcx.example/demo\tDemo Issuer\t1 key\tlocal\n");
    CHECK(run_shcx({"trust", "status", "--store", store}).code == 0);  // local issuers only: usable

    // A key that breaks the rules is refused.
    write_file(tmp / "bad.json",
               R"({"keys":[{"kty":"EC","crv":"P-256","kid":"x","use":"sig","alg":"ES256","x":"AA","y":"BB"}]})");
    auto bad = run_shcx(
        {"trust", "add", "--store", store, "--iss", "https://bad.example", "--jwks", (tmp / "bad.json").string()});
    CHECK(bad.code == 2);
    CHECK(contains(bad.err, "KEY_INVALID"));
    CHECK(run_shcx({"trust", "add", "--store", store, "--iss", "https://bad.example/", "--jwks", jwks}).code == 2);

    CHECK(run_shcx({"trust", "remove", "--store", store, "--iss", "https://issuer.shcx.example/demo"}).code == 0);
    CHECK(run_shcx({"verify", "--store", store, cardfile}).code == 1);
    CHECK(run_shcx({"trust", "remove", "--store", store, "--iss", "https://issuer.shcx.example/demo"}).code == 2);
}

TEST_CASE("trust sync refuses unknown sources and non-https mirrors") {
    TempDir tmp;
    auto r = run_shcx({"trust", "sync", "--store", (tmp / "s").string(), "--source", "http://mirror.example"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "https://"));
    CHECK(run_shcx({"trust", "sync", "--store", (tmp / "s").string(), "--source", "nosuch"}).code == 2);
    auto closed = run_shcx({"trust", "sync", "--store", (tmp / "s").string(), "--source", "http://127.0.0.1:1"});
    CHECK(closed.code == 2);
    CHECK(contains(closed.err, "NETWORK_ERROR"));
}

TEST_CASE("trust sync download size: a 64 MiB snapshot is checked, 64 MiB + 1 byte is INPUT_TOO_LARGE" *
          doctest::test_suite("conformance")) {
    VciServer srv;
    TempDir tmp;
    auto store = tmp / "store";
    srv.set_mode(Mode::SnapshotAtSizeLimit);
    auto at = sync(srv, store);
    CHECK(at.code == 1);  // downloaded whole, then refused by its signature
    CHECK(contains(at.err, "SNAPSHOT_SIGNATURE_INVALID"));
    srv.set_mode(Mode::SnapshotPastSizeLimit);
    auto past = sync(srv, store);
    CHECK(past.code == 2);
    CHECK(contains(past.err, "INPUT_TOO_LARGE"));
    CHECK(installed_state(store) == "(none)");
}

namespace {

// shcx with exactly this environment (nothing inherited), as `user` when given (the test
// runs as root: setpriv drops to that user for the child, who runs `binary`).
RunResult run_env(const std::vector<std::string>& env, const std::vector<std::string>& args,
                  const std::string& user = "", const std::string& binary = SHCX_BIN_PATH) {
    std::vector<std::string> argv;
    if (!user.empty()) argv = {"setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups"};
    argv.insert(argv.end(), {"/usr/bin/env", "-i", "PATH=/usr/bin:/bin"});
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(binary);
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv);
}

std::string status_store(const RunResult& r) {
    CAPTURE(r.err);
    return json::parse(r.out)["store"].get<std::string>();
}

const std::string kDemoIss = "https://issuer.shcx.example/demo";

}  // namespace

// Root's order; the next test drops to another user for theirs (both need root, which
// the suite runs as in CI; the order itself is also unit-tested in test_trust_store).
TEST_CASE("trust store lookup for root: --store, SHCX_TRUST, the system store, never ./.shcx-trust" *
          doctest::skip(geteuid() != 0)) {
    TempDir tmp;
    auto system = (tmp / "system").string(), home = (tmp / "home").string();
    std::vector<std::string> env{"SHCX_SYSTEM_TRUST_DIR=" + system, "HOME=" + home};
    auto jwks = (testdata_dir() / "issuer/jwks.json").string();
    CHECK(status_store(run_env(env, {"trust", "status", "--json"})) == system);
    CHECK(status_store(run_env({"SHCX_SYSTEM_TRUST_DIR=" + system}, {"trust", "status", "--json"})) == system);
    auto with_trust = env;
    with_trust.push_back("SHCX_TRUST=" + (tmp / "env").string());
    CHECK(status_store(run_env(with_trust, {"trust", "status", "--json"})) == (tmp / "env").string());
    CHECK(status_store(run_env(with_trust, {"trust", "status", "--json", "--store", (tmp / "opt").string()})) ==
          (tmp / "opt").string());
    // Root writes the system store by default, and verify reads it.
    auto add = run_env(env, {"trust", "add", "--iss", kDemoIss, "--jwks", jwks});
    CHECK(add.code == 0);
    CHECK(fs::exists(fs::path(system) / "local_issuers.json"));
    CHECK_FALSE(fs::exists(fs::path(home) / ".local/share/shcx/trust"));
    auto v = run_env(env, {"verify", (testdata_dir() / "cards/lab-result.txt").string()});
    CHECK(v.code == 0);
    CHECK(contains(v.out, "(trusted, local)"));
}

TEST_CASE("trust store lookup for other users: their own store, else the system store read-only" *
          doctest::skip(geteuid() != 0)) {
    TempDir tmp;
    fs::permissions(tmp.path(), fs::perms::all);  // the unprivileged child makes its HOME in here
    auto system = (tmp / "system").string(), home = (tmp / "home").string();
    auto user_store = home + "/.local/share/shcx/trust";
    fs::create_directories(home);
    fs::permissions(home, fs::perms::all);
    std::vector<std::string> env{"SHCX_SYSTEM_TRUST_DIR=" + system, "HOME=" + home};
    auto jwks = (testdata_dir() / "issuer/jwks.json").string();
    // The child runs a copy of shcx and reads a copy of the card from `tmp`: the build
    // tree may sit under a directory other users cannot enter (a clone in mktemp -d, 0700).
    auto card = (tmp / "lab-result.txt").string();
    fs::copy_file(testdata_dir() / "cards/lab-result.txt", card);
    auto shcx_copy = (tmp / "shcx").string();
    fs::copy_file(SHCX_BIN_PATH, shcx_copy);
    for (const auto& f : {card, shcx_copy})
        fs::permissions(f, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    auto run_env = [&](const std::vector<std::string>& e, const std::vector<std::string>& args,
                       const std::string& user) { return ::run_env(e, args, user, shcx_copy); };
    const std::string nobody = "65534";

    // Nothing anywhere: the user's own store is the one reported.
    CHECK(status_store(run_env(env, {"trust", "status", "--json"}, nobody)) == user_store);
    // The system store, filled by root, is what a user without a store reads...
    REQUIRE(run_shcx({"trust", "add", "--store", system, "--iss", kDemoIss, "--jwks", jwks}).code == 0);
    CHECK(status_store(run_env(env, {"trust", "status", "--json"}, nobody)) == system);
    CHECK(run_env(env, {"verify", card}, nobody).code == 0);
    CHECK(run_env({"SHCX_SYSTEM_TRUST_DIR=" + system}, {"verify", card}, nobody).code == 0);  // no HOME: the same
    // ...but never writes: `trust remove` goes to the user's own store.
    auto remove = run_env(env, {"trust", "remove", "--iss", kDemoIss}, nobody);
    CHECK(remove.code == 2);
    CHECK(contains(remove.err, "no local issuer " + kDemoIss));
    CHECK(fs::exists(fs::path(system) / "local_issuers.json"));
    // Once the user has a store of their own, it is the one used, for reading too.
    auto other = (tmp / "other.json").string();
    write_file(other, read_file(jwks));
    CHECK(run_env(env, {"trust", "add", "--iss", "https://other.example", "--jwks", other}, nobody).code == 0);
    CHECK(status_store(run_env(env, {"trust", "status", "--json"}, nobody)) == user_store);
    CHECK(run_env(env, {"verify", card}, nobody).code == 1);  // the demo issuer is in the system store only
    // No HOME and no XDG_DATA_HOME: writing means the system store, which a user cannot
    // write; nothing appears in the working directory.
    auto homeless = run_env({"SHCX_SYSTEM_TRUST_DIR=" + system},
                            {"trust", "add", "--iss", "https://x.example", "--jwks", other}, nobody);
    CHECK(homeless.code == 2);
    CHECK(contains(homeless.err, "shcx: error: "));
    CHECK(contains(homeless.err, system));
    CHECK_FALSE(fs::exists(".shcx-trust"));
}

TEST_CASE("trust status: exit 1 with one coded line when the store is unusable or older than --max-age" *
          doctest::test_suite("conformance")) {
    VciServer srv;
    TempDir tmp;
    auto store = tmp / "store";
    auto status = [&](std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"trust", "status", "--store", store.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_shcx(args);
    };
    auto empty = status();
    CHECK(empty.code == 1);
    CHECK(empty.err == "shcx: error: TRUST_STORE_EMPTY: no trust snapshot is installed in " + store.string() +
                           " and there are no local issuers; run `shcx trust sync`\n");

    REQUIRE(sync(srv, store).code == 0);
    CHECK(status().code == 0);
    CHECK(status({"--max-age", "100000d"}).code == 0);
    CHECK(status({"--max-age", "100000d"}).err.empty());
    auto stale = status({"--max-age", "1d"});
    CHECK(stale.code == 1);
    CHECK(contains(stale.out, "Snapshot time: 2026-08-22T04:43:50Z"));  // the report is still printed
    CHECK(stale.err.rfind("shcx: error: TRUST_SNAPSHOT_STALE: the trust snapshot of 2026-08-22T04:43:50Z is ", 0) == 0);
    CHECK(contains(stale.err, " days old, over the limit of 24 h; run `shcx trust sync`\n"));
    CHECK(std::count(stale.err.begin(), stale.err.end(), '\n') == 1);
    for (const char* bad : {"soon", "0", "-3d", "12x"}) {
        CAPTURE(bad);
        auto r = status({"--max-age", bad});
        CHECK(r.code == 2);
        CHECK(r.err == "shcx: error: USAGE: --max-age must be a duration such as 30d, 12h or 90m\n");
    }

    // Edited on disk: the signature check's code, exit 1.
    auto current = fs::canonical(store / "current");
    auto text = read_file(current / "vci_snapshot.json");
    write_file(current / "vci_snapshot.json", text.substr(0, text.size() - 10));
    auto edited = status();
    CHECK(edited.code == 1);
    CHECK(edited.err.rfind("shcx: error: SNAPSHOT_SIGNATURE_INVALID: the installed trust snapshot in " +
                               store.string() + " is unusable (",
                           0) == 0);
    CHECK(std::count(edited.err.begin(), edited.err.end(), '\n') == 1);
    // A file missing: TRUST_STORE_DAMAGED, exit 1.
    write_file(current / "vci_snapshot.json", text);
    CHECK(status().code == 0);
    fs::remove(current / "vci_snapshot.crt");
    auto missing = status();
    CHECK(missing.code == 1);
    CHECK(missing.err == "shcx: error: TRUST_STORE_DAMAGED: the installed snapshot in " + current.string() +
                             " is incomplete; run `shcx trust sync`\n");
    // With only local issuers the store is usable, but --max-age asks for a snapshot.
    auto local = tmp / "local";
    REQUIRE(run_shcx({"trust", "add", "--store", local.string(), "--iss", kDemoIss, "--jwks",
                      (testdata_dir() / "issuer/jwks.json").string()})
                .code == 0);
    CHECK(run_shcx({"trust", "status", "--store", local.string()}).code == 0);
    auto no_snapshot = run_shcx({"trust", "status", "--store", local.string(), "--max-age", "30d"});
    CHECK(no_snapshot.code == 1);
    CHECK(no_snapshot.err == "shcx: error: TRUST_STORE_EMPTY: no trust snapshot is installed in " + local.string() +
                                 " (--max-age asks for one); run `shcx trust sync`\n");
}

TEST_CASE("trust sync repairs a damaged store that a 304 would have left broken, and verify works again" *
          doctest::test_suite("conformance")) {
    VciServer srv;
    TempDir tmp;
    auto store = tmp / "store";
    REQUIRE(sync(srv, store).code == 0);
    auto card = (testdata_dir() / "cards/lab-result.txt").string();
    auto verify = [&] { return run_shcx({"verify", "--store", store.string(), "--max-trust-age", "100000d", card}); };
    const auto healthy = verify();
    CHECK(healthy.code == 1);  // the demo issuer is not in the VCI directory: read, and untrusted
    CHECK(contains(healthy.out, "ISSUER_NOT_TRUSTED"));
    for (const char* damage : {"truncate", "remove"}) {
        CAPTURE(damage);
        auto current = fs::canonical(store / "current");
        if (std::string(damage) == "truncate")
            write_file(current / "vci_snapshot.json", read_file(current / "vci_snapshot.json").substr(0, 1000));
        else fs::remove(current / "meta.json");
        CHECK(verify().code == 2);
        CHECK(run_shcx({"trust", "status", "--store", store.string()}).code == 1);
        int bodies = srv.snapshot_bodies_sent();
        auto r = sync(srv, store);
        CHECK(r.code == 0);
        CHECK(srv.snapshot_bodies_sent() == bodies + 1);
        CHECK(srv.not_modified_sent() == 0);
        CHECK(contains(r.out, "Installed VCI snapshot of 2026-08-22T04:43:50Z: 651 issuers"));
        CHECK(r.err.rfind(
                  "shcx: warning: TRUST_STORE_REPAIRED: the installed snapshot in " + store.string() + " was damaged (",
                  0) == 0);
        CHECK(contains(r.err,
                       std::string(damage) == "truncate" ? "(SNAPSHOT_SIGNATURE_INVALID: " : "(TRUST_STORE_DAMAGED: "));
        CHECK(contains(r.err, "; downloaded and installed it again\n"));
        CHECK(run_shcx({"trust", "status", "--store", store.string()}).code == 0);
        auto after = verify();
        CHECK(after.code == healthy.code);
        CHECK(after.out == healthy.out);
    }
    // Sound again: the next sync is a 304.
    auto again = sync(srv, store);
    CHECK(again.code == 0);
    CHECK(contains(again.out, "unchanged"));
    CHECK(again.err.empty());
    CHECK(srv.not_modified_sent() == 1);
}

TEST_CASE("verify warns TRUST_SNAPSHOT_STALE past --max-trust-age, exit status unchanged" *
          doctest::test_suite("conformance")) {
    VciServer srv;
    TempDir tmp;
    auto store = tmp / "store";
    REQUIRE(sync(srv, store).code == 0);
    auto card = (testdata_dir() / "cards/lab-result.txt").string();
    auto verify = [&](std::vector<std::string> extra) {
        std::vector<std::string> args{"verify", "--store", store.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(card);
        return run_shcx(args);
    };
    auto fresh = verify({"--max-trust-age", "100000d"});
    CHECK(fresh.err.empty());
    auto stale = verify({"--max-trust-age", "1d"});
    CHECK(stale.code == fresh.code);
    CHECK(stale.out == fresh.out);
    CHECK(stale.err.rfind("shcx: warning: TRUST_SNAPSHOT_STALE: the trust snapshot of 2026-08-22T04:43:50Z is ", 0) ==
          0);
    CHECK(contains(stale.err, "over the limit of 24 h; run `shcx trust sync`\n"));
    // The default is 90 days.
    auto made = 1787373830.0;  // 2026-08-22T04:43:50Z
    bool older_than_90d = std::time(nullptr) - made > 90 * 86400.0;
    auto by_default = verify({});
    CHECK(by_default.code == fresh.code);
    CHECK(contains(by_default.err, "TRUST_SNAPSHOT_STALE") == older_than_90d);
    if (older_than_90d) CHECK(contains(by_default.err, "over the limit of 90 days"));
    // --strict turns card warnings into exit 1, but this is not a card's warning.
    CHECK(verify({"--max-trust-age", "1d", "--strict"}).code ==
          verify({"--max-trust-age", "100000d", "--strict"}).code);
    auto bad = verify({"--max-trust-age", "old"});
    CHECK(bad.code == 2);
    CHECK(bad.err == "shcx: error: USAGE: --max-trust-age must be a duration such as 90d, 12h or 30m\n");
}

TEST_CASE("trust sync progress on a terminal shows small files in bytes, not 0 KiB" *
          doctest::test_suite("conformance")) {
    VciServer srv;
    TempDir tmp;
    auto store = tmp / "store";
    // script(1) gives the child a terminal; its output is that terminal's.
    std::string cmd =
        std::string(SHCX_BIN_PATH) + " trust sync --no-crls --store " + store.string() + " --source " + srv.url();
    auto r = run_program({"script", "-qec", cmd, "/dev/null"});
    CHECK(r.code == 0);
    auto sig = std::to_string(read_file(vectors_dir() / "vci/vci_snapshot.sig").size());
    CHECK(contains(r.out, "shcx: downloading signature: " + sig + " bytes of " + sig + " bytes (100%)"));
    CHECK(contains(r.out, "shcx: downloading snapshot: 700 KiB of 700 KiB (100%)"));
    CHECK_FALSE(contains(r.out, "0 KiB of 0 KiB"));
}
