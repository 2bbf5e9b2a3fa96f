// One generated negative per verification rule, each asserting status and error code,
// plus the spec examples and a flipped byte at every position of a card.
#include <doctest/doctest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "shcx/base64url.h"
#include "shcx/card/inflate.h"
#include "shcx/jose/jws.h"
#include "shcx/read/input.h"
#include "shcx/read/numeric.h"
#include "shcx/verify/verify.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;

namespace {

const std::string kIss = "https://issuer.shcx.example/demo";
const double kNbf = 1768471200;  // 2026-01-15T10:00:00Z
const double kAt = 1795300000;   // 2026-11-21

jose::PrivateKey issuer_key() {
    return jose::PrivateKey::from_jwk_json(test::read_file(test::testdata_dir() / "issuer/key.jwk")).value();
}

json payload(double nbf = kNbf) {
    auto bundle = json::parse(test::read_file(test::testdata_dir() / "bundles/covid-three-doses.json"));
    return {{"iss", kIss},
            {"nbf", nbf},
            {"vc",
             {{"type", {"https://smarthealth.cards#health-card"}},
              {"credentialSubject", {{"fhirVersion", "4.0.1"}, {"fhirBundle", bundle}}},
              {"rid", "rid1"}}}};
}

json header(const jose::PrivateKey& key) { return {{"zip", "DEF"}, {"alg", "ES256"}, {"kid", key.kid()}}; }

std::string sign(const json& p, const json& h, const jose::PrivateKey& key) {
    return jose::sign_compact(key, h.dump(), inflate::deflate_raw(p.dump()).value()).value();
}
std::string sign(const json& p) {
    auto key = issuer_key();
    return sign(p, header(key), key);
}

trust::TrustStore trust_with(std::vector<json> keys, const std::string& iss = kIss) {
    trust::TrustStore store;
    auto issuer = trust::issuer_from_jwks(json{{"keys", keys}}.dump(), iss, "test").value();
    issuer.name = "Test Issuer";
    store.add_issuer(std::move(issuer));
    return store;
}
json public_jwk() { return json::parse(issuer_key().to_jwk_json(false).value().str()); }
trust::TrustStore default_trust() { return trust_with({public_jwk()}); }

verify::Report run(const std::string& jws, const trust::TrustStore& trust, verify::Options opt = {}) {
    if (opt.at == 0) opt.at = kAt;
    input::FoundCard found;
    found.jws = jws;
    found.origins = {"test"};
    return verify::verify_card(found, trust, opt);
}

std::vector<ErrorCode> codes(const std::vector<Error>& v) {
    std::vector<ErrorCode> out;
    for (const auto& e : v) out.push_back(e.code);
    return out;
}

trust::Crl crl(const std::string& rids_json, long ctr = 1) {
    return trust::parse_crl(R"({"kid":")" + issuer_key().kid() + R"(","method":"rid","ctr":)" + std::to_string(ctr) +
                                R"(,"rids":)" + rids_json + "}",
                            "test CRL")
        .value();
}

}  // namespace

TEST_CASE("a good card is valid, trusted, with no revocation list") {
    auto r = run(sign(payload()), default_trust());
    CHECK(r.status == verify::Status::Valid);
    CHECK(r.errors.empty());
    CHECK(r.warnings.empty());
    CHECK(r.trusted);
    CHECK(r.issuer_name == "Test Issuer");
    CHECK(r.revocation == verify::Revocation::NoCrl);
}

