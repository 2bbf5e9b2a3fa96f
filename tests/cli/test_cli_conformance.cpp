// Verifier conformance end to end: batches of chunked cards, the README's own
// `verify --json *.png`, clock skew, rid.T, calendar-checked --at, --jwks ISS=FILE,
// `verify --strict` on our cards and on the spec examples (docs/producer-rules.md), and
// `trust add --fetch`.
#include <doctest/doctest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "support.h"
#include "vci_server.h"

using namespace shcx::test;
using nlohmann::json;

namespace {

const std::string kDemoIss = "https://issuer.shcx.example/demo";
const std::string kSpecIss = "https://spec.smarthealth.cards/examples/issuer";
std::string card(const std::string& name) { return (testdata_dir() / "cards" / name).string(); }
std::string demo_jwks() { return (testdata_dir() / "issuer/jwks.json").string(); }
std::string demo_key() { return (testdata_dir() / "issuer/key.jwk").string(); }
std::string bundle(const std::string& name) { return (testdata_dir() / "bundles" / (name + ".json")).string(); }
std::string ex(const std::string& f) { return (spec_examples() / f).string(); }

std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

json verify_json(std::vector<std::string> args, int expected_code) {
    args.insert(args.begin(), {"verify", "--json"});
    auto r = run_shcx(args);
    CAPTURE(r.err);
    CHECK(r.code == expected_code);
    return json::parse(r.out);
}

std::vector<std::string> codes(const json& list) {
    std::vector<std::string> out;
    for (const auto& e : list) out.push_back(e["code"]);
    return out;
}

// An environment variable set for the commands this test runs, restored afterwards.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : m_name(name) {
        if (const char* old = std::getenv(name)) m_old = old;
        setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (m_old) setenv(m_name, m_old->c_str(), 1);
        else unsetenv(m_name);
    }

private:
    const char* m_name;
    std::optional<std::string> m_old;
};

}  // namespace

TEST_CASE("the README's `cd testdata/cards && shcx verify --json *.png` exits 0") {
    TempDir tmp;
    std::string store = (tmp / "trust").string();
    // Trust the demo issuer as scripts/demo.sh does.
    REQUIRE(run_shcx({"trust", "add", "--store", store, "--iss", kDemoIss, "--jwks", demo_jwks(), "--name",
                      "shcx demo issuer"})
                .code == 0);
    auto r = run_program({"/bin/sh", "-c",
                          "cd " + sh_quote((testdata_dir() / "cards").string()) + " && SHCX_TRUST=" + sh_quote(store) +
                              " " + sh_quote(SHCX_BIN_PATH) + " verify --json *.png"});
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.empty());
    auto results = json::parse(r.out)["results"];
    REQUIRE(results.size() == 4);
    for (const auto& res : results) CHECK(res["status"] == "valid");
    CHECK(results[0]["input"] == "covid-three-doses.png");
    CHECK(results[1]["input"] == "lab-result.png");
    // The two chunk images and the sheet holding both chunks are one card.
    CHECK(results[2]["input"] == "large-history-1.png");
    CHECK(results[2]["inputs"].size() == 4);
    CHECK(results[3]["input"] == "two-people.png");
}

