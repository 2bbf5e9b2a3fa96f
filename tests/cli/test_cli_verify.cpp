// `shcx verify` end to end: spec examples, exit codes, JSON shape, trust sources,
// --at, --jobs, and that verify writes nothing.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "shcx/card/inflate.h"
#include "shcx/jose/jws.h"
#include "support.h"

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

const std::string kSpecIss = "https://spec.smarthealth.cards/examples/issuer";
const std::string kDemoIss = "https://issuer.shcx.example/demo";
std::string ex(const std::string& f) { return (spec_examples() / f).string(); }
std::string spec_jwks() { return ex("issuer/.well-known/jwks.json"); }
std::string spec_crl() { return ex("issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"); }
std::string card(const std::string& name) { return (testdata_dir() / "cards" / name).string(); }
std::string demo_jwks() { return (testdata_dir() / "issuer/jwks.json").string(); }

// A card from another issuer with its own key, made here: {card file, that key's JWKS}.
std::pair<std::string, std::string> other_issuer_card(const TempDir& tmp, const std::vector<std::string>& extra = {}) {
    auto jwk = (tmp / "other.jwk").string(), jwks = (tmp / "other-jwks.json").string();
    auto card_file = (tmp / "other.smart-health-card").string();
    auto k = run_shcx({"keygen", "--out", jwk, "--jwks-out", jwks});
    REQUIRE(k.code == 0);
    std::vector<std::string> args{"issue", (testdata_dir() / "bundles/lab-result.json").string(),
                                  "--key", jwk,
                                  "--iss", "https://other.example",
                                  "--out", card_file};
    args.insert(args.end(), extra.begin(), extra.end());
    auto i = run_shcx(args);
    CAPTURE(i.err);
    REQUIRE(i.code == 0);
    return {card_file, jwks};
}

json verify_json(std::vector<std::string> args, int expected_code) {
    args.insert(args.begin(), {"verify", "--json"});
    auto r = run_shcx(args);
    CAPTURE(r.err);
    CHECK(r.code == expected_code);
    return json::parse(r.out);
}

}  // namespace

TEST_CASE("spec example 00 is valid with the spec keys and CRL" * doctest::test_suite("conformance")) {
    auto doc = verify_json(
        {ex("example-00-e-file.smart-health-card"), "--jwks", kSpecIss + "=" + spec_jwks(), "--crl", spec_crl()}, 0);
    REQUIRE(doc["results"].size() == 1);
    auto r = doc["results"][0];
    CHECK(r["status"] == "valid");
    CHECK(r["input"] == ex("example-00-e-file.smart-health-card"));
    CHECK(r["issuer"]["iss"] == kSpecIss);
    CHECK(r["issuer"]["trusted"] == true);
    CHECK(r["card"]["kid"] == "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s");
    CHECK(r["card"]["nbf"] == "2024-05-07T18:49:23Z");
    CHECK(r["card"]["exp"] == nullptr);
    CHECK(r["card"]["rid"] == "MKyCxh7p6uQ");
    CHECK(r["card"]["types"] == json::array({"https://smarthealth.cards#health-card"}));
    CHECK(r["revocation"] == "not_revoked");
    CHECK(r["people"][0]["name"] == "John B. Anyperson");
    CHECK(r["people"][0]["immunizations"].size() == 3);
    CHECK(r["errors"].empty());
    CHECK(r["warnings"].empty());
}

TEST_CASE("spec example 01: the signature is valid (x5c chain problem is a warning)" *
          doctest::test_suite("conformance")) {
    auto doc = verify_json({ex("example-01-g-qr-code-0.png"), "--jwks", spec_jwks()}, 0);
    auto r = doc["results"][0];
    CHECK(r["status"] == "valid");
    CHECK(r["revocation"] == "no_crl");
    REQUIRE(r["warnings"].size() == 1);
    CHECK(r["warnings"][0]["code"] == "X5C_INVALID");
}

TEST_CASE("spec example 02 from its three PNGs is valid" * doctest::test_suite("conformance")) {
    auto doc = verify_json({ex("example-02-g-qr-code-1.png"), ex("example-02-g-qr-code-2.png"),
                            ex("example-02-g-qr-code-0.png"), "--jwks", spec_jwks(), "--crl", spec_crl()},
                           0);
    CHECK(doc["results"][0]["status"] == "valid");
    CHECK(doc["results"][0]["inputs"].size() == 3);
}

