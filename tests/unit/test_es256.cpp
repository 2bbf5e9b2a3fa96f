// ES256 keys: verification (spec examples, Wycheproof), signing, private JWKs.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "shcx/base64url.h"
#include "shcx/jose/es256.h"
#include "shcx/jose/jws.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;

namespace {
std::string trim_right(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}
}  // namespace

TEST_CASE("every spec example JWS verifies with its issuer key, a flipped byte does not" *
          doctest::test_suite("conformance")) {
    auto jwks = jose::parse_jwks(test::read_file(test::spec_examples() / "issuer/.well-known/jwks.json")).value();
    for (const char* n : {"00", "01", "02", "03"}) {
        CAPTURE(n);
        auto text = trim_right(test::read_file(test::spec_examples() / (std::string("example-") + n + "-d-jws.txt")));
        auto jws = jose::parse_compact(text).value();
        auto header = jose::check_shc_header(jws.header_json).value();
        const jose::Jwk* key = nullptr;
        for (const auto& k : jwks)
            if (k.kid == header.kid) key = &k;
        REQUIRE(key);
        auto pub = jose::PublicKey::from_jwk(*key).value();
        CHECK_FALSE(pub.verify_es256(jws.signing_input(), jws.signature).has_value());
        std::string tampered = jws.signature;
        tampered[10] ^= 0x01;
        CHECK(pub.verify_es256(jws.signing_input(), tampered)->code == ErrorCode::JWS_SIGNATURE_INVALID);
        std::string input = jws.signing_input();
        input[input.size() / 2] ^= 0x01;
        CHECK(pub.verify_es256(input, jws.signature)->code == ErrorCode::JWS_SIGNATURE_INVALID);
    }
}

TEST_CASE("sign then verify, DER and short signatures are SIGNATURE_FORMAT_INVALID") {
    auto key = jose::PrivateKey::generate().value();
    auto sig = key.sign_es256("header.payload").value();
    CHECK(sig.size() == 64);
    auto pub = jose::PublicKey::from_xy(key.x(), key.y()).value();
    CHECK_FALSE(pub.verify_es256("header.payload", sig).has_value());
    CHECK(pub.verify_es256("header.payloaD", sig)->code == ErrorCode::JWS_SIGNATURE_INVALID);
    CHECK(pub.verify_es256("header.payload", sig.substr(0, 63))->code == ErrorCode::SIGNATURE_FORMAT_INVALID);
    // The same signature DER-encoded (SEQUENCE of two INTEGERs) is named as DER.
    std::string der =
        std::string("\x30\x46\x02\x21\x00", 5) + sig.substr(0, 32) + std::string("\x02\x21\x00", 3) + sig.substr(32);
    auto e = pub.verify_es256("header.payload", der);
    REQUIRE(e.has_value());
    CHECK(e->code == ErrorCode::SIGNATURE_FORMAT_INVALID);
    CHECK(test::contains(e->message, "DER"));
}

TEST_CASE("private JWK round trip and key checks") {
    auto key = jose::PrivateKey::generate().value();
    auto text = key.to_jwk_json(true).value();
    auto again = jose::PrivateKey::from_jwk_json(text.str());
    REQUIRE(again.ok());
    CHECK(again.value().kid() == key.kid());
    auto pub = jose::parse_jwk(key.to_jwk_json(false).value().str()).value();
    CHECK(pub.kid == key.kid());
    CHECK(jose::check_issuer_key(pub).empty());

    auto with_d = jose::parse_jwk(text.str()).value();
    CHECK(jose::check_issuer_key(with_d).at(0).code == ErrorCode::KEY_INVALID);

    auto wrong_kid = pub;
    wrong_kid.kid = "not-the-thumbprint";
    CHECK(jose::check_issuer_key(wrong_kid).at(0).code == ErrorCode::KEY_KID_MISMATCH);

    auto off_curve = pub;
    off_curve.y = base64url::encode(std::string(32, '\x01'));
    CHECK(jose::check_issuer_key(off_curve).at(0).code == ErrorCode::KEY_INVALID);
    CHECK(jose::PublicKey::from_xy(off_curve.x, off_curve.y).error().code == ErrorCode::KEY_INVALID);

    // A d that does not belong to x/y is refused.
    auto other = jose::PrivateKey::generate().value();
    auto j = json::parse(text.str());
    j["d"] = json::parse(other.to_jwk_json(true).value().str())["d"];
    CHECK(jose::PrivateKey::from_jwk_json(j.dump()).error().code == ErrorCode::KEY_INVALID);
    CHECK(jose::PrivateKey::from_jwk_json("{}").error().code == ErrorCode::KEY_INVALID);
}

// Wycheproof ecdsa_secp256r1_sha256_p1363: signatures are raw r||s exactly as in JWS.
// The file has only "valid" and "invalid" cases (no "acceptable"); were one added, we
// would require it to be rejected: a strict verifier accepts only what is plainly valid.
TEST_CASE("Wycheproof ECDSA P-256 SHA-256 P1363: all 262 cases" * doctest::test_suite("conformance")) {
    auto doc = json::parse(test::read_file(test::vectors_dir() / "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json"));
    int count = 0, valid = 0;
    for (const auto& group : doc["testGroups"]) {
        // Not every group has publicKeyJwk; every group has the uncompressed point 04||x||y.
        std::string point = test::unhex(group["publicKey"]["uncompressed"].get<std::string>());
        REQUIRE(point.size() == 65);
        auto key =
            jose::PublicKey::from_xy(base64url::encode(point.substr(1, 32)), base64url::encode(point.substr(33)));
        REQUIRE(key.ok());
        for (const auto& t : group["tests"]) {
            ++count;
            std::string msg = test::unhex(t["msg"].get<std::string>());
            std::string sig = test::unhex(t["sig"].get<std::string>());
            bool accepted = !key.value().verify_es256(msg, sig).has_value();
            bool expect = t["result"] == "valid";
            CAPTURE(t["tcId"].get<int>());
            CAPTURE(t["comment"].get<std::string>());
            CHECK(accepted == expect);
            valid += accepted;
        }
    }
    CHECK(count == 262);
    CHECK(valid == 173);
}