TEST_CASE("a batch of two multi-chunk cards from `shcx issue` verifies, chunk images in any order") {
    TempDir tmp;
    // Different nbf, so the two JWS differ from their first chunk on.
    for (auto [rid, nbf] : {std::pair{"cardA", "2026-01-15T10:00:00Z"}, std::pair{"cardB", "2026-01-15T10:00:01Z"}}) {
        auto r = run_shcx({"issue", bundle("large-history"), "--key", demo_key(), "--iss", kDemoIss, "--rid", rid,
                           "--nbf", nbf, "--qr", (tmp / (std::string(rid) + ".png")).string()});
        REQUIRE(r.code == 0);
    }
    // issue writes FILE-1.png, FILE-2.png per chunk.
    std::vector<std::string> images{(tmp / "cardB-2.png").string(), (tmp / "cardA-1.png").string(),
                                    (tmp / "cardB-1.png").string(), (tmp / "cardA-2.png").string()};
    for (const auto& f : images) REQUIRE(fs::exists(f));
    std::vector<std::string> args = images;
    args.insert(args.end(), {"--jwks", kDemoIss + "=" + demo_jwks()});
    auto doc = verify_json(args, 0);
    REQUIRE(doc["results"].size() == 2);
    CHECK(doc["results"][0]["card"]["rid"] == "cardB");
    CHECK(doc["results"][0]["inputs"] == json::array({images[2], images[0]}));
    CHECK(doc["results"][1]["card"]["rid"] == "cardA");
    for (const auto& r : doc["results"]) CHECK(r["status"] == "valid");

    // Untrusted, the cards are still told apart (they decode), and are not valid: exit 1.
    auto untrusted = verify_json(images, 1);
    REQUIRE(untrusted["results"].size() == 2);
    for (const auto& r : untrusted["results"]) CHECK(r["status"] == "untrusted_issuer");

    // One chunk lost: the other card verifies, the lone chunk is QR_CHUNK_MISSING naming its file.
    auto r = run_shcx({"verify", "--json", images[0], images[1], images[3], "--jwks", kDemoIss + "=" + demo_jwks()});
    CHECK(r.code == 2);
    auto lost = json::parse(r.out)["results"];
    REQUIRE(lost.size() == 2);
    CHECK(lost[0]["status"] == "valid");
    CHECK(lost[0]["card"]["rid"] == "cardA");
    CHECK(lost[1]["status"] == "malformed");
    CHECK(lost[1]["input"] == images[0]);
    CHECK(codes(lost[1]["errors"]) == std::vector<std::string>{"QR_CHUNK_MISSING"});
    CHECK(contains(r.err, "shcx: error: " + images[0] +
                              ": QR_CHUNK_MISSING: missing chunk 1 of a 2-chunk card; have chunk 2 (" + images[0] +
                              ")\n"));
}

TEST_CASE("`shcx issue | shcx verify -` is valid: the clock-skew leeway covers a fresh card") {
    auto r = run_program({"/bin/sh", "-c",
                          sh_quote(SHCX_BIN_PATH) + " issue " + sh_quote(bundle("covid-three-doses")) + " --key " +
                              sh_quote(demo_key()) + " --iss " + kDemoIss + " | " + sh_quote(SHCX_BIN_PATH) +
                              " verify --json --jwks " + sh_quote(kDemoIss + "=" + demo_jwks()) + " -"});
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    auto res = json::parse(r.out)["results"][0];
    CHECK(res["status"] == "valid");
    for (const auto& w : res["warnings"]) CHECK(w["code"] == "CLOCK_SKEW_APPLIED");  // if verify's clock read first
}

TEST_CASE("--clock-skew: 59 s ahead valid with a warning, 61 s not yet valid, the leeway is settable") {
    std::string file = card("lab-result.smart-health-card");  // nbf 2026-01-15T10:00:00Z
    std::vector<std::string> trust{"--jwks", kDemoIss + "=" + demo_jwks()};
    auto args = [&](std::vector<std::string> extra) {
        std::vector<std::string> a{file};
        a.insert(a.end(), trust.begin(), trust.end());
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    };
    auto at59 = verify_json(args({"--at", "2026-01-15T09:59:01Z"}), 0);
    CHECK(at59["results"][0]["status"] == "valid");
    CHECK(codes(at59["results"][0]["warnings"]) == std::vector<std::string>{"CLOCK_SKEW_APPLIED"});
    auto at61 = verify_json(args({"--at", "2026-01-15T09:58:59Z"}), 1);
    CHECK(at61["results"][0]["status"] == "not_yet_valid");
    CHECK(codes(at61["results"][0]["errors"]) == std::vector<std::string>{"NOT_YET_VALID"});
    CHECK(verify_json(args({"--at", "2026-01-15T09:58:59Z", "--clock-skew", "120"}), 0)["results"][0]["status"] ==
          "valid");
    CHECK(verify_json(args({"--at", "2026-01-15T09:59:59Z", "--clock-skew", "0"}), 1)["results"][0]["status"] ==
          "not_yet_valid");
    for (const char* bad : {"-1", "86401", "nan"}) {
        auto a = args({"--clock-skew", bad});
        a.insert(a.begin(), "verify");
        auto r = run_shcx(a);
        CAPTURE(bad);
        CHECK(r.code == 2);
        CHECK(r.err == "shcx: error: --clock-skew: USAGE: must be 0 to 86400 seconds\n");
    }
    auto a = args({"--clock-skew", "soon"});
    a.insert(a.begin(), "verify");
    auto r = run_shcx(a);
    CHECK(r.code == 2);
    CHECK(contains(r.err, "--clock-skew"));
}

