// `shcx trust` end to end against a real HTTP server on 127.0.0.1 serving the VCI
// vectors: every failure leaves the installed store exactly as it was.
#include <doctest/doctest.h>
#include <unistd.h>

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

TEST_CASE("trust sync installs a verified snapshot, status reports it, unchanged is not downloaded again" * doctest::test_suite("conformance")) {
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

TEST_CASE("every failed sync exits non-zero, says what happened and leaves the store untouched" * doctest::test_suite("conformance")) {
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

TEST_CASE("two syncs started at once: one installs, the other is refused by the lock, the store is whole" * doctest::test_suite("conformance")) {
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
    write_file(tmp / "bad.json", R"({"keys":[{"kty":"EC","crv":"P-256","kid":"x","use":"sig","alg":"ES256","x":"AA","y":"BB"}]})");
    auto bad = run_shcx({"trust", "add", "--store", store, "--iss", "https://bad.example", "--jwks", (tmp / "bad.json").string()});
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

TEST_CASE("trust sync download size: a 64 MiB snapshot is checked, 64 MiB + 1 byte is INPUT_TOO_LARGE" * doctest::test_suite("conformance")) {
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