TEST_CASE("spec example 03: expired now, valid before its exp, revoked only by a bare rid entry" *
          doctest::test_suite("conformance")) {
    std::string file = ex("example-03-e-file.smart-health-card");
    auto now = verify_json({file, "--jwks", spec_jwks(), "--crl", spec_crl()}, 1);
    CHECK(now["results"][0]["status"] == "expired");
    CHECK(now["results"][0]["errors"][0]["code"] == "EXPIRED");

    auto then = verify_json({file, "--jwks", spec_jwks(), "--crl", spec_crl(), "--at", "2024-07-01T00:00:00Z"}, 0);
    CHECK(then["results"][0]["status"] == "valid");
    CHECK(then["results"][0]["revocation"] == "not_revoked");

    TempDir tmp;
    write_file(
        tmp / "crl.json",
        R"({"kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s","method":"rid","ctr":1,"rids":["vwAjHdarZuc"]})");
    auto revoked =
        verify_json({file, "--jwks", spec_jwks(), "--crl", (tmp / "crl.json").string(), "--at", "1720000000"}, 1);
    CHECK(revoked["results"][0]["status"] == "revoked");
    CHECK(revoked["results"][0]["revocation"] == "revoked");
    CHECK(revoked["results"][0]["errors"][0]["code"] == "REVOKED");

    auto allowed = verify_json({file, "--jwks", spec_jwks(), "--crl", spec_crl(), "--allow-expired"}, 0);
    CHECK(allowed["results"][0]["status"] == "valid");
    CHECK(allowed["results"][0]["warnings"][0]["code"] == "EXPIRED");
}

TEST_CASE("the venue's text output: VALID / NOT VALID, the reason, issuer, person and doses") {
    auto ok = run_shcx({"verify", card("covid-three-doses.png"), "--jwks", kDemoIss + "=" + demo_jwks()});
    CHECK(ok.code == 0);
    CHECK(ok.out.rfind("VALID  " + card("covid-three-doses.png") + "\n", 0) == 0);
    CHECK(contains(ok.out, "Issuer:     <" + kDemoIss + "> (trusted, --jwks " + demo_jwks() + ")\n"));
    CHECK(contains(ok.out, "Person: Adaeze N. Okafor, born 1984-03-12\n"));
    CHECK(contains(ok.out, "Immunizations (3):"));

    TempDir tmp;
    auto [expired, jwks] = other_issuer_card(tmp, {"--nbf", "2024-05-07T18:49:23Z", "--exp", "2025-05-07T18:49:23Z"});
    auto bad = run_shcx({"verify", expired, "--jwks", jwks});
    CHECK(bad.code == 1);
    CHECK(bad.out.rfind("NOT VALID (expired)", 0) == 0);
    CHECK(contains(bad.out, "Reason:     EXPIRED: the card expired on 2025-05-07T18:49:23Z (exp)\n"));
    CHECK(contains(bad.out, "Content below is NOT verified"));
}

TEST_CASE("trust is bound to the issuer: ISS=FILE keys do not vouch for another iss") {
    auto doc = verify_json({card("lab-result.smart-health-card"), "--jwks", "https://other.example=" + demo_jwks()}, 1);
    CHECK(doc["results"][0]["status"] == "untrusted_issuer");
    CHECK(doc["results"][0]["errors"][0]["code"] == "ISSUER_NOT_TRUSTED");
    TempDir tmp;
    auto other_jwks = other_issuer_card(tmp).second;
    auto unknown = verify_json({card("lab-result.smart-health-card"), "--jwks", kDemoIss + "=" + other_jwks}, 1);
    CHECK(unknown["results"][0]["status"] == "unknown_key");
    CHECK(unknown["results"][0]["errors"][0]["code"] == "KEY_UNKNOWN");
}

TEST_CASE("--trust FILE in VCI snapshot format") {
    TempDir tmp;
    auto keys = json::parse(read_file(demo_jwks()))["keys"];
    json snapshot = {{"directory", "test"},
                     {"time", "2026-01-01T00:00:00Z"},
                     {"issuerInfo", {{{"issuer", {{"iss", kDemoIss}, {"name", "shcx demo issuer"}}}, {"keys", keys}}}}};
    write_file(tmp / "trust.json", snapshot.dump());
    auto doc = verify_json({card("two-people.smart-health-card"), "--trust", (tmp / "trust.json").string()}, 0);
    CHECK(doc["results"][0]["issuer"]["name"] == "shcx demo issuer");
    CHECK(doc["results"][0]["people"].size() == 2);
}

TEST_CASE("the real VCI snapshot as a --trust file does not trust the demo issuer" *
          doctest::test_suite("conformance")) {
    auto vci = verify_json(
        {card("two-people.smart-health-card"), "--trust", (vectors_dir() / "vci/vci_snapshot.json").string()}, 1);
    CHECK(vci["results"][0]["status"] == "untrusted_issuer");
}

TEST_CASE("with no trust store, cards are untrusted, verify creates nothing on disk") {
    auto doc = verify_json({card("lab-result.smart-health-card")}, 1);
    CHECK(doc["results"][0]["status"] == "untrusted_issuer");
    auto r = run_shcx({"verify", card("lab-result.smart-health-card")});
    CHECK(contains(r.err, "shcx: warning: no trusted issuers: run `shcx trust sync`"));
    CHECK_FALSE(fs::exists("/nonexistent/shcx-test-trust-store"));
}

