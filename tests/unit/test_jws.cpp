// Compact JWS: splitting, the SMART Health Cards header rules, signing.
#include <doctest/doctest.h>

#include "shcx/base64url.h"
#include "shcx/jose/jws.h"
#include "support.h"

using namespace shcx;

TEST_CASE("compact JWS must have exactly three non-empty base64url parts") {
    CHECK(jose::parse_compact("eyJh.eyJi").error().code == ErrorCode::JWS_MALFORMED);
    CHECK(jose::parse_compact("eyJh.eyJi.c2ln.eHh4").error().code == ErrorCode::JWS_MALFORMED);
    CHECK(jose::parse_compact("eyJh..c2ln").error().code == ErrorCode::JWS_MALFORMED);
    CHECK(jose::parse_compact("eyJh.eyJi.c2ln=").error().code == ErrorCode::JWS_MALFORMED);
    CHECK(jose::parse_compact("eyJh.ey Ji.c2ln").error().code == ErrorCode::JWS_MALFORMED);
    auto ok = jose::parse_compact("eyJh.eyJi.c2ln");
    REQUIRE(ok.ok());
    CHECK(ok.value().signature == "sig");
    CHECK(ok.value().signing_input() == "eyJh.eyJi");
}

TEST_CASE("SMART Health Card JWS header rules") {
    CHECK(jose::check_shc_header(R"({"zip":"DEF","alg":"ES256","kid":"k"})").ok());
    struct Case {
        const char* header;
        const char* why;
    } cases[] = {
        {R"({"zip":"DEF","alg":"none","kid":"k"})", "alg none"},
        {R"({"zip":"DEF","alg":"RS256","kid":"k"})", "alg RS256"},
        {R"({"alg":"ES256","kid":"k"})", "no zip"},
        {R"({"zip":"DEF","alg":"ES256"})", "no kid"},
        {R"({"zip":"DEF","alg":"ES256","kid":"k","crit":["x"]})", "crit"},
        {R"({"zip":"DEF","alg":"ES256","kid":"k","jwk":{}})", "embedded jwk"},
        {R"({"zip":"DEF","alg":"ES256","kid":"k","jku":"https://x"})", "jku"},
        {R"({"zip":"DEF","alg":"ES256","kid":"k","x5u":"https://x"})", "x5u"},
        {R"({"zip":"DEF","alg":"ES256","kid":"k","x5c":[]})", "x5c"},
        {R"(not json)", "not JSON"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.why);
        CHECK(jose::check_shc_header(c.header).error().code == ErrorCode::JWS_HEADER_INVALID);
    }
}

TEST_CASE("shc_header is the header cards are signed with, and passes the header rules") {
    CHECK(jose::shc_header("abc") == R"({"zip":"DEF","alg":"ES256","kid":"abc"})");
    auto h = jose::check_shc_header(jose::shc_header("abc"));
    REQUIRE(h.ok());
    CHECK(h.value().kid == "abc");
    CHECK(h.value().alg == "ES256");
    CHECK(h.value().zip == "DEF");
}

TEST_CASE("sign_compact: three base64url parts that parse back and verify") {
    auto key = jose::PrivateKey::generate().value();
    auto jws = jose::sign_compact(key, jose::shc_header(key.kid()), "payload bytes");
    REQUIRE(jws.ok());
    auto parts = jose::parse_compact(jws.value());
    REQUIRE(parts.ok());
    CHECK(parts.value().header_json == jose::shc_header(key.kid()));
    CHECK(parts.value().payload == "payload bytes");
    CHECK(parts.value().signature.size() == 64);
    CHECK(parts.value().header_b64 == base64url::encode(jose::shc_header(key.kid())));
    auto pub = jose::PublicKey::from_xy(key.x(), key.y()).value();
    CHECK_FALSE(pub.verify_es256(parts.value().signing_input(), parts.value().signature).has_value());
    // Another key's signature over the same input does not verify.
    auto other = jose::PrivateKey::generate().value();
    // parse_compact's views point into the text: keep it alive.
    std::string forged_jws = jose::sign_compact(other, jose::shc_header(key.kid()), "payload bytes").value();
    auto forged = jose::parse_compact(forged_jws);
    CHECK(pub.verify_es256(forged.value().signing_input(), forged.value().signature)->code ==
          ErrorCode::JWS_SIGNATURE_INVALID);
}