TEST_CASE("one negative per rule: status and error code") {
    auto key = issuer_key();
    auto other = jose::PrivateKey::generate().value();
    struct Case {
        const char* rule;
        std::string jws;
        verify::Status status;
        ErrorCode code;
        trust::TrustStore trust = default_trust();
    };
    std::vector<Case> cases;
    auto add = [&](const char* rule, std::string jws, verify::Status s, ErrorCode c) {
        cases.push_back({rule, std::move(jws), s, c});
    };
    using S = verify::Status;
    add("JWS in two parts", "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0", S::Malformed, ErrorCode::JWS_MALFORMED);
    {
        auto h = header(key);
        h["alg"] = "none";
        add("alg none", sign(payload(), h, key), S::Malformed, ErrorCode::JWS_HEADER_INVALID);
        h = header(key);
        h.erase("zip");
        add("no zip", sign(payload(), h, key), S::Malformed, ErrorCode::JWS_HEADER_INVALID);
        h = header(key);
        h["jwk"] = public_jwk();
        add("key in header", sign(payload(), h, key), S::Malformed, ErrorCode::JWS_HEADER_INVALID);
    }
    {
        std::string p = payload().dump();
        uLongf len = compressBound(static_cast<uLong>(p.size()));
        std::string z(len, '\0');
        compress2(reinterpret_cast<Bytef*>(z.data()), &len, reinterpret_cast<const Bytef*>(p.data()),
                  static_cast<uLong>(p.size()), 9);
        z.resize(len);
        add("zlib wrapper", jose::sign_compact(key, header(key).dump(), z).value(), S::Malformed,
            ErrorCode::PAYLOAD_NOT_DEFLATED);
        add("inflation bomb",
            jose::sign_compact(key, header(key).dump(), inflate::deflate_raw(std::string(2u << 20, ' ')).value())
                .value(),
            S::Malformed, ErrorCode::PAYLOAD_TOO_LARGE);
        add("payload not JSON",
            jose::sign_compact(key, header(key).dump(), inflate::deflate_raw("nope").value()).value(), S::Malformed,
            ErrorCode::PAYLOAD_JSON_INVALID);
    }
    {
        std::string good = sign(payload());
        auto dot = good.rfind('.');
        auto raw = *base64url::decode(good.substr(dot + 1));
        std::string der =
            std::string("\x30\x44\x02\x20", 4) + raw.substr(0, 32) + std::string("\x02\x20", 2) + raw.substr(32);
        add("DER signature", good.substr(0, dot + 1) + base64url::encode(der), S::InvalidSignature,
            ErrorCode::SIGNATURE_FORMAT_INVALID);
        add("signed by another key", sign(payload(), header(key), other), S::InvalidSignature,
            ErrorCode::JWS_SIGNATURE_INVALID);
    }
    {
        auto p = payload();
        p["iss"] = "http://issuer.shcx.example/demo";
        cases.push_back({"iss not https", sign(p), S::Malformed, ErrorCode::ISSUER_URL_INVALID,
                         trust_with({public_jwk()}, "http://issuer.shcx.example/demo")});
        p = payload();
        p["nbf"] = kNbf * 1000;
        add("nbf in milliseconds", sign(p), S::Malformed, ErrorCode::DATE_IN_MILLISECONDS);
        add("not yet valid", sign(payload(kAt + 3600)), S::NotYetValid, ErrorCode::NOT_YET_VALID);
        p = payload();
        p["exp"] = kAt - 1;
        add("expired", sign(p), S::Expired, ErrorCode::EXPIRED);
        p = payload();
        p["vc"]["type"] = {"https://smarthealth.cards#immunization"};
        add("no health-card type", sign(p), S::Malformed, ErrorCode::CARD_SCHEMA_INVALID);
        p = payload();
        p["vc"]["credentialSubject"].erase("fhirBundle");
        add("no bundle", sign(p), S::Malformed, ErrorCode::CARD_SCHEMA_INVALID);
        p = payload();
        p["vc"]["rid"] = std::string(25, 'r');
        add("rid too long", sign(p), S::Malformed, ErrorCode::RID_INVALID);
    }
    {
        auto bad_use = public_jwk();
        bad_use["use"] = "enc";
        cases.push_back(
            {"key use not sig", sign(payload()), S::InvalidKey, ErrorCode::KEY_INVALID, trust_with({bad_use})});
        auto with_d = json::parse(key.to_jwk_json(true).value().str());
        cases.push_back(
            {"private key in trust", sign(payload()), S::InvalidKey, ErrorCode::KEY_INVALID, trust_with({with_d})});
        auto wrong_kid = public_jwk();
        wrong_kid["kid"] = "not-the-thumbprint";
        auto h = header(key);
        h["kid"] = "not-the-thumbprint";
        cases.push_back({"kid is not the thumbprint", sign(payload(), h, key), S::InvalidKey,
                         ErrorCode::KEY_KID_MISMATCH, trust_with({wrong_kid})});
        cases.push_back({"issuer not trusted", sign(payload()), S::UntrustedIssuer, ErrorCode::ISSUER_NOT_TRUSTED,
                         trust_with({public_jwk()}, "https://someone-else.example")});
        cases.push_back({"kid unknown", sign(payload()), S::UnknownKey, ErrorCode::KEY_UNKNOWN,
                         trust_with({json::parse(other.to_jwk_json(false).value().str())})});
    }
    {
        auto t = default_trust();
        t.add_crl(kIss, crl(R"(["rid1"])"));
        cases.push_back({"revoked rid", sign(payload()), S::Revoked, ErrorCode::REVOKED, std::move(t)});
        auto t2 = default_trust();
        t2.add_crl(kIss, crl(R"(["rid1.)" + std::to_string(static_cast<long>(kNbf) + 1) + R"("])"));
        cases.push_back(
            {"revoked rid issued before T", sign(payload()), S::Revoked, ErrorCode::REVOKED, std::move(t2)});
    }
    for (auto& c : cases) {
        CAPTURE(c.rule);
        auto r = run(c.jws, c.trust);
        CHECK(verify::status_name(r.status) == verify::status_name(c.status));
        REQUIRE_FALSE(r.errors.empty());
        CHECK(code_name(r.errors.front().code) == code_name(c.code));
    }
}