TEST_CASE("rid.T: a card issued before T is revoked whatever --at says, at or after T it is not") {
    TempDir tmp;
    std::string file = card("lab-result.smart-health-card");
    auto rid =
        verify_json({file, "--jwks", demo_jwks(), "--at", "2026-06-01T00:00:00Z"}, 0)["results"][0]["card"]["rid"];
    auto kid =
        verify_json({file, "--jwks", demo_jwks(), "--at", "2026-06-01T00:00:00Z"}, 0)["results"][0]["card"]["kid"];
    long nbf = 1768471200;  // 2026-01-15T10:00:00Z
    auto with_crl = [&](long t, const std::string& at) {
        json crl = {
            {"kid", kid}, {"method", "rid"}, {"ctr", 1}, {"rids", {rid.get<std::string>() + "." + std::to_string(t)}}};
        write_file(tmp / "crl.json", crl.dump());
        auto r = run_shcx(
            {"verify", "--json", file, "--jwks", demo_jwks(), "--crl", (tmp / "crl.json").string(), "--at", at});
        return std::pair{r.code, json::parse(r.out)["results"][0]};
    };
    // T a year after nbf; verifying before T (and after) both see the revocation.
    for (const char* at : {"2026-06-01T00:00:00Z", "2028-01-01T00:00:00Z"}) {
        auto [code, res] = with_crl(nbf + 86400 * 365, at);
        CAPTURE(at);
        CHECK(code == 1);
        CHECK(res["status"] == "revoked");
        CHECK(codes(res["errors"]) == std::vector<std::string>{"REVOKED"});
    }
    auto [code, res] = with_crl(nbf, "2028-01-01T00:00:00Z");
    CHECK(code == 0);
    CHECK(res["revocation"] == "not_revoked");
}

TEST_CASE("bad option values are exit 2 with USAGE: a date not on the calendar, a non-https ISS in --jwks") {
    for (const char* at : {"2026-02-31T00:00:00Z", "2025-02-29", "2026-04-31T12:00:00Z"}) {
        auto r = run_shcx({"verify", card("lab-result.txt"), "--jwks", demo_jwks(), "--at", at});
        CAPTURE(at);
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "shcx: error: --at: USAGE: not an RFC 3339 time on the calendar"));
    }
    CHECK(run_shcx({"verify", card("lab-result.txt"), "--jwks", demo_jwks(), "--at", "2024-02-29T00:00:00Z"}).code ==
          1);
    for (std::string iss : {"http://issuer.shcx.example/demo", "https://issuer.shcx.example/demo/", "ftp://x"}) {
        auto r = run_shcx({"verify", card("lab-result.txt"), "--jwks", iss + "=" + demo_jwks()});
        CAPTURE(iss);
        CHECK(r.code == 2);
        CHECK(contains(r.err, "shcx: error: USAGE: --jwks " + iss + "=" + demo_jwks() +
                                  ": the issuer must be an https:// URL without a trailing slash, got \"" + iss +
                                  "\"\n"));
    }
}

