// lib/shcx/issue: payload building, signing, chunking, file and QR outputs; every card it
// makes decodes back to what went in and verifies with the issuer's key.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "shcx/card/decode.h"
#include "shcx/issue/issue.h"
#include "shcx/read/input.h"
#include "shcx/read/numeric.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;

namespace {
const std::string kBundle = R"({"resourceType":"Bundle","type":"collection","entry":[
    {"fullUrl":"resource:0","resource":{"resourceType":"Patient","name":[{"text":"Test Person"}]}}]})";

issue::Claims claims() {
    issue::Claims c;
    c.iss = "https://issuer.example";
    c.nbf = 1768471200;
    return c;
}
jose::PrivateKey test_key() {
    return jose::PrivateKey::from_jwk_json(test::read_file(test::testdata_dir() / "issuer/key.jwk")).value();
}
}  // namespace

TEST_CASE("the payload: members in the specification's order, NumericDates as written") {
    auto c = claims();
    c.exp = 1800000000.5;
    c.rid = "abc";
    c.extra_types = {"https://smarthealth.cards#immunization"};
    auto text = issue::build_payload(kBundle, c);
    REQUIRE(text.ok());
    CHECK(text.value().rfind(R"({"iss":"https://issuer.example","nbf":1768471200,"exp":1800000000.5,"vc":{"type":[)",
                             0) == 0);
    auto j = json::parse(text.value());
    CHECK(j["vc"]["type"] ==
          json::array({"https://smarthealth.cards#health-card", "https://smarthealth.cards#immunization"}));
    CHECK(j["vc"]["credentialSubject"]["fhirVersion"] == "4.0.1");
    CHECK(j["vc"]["credentialSubject"]["fhirBundle"] == json::parse(kBundle));
    CHECK(j["vc"]["rid"] == "abc");
    CHECK(text.value().find('\n') == std::string::npos);  // minified
    auto plain = json::parse(issue::build_payload(kBundle, claims()).value());
    CHECK_FALSE(plain.contains("exp"));
    CHECK_FALSE(plain["vc"].contains("rid"));
}

TEST_CASE("bad claims and non-bundles are refused with their codes") {
    auto bad_iss = claims();
    bad_iss.iss = "https://issuer.example/";
    CHECK(issue::build_payload(kBundle, bad_iss).error().code == ErrorCode::ISSUER_URL_INVALID);
    bad_iss.iss = "http://issuer.example";
    CHECK(issue::build_payload(kBundle, bad_iss).error().code == ErrorCode::ISSUER_URL_INVALID);
    auto bad_rid = claims();
    bad_rid.rid = std::string(25, 'a');
    CHECK(issue::build_payload(kBundle, bad_rid).error().code == ErrorCode::RID_INVALID);
    bad_rid.rid = "a+b";
    CHECK(issue::build_payload(kBundle, bad_rid).error().code == ErrorCode::RID_INVALID);
    CHECK(issue::build_payload(R"({"resourceType":"Patient"})", claims()).error().code ==
          ErrorCode::CARD_SCHEMA_INVALID);
    CHECK(issue::build_payload("nope", claims()).error().code == ErrorCode::CARD_SCHEMA_INVALID);
}

TEST_CASE("an issued card decodes back to its payload and verifies with the key") {
    auto key = test_key();
    auto card = issue::issue(kBundle, claims(), key);
    REQUIRE(card.ok());
    auto decoded = decode::decode_jws(card.value().jws);
    REQUIRE(decoded.ok());
    const auto& d = decoded.value();
    CHECK(d.header_problems.empty());
    CHECK(d.header.kid == key.kid());
    CHECK(d.card.problems.empty());
    CHECK(d.card.payload_json == issue::build_payload(kBundle, claims()).value());
    REQUIRE(d.card.people.size() == 1);
    CHECK(d.card.people[0].name == "Test Person");
    auto pub = jose::PublicKey::from_xy(key.x(), key.y()).value();
    CHECK_FALSE(pub.verify_es256(d.jws.signing_input(), d.jws.signature).has_value());
    REQUIRE(card.value().qr_texts.size() == 1);
    CHECK(card.value().qr_texts[0] == "shc:/" + numeric::encode_digits(card.value().jws));
}

TEST_CASE("a large card is split into chunks that reassemble") {
    // Ids that do not compress, so the JWS outgrows one QR code.
    json big = json::parse(kBundle);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 60; ++i) {
        std::string id;
        for (int k = 0; k < 40; ++k) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            id += "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[x % 62];
        }
        big["entry"].push_back({{"fullUrl", "resource:" + std::to_string(i + 1)},
                                {"resource", {{"resourceType", "Observation"}, {"id", id}}}});
    }
    auto card = issue::issue(big.dump(), claims(), test_key());
    REQUIRE(card.ok());
    REQUIRE(card.value().jws.size() > numeric::kMaxSingleQrJws);
    const auto& texts = card.value().qr_texts;
    REQUIRE(texts.size() >= 2);
    std::vector<input::NamedBytes> inputs;
    for (size_t i = texts.size(); i-- > 0;) inputs.push_back({"chunk" + std::to_string(i), texts[i]});
    auto found = input::extract_cards(inputs);
    REQUIRE(found.cards.size() == 1);
    CHECK(found.cards[0].jws == card.value().jws);
    auto symbols = issue::qr_symbols(texts);
    REQUIRE(symbols.ok());
    CHECK(symbols.value().size() == texts.size());
    for (const auto& s : symbols.value()) CHECK(s.version <= qr_write::kMaxVersion);
}

TEST_CASE("the .smart-health-card file holds the JWS") {
    auto file = issue::health_card_file("aaa.bbb.ccc");
    CHECK(file == "{\"verifiableCredential\":[\"aaa.bbb.ccc\"]}\n");
    auto found = input::extract_cards({{"f", file}});
    REQUIRE(found.cards.size() == 1);
    CHECK(found.cards[0].kind == input::Kind::HealthCardFile);
    CHECK(found.cards[0].jws == "aaa.bbb.ccc");
}