TEST_CASE("revocation: X.T does not revoke cards issued at or after T, other rids are not revoked") {
    auto t = default_trust();
    t.add_crl(kIss, crl(R"(["rid1.)" + std::to_string(static_cast<long>(kNbf)) + R"(", "other"])"));
    auto r = run(sign(payload()), t);
    CHECK(r.status == verify::Status::Valid);
    CHECK(r.revocation == verify::Revocation::NotRevoked);
    // X.T revokes a card issued before T whatever the verification time, even before T
    // (test_verify_conformance.cpp has the full set).
    auto t2 = default_trust();
    long T = static_cast<long>(kAt) + 86400;
    t2.add_crl(kIss, crl(R"(["rid1.)" + std::to_string(T) + R"("])"));
    CHECK(run(sign(payload()), t2).status == verify::Status::Revoked);
    verify::Options later;
    later.at = T + 1;
    CHECK(run(sign(payload()), t2, later).status == verify::Status::Revoked);
}

TEST_CASE("a key with crlVersion and no CRL, or an older CRL: revocation unknown, with a warning") {
    auto jwk = public_jwk();
    jwk["crlVersion"] = 2;
    auto none = run(sign(payload()), trust_with({jwk}));
    CHECK(none.status == verify::Status::Valid);
    CHECK(none.revocation == verify::Revocation::Unknown);
    CHECK(codes(none.warnings) == std::vector<ErrorCode>{ErrorCode::CRL_UNAVAILABLE});

    auto t = trust_with({jwk});
    t.add_crl(kIss, crl(R"(["zzz"])", 1));
    auto stale = run(sign(payload()), t);
    CHECK(stale.status == verify::Status::Valid);
    CHECK(stale.revocation == verify::Revocation::Unknown);
    CHECK(codes(stale.warnings) == std::vector<ErrorCode>{ErrorCode::CRL_STALE});

    auto t2 = trust_with({jwk});
    t2.add_crl(kIss, crl(R"(["rid1"])", 1));  // stale, but it does list the card
    CHECK(run(sign(payload()), t2).status == verify::Status::Revoked);

    auto t3 = trust_with({jwk});
    t3.add_crl(kIss, crl(R"(["zzz"])", 2));
    auto fresh = run(sign(payload()), t3);
    CHECK(fresh.revocation == verify::Revocation::NotRevoked);
    CHECK(fresh.warnings.empty());
}

TEST_CASE("--allow-expired turns EXPIRED into a warning") {
    auto p = payload();
    p["exp"] = kAt - 1;
    verify::Options opt;
    opt.allow_expired = true;
    auto r = run(sign(p), default_trust(), opt);
    CHECK(r.status == verify::Status::Valid);
    CHECK(codes(r.warnings) == std::vector<ErrorCode>{ErrorCode::EXPIRED});
}

TEST_CASE("warnings: deprecated type, JWS too long for one QR, trailing characters") {
    auto p = payload();
    p["vc"]["type"].push_back("https://smarthealth.cards#covid19");
    auto r = run(sign(p), default_trust());
    CHECK(r.status == verify::Status::Valid);
    CHECK(codes(r.warnings) == std::vector<ErrorCode>{ErrorCode::DEPRECATED_TYPE});

    auto big = json::parse(test::read_file(test::testdata_dir() / "bundles/large-history.json"));
    p = payload();
    p["vc"]["credentialSubject"]["fhirBundle"] = big;
    std::string jws = sign(p);
    REQUIRE(jws.size() > numeric::kMaxSingleQrJws);
    auto x = input::extract_cards({{"one-qr.txt", "shc:/" + numeric::encode_digits(jws)}});
    REQUIRE(x.cards.size() == 1);
    auto rr = verify::verify_card(x.cards[0], default_trust(), verify::Options{kAt});
    CHECK(rr.status == verify::Status::Valid);
    CHECK(codes(rr.warnings) == std::vector<ErrorCode>{ErrorCode::JWS_TOO_LONG_FOR_QR});

    auto t = input::extract_cards({{"bom.jws", "\xEF\xBB\xBF" + sign(payload())}});
    auto rt = verify::verify_card(t.cards.at(0), default_trust(), verify::Options{kAt});
    CHECK(rt.status == verify::Status::Valid);
    CHECK(codes(rt.warnings) == std::vector<ErrorCode>{ErrorCode::TRAILING_CHARACTERS});
}