TEST_CASE("shc: text without the slash is QR_HEADER_INVALID like an image, shc:/1/1/ verifies with a warning") {
    TempDir tmp;
    std::string digits = read_file(card("lab-result.txt")).substr(5);
    write_file(tmp / "noslash.txt", "shc:" + digits);
    auto r = run_shcx({"verify", "--json", (tmp / "noslash.txt").string(), "--jwks", demo_jwks()});
    CHECK(r.code == 2);
    CHECK(codes(json::parse(r.out)["results"][0]["errors"]) == std::vector<std::string>{"QR_HEADER_INVALID"});
    write_file(tmp / "one-of-one.txt", "shc:/1/1/" + digits);
    auto one = verify_json({(tmp / "one-of-one.txt").string(), "--jwks", demo_jwks()}, 0);
    CHECK(one["results"][0]["status"] == "valid");
    CHECK(codes(one["results"][0]["warnings"]) == std::vector<std::string>{"QR_CHUNK_HEADER_UNNEEDED"});
    // ...and --strict fails on it.
    CHECK(run_shcx({"verify", "--strict", (tmp / "one-of-one.txt").string(), "--jwks", demo_jwks()}).code == 1);
}

TEST_CASE("--strict: our own single-QR cards pass, a chunked card fails with CHUNKING_DEPRECATED") {
    auto ok = run_shcx({"verify", "--strict", card("covid-three-doses.png"), card("two-people.txt"),
                        card("lab-result.smart-health-card"), "--jwks", demo_jwks()});
    CAPTURE(ok.err);
    CHECK(ok.code == 0);
    CHECK_FALSE(contains(ok.out, "Strict:"));
    auto chunked = run_shcx({"verify", "--strict", card("large-history-sheet.png"), "--jwks", demo_jwks()});
    CHECK(chunked.code == 1);
    CHECK(contains(chunked.out, "  Warning:    CHUNKING_DEPRECATED: the card is split into 2 QR codes"));
    CHECK(contains(chunked.out, "\nStrict: 1 card with warnings (--strict fails on any warning)\n"));
    // Without --strict the same card is just valid.
    CHECK(run_shcx({"verify", card("large-history-sheet.png"), "--jwks", demo_jwks()}).code == 0);
}

// What `verify --strict` reports on every form of every spec example, with the spec's keys
// and CRL, as of 2024-07-01 (example-03 expires in 2025). docs/producer-rules.md shows this.
TEST_CASE("--strict on the spec examples" * doctest::test_suite("conformance")) {
    struct Want {
        std::string example;
        int code;
        std::vector<std::string> file_warnings, qr_warnings;
    };
    std::vector<Want> wants{
        {"00", 0, {}, {}},
        {"01", 1, {"X5C_INVALID"}, {"X5C_INVALID"}},
        {"02", 1, {"FHIR_REFERENCE_NOT_SHORT"}, {"CHUNKING_DEPRECATED", "FHIR_REFERENCE_NOT_SHORT"}},
        {"03", 0, {}, {}},
    };
    for (const auto& w : wants) {
        std::vector<std::pair<std::vector<std::string>, bool>> forms{
            {{ex("example-" + w.example + "-d-jws.txt")}, false},
            {{ex("example-" + w.example + "-e-file.smart-health-card")}, false}};
        std::vector<std::string> numeric, png;
        for (int k = 0;
             fs::exists(ex("example-" + w.example + "-f-qr-code-numeric-value-" + std::to_string(k) + ".txt")); ++k) {
            numeric.push_back(ex("example-" + w.example + "-f-qr-code-numeric-value-" + std::to_string(k) + ".txt"));
            png.push_back(ex("example-" + w.example + "-g-qr-code-" + std::to_string(k) + ".png"));
        }
        forms.push_back({numeric, true});
        forms.push_back({png, true});
        for (const auto& form : forms) {
            auto inputs = form.first;
            const bool qr = form.second;
            CAPTURE(inputs[0]);
            inputs.insert(inputs.end(),
                          {"--strict", "--jwks", kSpecIss + "=" + ex("issuer/.well-known/jwks.json"), "--crl",
                           ex("issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"), "--at",
                           "2024-07-01T00:00:00Z"});
            auto doc = verify_json(inputs, w.code);
            REQUIRE(doc["results"].size() == 1);
            CHECK(doc["results"][0]["status"] == "valid");
            CHECK(codes(doc["results"][0]["warnings"]) == (qr ? w.qr_warnings : w.file_warnings));
        }
    }
}

