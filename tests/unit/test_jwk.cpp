// JWKs: parsing (with the real data's quirks), RFC 7638 thumbprints, issuer key rules.
#include <doctest/doctest.h>

#include "shcx/base64url.h"
#include "shcx/jose/es256.h"
#include "shcx/jose/jwk.h"
#include "support.h"

using namespace shcx;

TEST_CASE("spec example keys: kid equals the RFC 7638 thumbprint, keys pass the issuer rules" *
          doctest::test_suite("conformance")) {
    auto jwks = jose::parse_jwks(test::read_file(test::spec_examples() / "issuer/.well-known/jwks.json"));
    REQUIRE(jwks.ok());
    REQUIRE(jwks.value().size() == 2);
    for (const auto& k : jwks.value()) {
        CHECK(jose::ec_thumbprint(k.crv, k.x, k.y) == k.kid);
        CHECK(jose::check_issuer_key(k).empty());
    }
    CHECK(jwks.value()[0].crl_version == 1L);
    CHECK(jwks.value()[1].x5c.size() == 3);
}

TEST_CASE("JWK members, crlVersion as number or numeric string, x5c kept") {
    auto k = jose::parse_jwk(R"({"kty":"EC","crv":"P-256","kid":"k","use":"sig","alg":"ES256","x":"X","y":"Y",
                                 "crlVersion":"3","x5c":["AAAA","BBBB",5]})");
    REQUIRE(k.ok());
    CHECK(k.value().kty == "EC");
    CHECK(k.value().kid == "k");
    CHECK(k.value().x == "X");
    CHECK(k.value().crl_version == 3L);
    CHECK(k.value().x5c == std::vector<std::string>{"AAAA", "BBBB"});
    CHECK_FALSE(k.value().has_private);
    CHECK(jose::parse_jwk(R"({"kty":"EC","crlVersion":2})").value().crl_version == 2L);
    CHECK_FALSE(jose::parse_jwk(R"({"kty":"EC"})").value().crl_version.has_value());
    CHECK(jose::parse_jwk(R"({"kty":"EC","d":"x"})").value().has_private);
}

TEST_CASE("malformed JWKs and JWKS are KEY_INVALID") {
    CHECK(jose::parse_jwk("not json").error().code == ErrorCode::KEY_INVALID);
    CHECK(jose::parse_jwk("[1,2]").error().code == ErrorCode::KEY_INVALID);
    CHECK(jose::parse_jwk(R"({"crlVersion":"one"})").error().code == ErrorCode::KEY_INVALID);
    CHECK(jose::parse_jwk(R"({"crlVersion":1.5})").error().code == ErrorCode::KEY_INVALID);
    CHECK(jose::parse_jwks("{}").error().code == ErrorCode::KEY_INVALID);
    CHECK(jose::parse_jwks(R"({"keys":{}})").error().code == ErrorCode::KEY_INVALID);
    CHECK(jose::parse_jwks(R"({"keys":[{"kty":"EC"},7]})").error().code == ErrorCode::KEY_INVALID);
    CHECK(jose::parse_jwks(R"({"keys":[]})").value().empty());
}

TEST_CASE("RFC 7638 thumbprint: fixed canonical form, any change changes it") {
    // The spec example key's kid, computed independently (Python: base64url of SHA-256 of
    // the canonical JSON); swapping the coordinates gives another thumbprint.
    std::string x = "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw", y = "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8";
    CHECK(jose::ec_thumbprint("P-256", x, y) == "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s");
    CHECK(jose::ec_thumbprint("P-256", y, x) != "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s");
    CHECK(jose::ec_thumbprint("P-256", x, y).size() == 43);  // 32 bytes, unpadded base64url
}

TEST_CASE("issuer key rules: one KEY_INVALID per broken rule, then the kid") {
    auto key = jose::PrivateKey::generate().value();
    auto good = jose::parse_jwk(key.to_jwk_json(false).value().str()).value();
    REQUIRE(jose::check_issuer_key(good).empty());
    struct Case {
        const char* why;
        void (*edit)(jose::Jwk&);
    } cases[] = {
        {"kty RSA", [](jose::Jwk& k) { k.kty = "RSA"; }},
        {"crv P-384", [](jose::Jwk& k) { k.crv = "P-384"; }},
        {"use enc", [](jose::Jwk& k) { k.use = "enc"; }},
        {"alg ES384", [](jose::Jwk& k) { k.alg = "ES384"; }},
        {"private d", [](jose::Jwk& k) { k.has_private = true; }},
        {"x not 32 bytes", [](jose::Jwk& k) { k.x = k.x.substr(0, 20); }},
    };
    for (const auto& c : cases) {
        CAPTURE(c.why);
        auto k = good;
        c.edit(k);
        auto problems = jose::check_issuer_key(k);
        REQUIRE(problems.size() == 1);
        CHECK(problems[0].code == ErrorCode::KEY_INVALID);
        CHECK(test::contains(problems[0].message, "key " + good.kid));
    }
    auto two = good;
    two.use = "enc";
    two.alg = "none";
    CHECK(jose::check_issuer_key(two).size() == 2);
    auto renamed = good;
    renamed.kid = "another";
    auto problems = jose::check_issuer_key(renamed);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].code == ErrorCode::KEY_KID_MISMATCH);
    CHECK(test::contains(problems[0].message, good.kid));  // names the right thumbprint
}