TEST_CASE("a flipped byte in a card file is not valid") {
    TempDir tmp;
    std::string text = read_file(card("covid-three-doses.smart-health-card"));
    auto start = text.find("ey");
    for (size_t pos : {start + 5, start + 200, text.rfind('"') - 10}) {
        std::string bad = text;
        bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
        write_file(tmp / "bad.smart-health-card", bad);
        auto r = run_shcx({"verify", (tmp / "bad.smart-health-card").string(), "--jwks", demo_jwks()});
        CAPTURE(pos);
        CHECK(r.code == 1);
        CHECK(r.out.rfind("NOT VALID", 0) == 0);
    }
}

TEST_CASE("--jobs verifies many inputs in parallel and keeps input order") {
    TempDir tmp;
    std::vector<std::string> args{"verify", "--json", "--jobs", "2", "--jwks", demo_jwks()};
    std::vector<std::string> inputs;
    for (int i = 0; i < 6; ++i)
        for (const char* n : {"covid-three-doses.png", "lab-result.smart-health-card", "two-people.txt"})
            inputs.push_back(card(n));
    inputs.push_back(other_issuer_card(tmp).first);  // untrusted: last
    args.insert(args.end(), inputs.begin(), inputs.end());
    auto r = run_shcx(args);
    CHECK(r.code == 1);
    auto results = json::parse(r.out)["results"];
    REQUIRE(results.size() == inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) CHECK(results[i]["input"] == inputs[i]);
    CHECK(results[inputs.size() - 1]["status"] == "untrusted_issuer");
    CHECK(results[0]["status"] == "valid");
}

TEST_CASE("text output is the same on 1 and 2 threads, and unreadable inputs are reported in argument order") {
    TempDir tmp;
    write_file(tmp / "empty", "");
    std::string missing = (tmp / "missing.txt").string(), gone = (tmp / "gone.jws").string();
    std::vector<std::string> inputs{
        card("lab-result.smart-health-card"), missing, card("two-people.txt"), (tmp / "empty").string(),
        card("covid-three-doses.png"),        gone};
    auto run = [&](const char* jobs) {
        std::vector<std::string> args{"verify", "--jobs", jobs, "--jwks", demo_jwks()};
        args.insert(args.end(), inputs.begin(), inputs.end());
        return run_shcx(args);
    };
    auto one = run("1"), two = run("2");
    CHECK(one.code == 2);
    CHECK(two.code == 2);
    CHECK(one.out == two.out);
    CHECK(one.err == two.err);
    CHECK(one.out.rfind("VALID  " + card("lab-result.smart-health-card") + "\n", 0) == 0);
    CHECK(contains(one.out, "6 cards: 3 valid, 3 not valid"));
    auto at_missing = one.err.find(missing + ": INPUT_UNREADABLE"), at_gone = one.err.find(gone + ": INPUT_UNREADABLE");
    REQUIRE(at_missing != std::string::npos);
    REQUIRE(at_gone != std::string::npos);
    CHECK(at_missing < at_gone);
}

TEST_CASE("exit codes: unreadable input is 2 even beside valid cards, bad options are 2") {
    TempDir tmp;
    write_file(tmp / "empty", "");
    auto doc = verify_json({card("lab-result.smart-health-card"), (tmp / "empty").string(), "--jwks", demo_jwks()}, 2);
    REQUIRE(doc["results"].size() == 2);
    CHECK(doc["results"][0]["status"] == "valid");
    CHECK(doc["results"][1]["status"] == "malformed");
    CHECK(doc["results"][1]["errors"][0]["code"] == "INPUT_EMPTY");

    CHECK(run_shcx({"verify", card("lab-result.txt"), "--at", "tomorrow"}).code == 2);
    CHECK(run_shcx({"verify", card("lab-result.txt"), "--jobs", "0"}).code == 2);
    write_file(tmp / "bad-crl.json", R"({"kid":"x","method":"hash","ctr":1,"rids":[]})");
    auto crl = run_shcx({"verify", card("lab-result.txt"), "--crl", (tmp / "bad-crl.json").string()});
    CHECK(crl.code == 2);
    CHECK(contains(crl.err, "CRL_INVALID"));
    auto jwks = run_shcx({"verify", card("lab-result.txt"), "--jwks", (tmp / "nope.json").string()});
    CHECK(jwks.code == 2);
    CHECK(contains(jwks.err, "INPUT_UNREADABLE"));
}

TEST_CASE("a card with a bad header is read but not valid: status malformed, exit 1") {
    TempDir tmp;
    auto key = jose::PrivateKey::from_jwk_json(read_file(testdata_dir() / "issuer/key.jwk")).value();
    auto decoded = run_shcx({"decode", "--json", card("lab-result.smart-health-card")});
    REQUIRE(decoded.code == 0);
    std::string payload = json::parse(decoded.out)["results"][0]["payload"].dump();
    write_file(tmp / "none.jws", jose::sign_compact(key, R"({"alg":"none","zip":"DEF","kid":")" + key.kid() + "\"}",
                                                    inflate::deflate_raw(payload).value())
                                     .value());
    auto doc = verify_json({(tmp / "none.jws").string(), "--jwks", demo_jwks()}, 1);
    CHECK(doc["results"][0]["status"] == "malformed");
    CHECK(doc["results"][0]["errors"][0]["code"] == "JWS_HEADER_INVALID");
}