TEST_CASE("trust add --fetch: thumbprints shown, confirmation asked, https only, size-capped") {
    VciServer server(/*with_vci_vectors=*/false);
    TempDir tmp;
    std::string store = (tmp / "trust").string();
    std::string iss = server.url();  // http://127.0.0.1:PORT, allowed only in the explicit test mode
    std::string jwks = read_file(demo_jwks());
    std::string kid = json::parse(jwks)["keys"][0]["kid"];
    server.serve_jwks(jwks);
    auto add = [&](std::vector<std::string> extra, const std::string& stdin_data = "") {
        std::vector<std::string> a{"trust", "add", "--store", store, "--iss", iss, "--fetch"};
        a.insert(a.end(), extra.begin(), extra.end());
        return run_shcx(a, stdin_data);
    };
    auto listed = [&] { return run_shcx({"trust", "list", "--store", store}).out; };

    // Without the test switch, a plain-http issuer is refused before any request.
    auto refused = add({"--yes"});
    CHECK(refused.code == 2);
    CHECK(contains(refused.err,
                   "shcx: error: trust add --fetch: USAGE: the issuer URL must be https:// without a trailing slash"));

    ScopedEnv loopback("SHCX_ALLOW_LOOPBACK_HTTP", "1");
    // Declined (or no answer): nothing is trusted, exit 1.
    for (const char* answer : {"n\n", ""}) {
        auto r = add({}, answer);
        CAPTURE(answer);
        CHECK(r.code == 1);
        CHECK(contains(r.out, "Keys published at " + iss + "/.well-known/jwks.json:\n  kid         " + kid +
                                  "\n  thumbprint  " + kid + " (RFC 7638, SHA-256)\n"));
        CHECK(contains(r.err, "? Compare the thumbprints with what the issuer publishes elsewhere. [y/N] "));
        CHECK(contains(r.err, "shcx: not confirmed; nothing was trusted\n"));
        CHECK_FALSE(contains(listed(), iss));
    }
    auto yes = add({"--name", "Local Clinic"}, "y\n");
    CHECK(yes.code == 0);
    CHECK(contains(yes.out, "Trusted " + iss + " (Local Clinic): 1 key\n"));
    CHECK(contains(listed(), iss + "\tLocal Clinic\t1 key\tlocal\n"));
    CHECK(add({"--yes"}).code == 0);  // --yes does not ask
    CHECK(run_shcx({"trust", "remove", "--store", store, "--iss", iss}).code == 0);

    // A key that breaks the rules: shown, refused, nothing stored.
    auto bad = json::parse(jwks);
    bad["keys"][0]["use"] = "enc";
    server.serve_jwks(bad.dump());
    auto unusable = add({"--yes"});
    CHECK(unusable.code == 2);
    CHECK(contains(unusable.out, "  NOT USABLE: KEY_INVALID: key " + kid + ": use is \"enc\", expected sig\n"));
    CHECK(contains(unusable.err, "shcx: nothing was trusted\n"));
    // Not found, not JSON, too big.
    server.serve_jwks("no", 404);
    auto missing = add({"--yes"});
    CHECK(missing.code == 2);
    CHECK(contains(missing.err, "NETWORK_ERROR: " + iss + "/.well-known/jwks.json: HTTP 404"));
    server.serve_jwks(jwks + std::string("\0{}", 3));
    CHECK(contains(add({"--yes"}).err,
                   "KEY_INVALID: " + iss + "/.well-known/jwks.json: JWKS is not valid JSON: NUL byte"));
    server.serve_jwks("{\"keys\":[],\"pad\":\"" + std::string(1u << 20, 'x') + "\"}");
    auto big = add({"--yes"});
    CHECK(big.code == 2);
    CHECK(contains(big.err, "INPUT_TOO_LARGE"));
    CHECK_FALSE(contains(listed(), iss));
    // Exactly one of --jwks / --fetch.
    for (auto args : {std::vector<std::string>{"trust", "add", "--store", store, "--iss", kDemoIss},
                      std::vector<std::string>{"trust", "add", "--store", store, "--iss", kDemoIss, "--jwks",
                                               demo_jwks(), "--fetch"}}) {
        auto r = run_shcx(args);
        CHECK(r.code == 2);
        CHECK(r.err == "shcx: error: USAGE: trust add needs exactly one of --jwks FILE or --fetch\n");
    }
}
