// lib/shcx/card/decode: a compact JWS to header, inflated payload and card. (Every
// spec example, in every form: test_spec_examples.cpp.)
#include <doctest/doctest.h>

#include "shcx/base64url.h"
#include "shcx/card/decode.h"
#include "shcx/card/inflate.h"
#include "support.h"

using namespace shcx;

namespace {
std::string jws(const std::string& header, const std::string& payload) {
    return base64url::encode(header) + "." + base64url::encode(payload) + "." + base64url::encode(std::string(64, 's'));
}
const std::string kPayload =
    R"({"iss":"https://i.example","nbf":1,"vc":{"type":["https://smarthealth.cards#health-card"],)"
    R"("credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle"}}}})";
}  // namespace

TEST_CASE("a card decodes into header, payload and card model, without a signature check") {
    auto d =
        decode::decode_jws(jws(R"({"zip":"DEF","alg":"ES256","kid":"k1"})", inflate::deflate_raw(kPayload).value()));
    REQUIRE(d.ok());
    CHECK(d.value().header.kid == "k1");
    CHECK(d.value().header_problems.empty());
    CHECK(d.value().card.iss == "https://i.example");
    CHECK(d.value().card.payload_json == kPayload);
    CHECK(d.value().jws.signature == std::string(64, 's'));
}

TEST_CASE("header problems do not stop the decode, and the header is still shown") {
    auto d =
        decode::decode_jws(jws(R"({"zip":"DEF","alg":"none","kid":"k2"})", inflate::deflate_raw(kPayload).value()));
    REQUIRE(d.ok());
    REQUIRE(d.value().header_problems.size() == 1);
    CHECK(d.value().header_problems[0].code == ErrorCode::JWS_HEADER_INVALID);
    CHECK(d.value().header.alg == "none");
    CHECK(d.value().header.kid == "k2");
    CHECK(d.value().card.iss == "https://i.example");
}

TEST_CASE("what ends a decode: malformed JWS, payload not deflated, too large, not JSON") {
    std::string header = R"({"zip":"DEF","alg":"ES256","kid":"k"})";
    CHECK(decode::decode_jws("a.b").error().code == ErrorCode::JWS_MALFORMED);
    CHECK(decode::decode_jws(jws(header, kPayload)).error().code == ErrorCode::PAYLOAD_NOT_DEFLATED);
    CHECK(decode::decode_jws(jws(header, inflate::deflate_raw(std::string(2000, ' ')).value()), 1000).error().code ==
          ErrorCode::PAYLOAD_TOO_LARGE);
    CHECK(decode::decode_jws(jws(header, inflate::deflate_raw("[1]").value())).error().code ==
          ErrorCode::PAYLOAD_JSON_INVALID);
}