TEST_CASE("a flipped character anywhere in header, payload or signature makes the card not valid") {
    std::string jws = sign(payload());
    auto trust = default_trust();
    REQUIRE(run(jws, trust).status == verify::Status::Valid);
    size_t not_valid = 0;
    for (size_t i = 0; i < jws.size(); ++i) {
        std::string bad = jws;
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        auto r = run(bad, trust);
        CAPTURE(i);
        CHECK(r.status != verify::Status::Valid);
        not_valid += r.status != verify::Status::Valid;
    }
    CHECK(not_valid == jws.size());
}

TEST_CASE("spec examples with the spec issuer keys" * doctest::test_suite("conformance")) {
    auto ex = test::spec_examples();
    auto jwks = test::read_file(ex / "issuer/.well-known/jwks.json");
    trust::TrustStore trust;
    trust.add_issuer(trust::issuer_from_jwks(jwks, "https://spec.smarthealth.cards/examples/issuer", "spec").value());
    auto verify_file = [&](const std::string& n, const trust::TrustStore& t, double at) {
        auto x = input::extract_cards({{n, test::read_file(ex / ("example-" + n + "-e-file.smart-health-card"))}});
        REQUIRE(x.cards.size() == 1);
        return verify::verify_card(x.cards[0], t, verify::Options{at});
    };
    auto r00 = verify_file("00", trust, kAt);
    CHECK(r00.status == verify::Status::Valid);
    CHECK(r00.revocation == verify::Revocation::Unknown);  // key has crlVersion 1, no CRL given
    CHECK(codes(r00.warnings) == std::vector<ErrorCode>{ErrorCode::CRL_UNAVAILABLE});

    // example-01's key has an x5c chain whose leaf expired 2022-06-01, before the card's nbf:
    // the signature is valid; the chain problem is a warning unless anchors are configured.
    auto r01 = verify_file("01", trust, kAt);
    CHECK(r01.status == verify::Status::Valid);
    CHECK(codes(r01.warnings) == std::vector<ErrorCode>{ErrorCode::X5C_INVALID});
    {
        auto keys = jose::parse_jwks(jwks).value();
        std::string root_pem = "-----BEGIN CERTIFICATE-----\n" + keys[1].x5c[2] + "\n-----END CERTIFICATE-----\n";
        auto x = input::extract_cards({{"01", test::read_file(ex / "example-01-e-file.smart-health-card")}});
        verify::Options anchored{kAt};
        anchored.x5c_anchors = {root_pem};
        auto r = verify::verify_card(x.cards[0], trust, anchored);
        CHECK(r.status == verify::Status::InvalidKey);
        REQUIRE_FALSE(r.errors.empty());
        CHECK(r.errors[0].code == ErrorCode::X5C_INVALID);
        // As of a time inside the leaf's validity (the card's nbf is what counts), the
        // leaf is still outside: nbf 2024 > notAfter 2022.
    }

    auto crl_text = test::read_file(ex / "issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json");
    auto with_crl = trust;
    with_crl.add_crl("", trust::parse_crl(crl_text, "spec CRL").value());
    auto r03 = verify_file("03", with_crl, kAt);
    CHECK(r03.status == verify::Status::Expired);
    CHECK(r03.revocation == verify::Revocation::NotRevoked);  // vwAjHdarZuc.1664492124 predates its nbf
    auto r03_then = verify_file("03", with_crl, 1720000000);  // 2024-07-03, before exp
    CHECK(r03_then.status == verify::Status::Valid);

    auto revoked = trust;
    revoked.add_crl(
        "",
        trust::parse_crl(
            R"({"kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s","method":"rid","ctr":1,"rids":["vwAjHdarZuc"]})",
            "bare rid")
            .value());
    auto r03_revoked = verify_file("03", revoked, 1720000000);
    CHECK(r03_revoked.status == verify::Status::Revoked);
    CHECK(r03_revoked.errors.at(0).code == ErrorCode::REVOKED);
}
