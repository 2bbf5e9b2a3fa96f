#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "shcx/card/card.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;

namespace {
json minimal_payload() {
    return json::parse(R"({"iss":"https://issuer.example","nbf":1715107763.5,
      "vc":{"type":["https://smarthealth.cards#health-card"],
            "credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle","type":"collection","entry":[
              {"fullUrl":"resource:0","resource":{"resourceType":"Patient","name":[{"family":"Doe","given":["Jane","Q."]}],"birthDate":"1990-01-02"}},
              {"fullUrl":"resource:1","resource":{"resourceType":"Immunization","status":"completed",
                "vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"212"}]},
                "patient":{"reference":"resource:0"},"occurrenceDateTime":"2021-06-01","lotNumber":"L1",
                "performer":[{"actor":{"display":"Clinic"}}]}}]}},
            "rid":"abc_DEF-123"}})");
}
std::vector<ErrorCode> codes(const std::vector<Error>& errors) {
    std::vector<ErrorCode> out;
    for (const auto& e : errors) out.push_back(e.code);
    return out;
}
}  // namespace

TEST_CASE("a well-formed payload parses into people and immunizations with no problems") {
    auto card = card::parse_payload(minimal_payload().dump());
    REQUIRE(card.ok());
    const auto& c = card.value();
    CHECK(c.problems.empty());
    CHECK(c.iss == "https://issuer.example");
    CHECK(c.nbf.value() == 1715107763.5);
    CHECK_FALSE(c.exp.has_value());
    CHECK(c.rid.value() == "abc_DEF-123");
    REQUIRE(c.people.size() == 1);
    CHECK(c.people[0].name == "Jane Q. Doe");
    CHECK(c.people[0].birth_date == "1990-01-02");
    REQUIRE(c.people[0].immunizations.size() == 1);
    const auto& im = c.people[0].immunizations[0];
    CHECK(im.vaccine.code == "212");
    CHECK(im.vaccine_name == "COVID-19 vector-nr Ad26 (Janssen)");
    CHECK(im.manufacturer == "Janssen");
    CHECK(im.lot == "L1");
    CHECK(im.performer == "Clinic");
}

TEST_CASE("payload rules produce their codes") {
    struct Case {
        const char* why;
        void (*mutate)(json&);
        ErrorCode code;
    } cases[] = {
        {"iss not https", [](json& j) { j["iss"] = "http://issuer.example"; }, ErrorCode::ISSUER_URL_INVALID},
        {"iss trailing slash", [](json& j) { j["iss"] = "https://issuer.example/"; }, ErrorCode::ISSUER_URL_INVALID},
        {"nbf in ms", [](json& j) { j["nbf"] = 1715107763677.0; }, ErrorCode::DATE_IN_MILLISECONDS},
        {"exp in ms", [](json& j) { j["exp"] = 1746643763678LL; }, ErrorCode::DATE_IN_MILLISECONDS},
        {"nbf missing", [](json& j) { j.erase("nbf"); }, ErrorCode::CARD_SCHEMA_INVALID},
        {"nbf a string", [](json& j) { j["nbf"] = "2024-05-07"; }, ErrorCode::CARD_SCHEMA_INVALID},
        {"no health-card type", [](json& j) { j["vc"]["type"] = {"https://smarthealth.cards#immunization"}; },
         ErrorCode::CARD_SCHEMA_INVALID},
        {"no fhirVersion", [](json& j) { j["vc"]["credentialSubject"].erase("fhirVersion"); },
         ErrorCode::CARD_SCHEMA_INVALID},
        {"bundle not a Bundle", [](json& j) { j["vc"]["credentialSubject"]["fhirBundle"] = json::object(); },
         ErrorCode::CARD_SCHEMA_INVALID},
        {"no vc", [](json& j) { j.erase("vc"); }, ErrorCode::CARD_SCHEMA_INVALID},
        {"rid 25 chars", [](json& j) { j["vc"]["rid"] = std::string(25, 'a'); }, ErrorCode::RID_INVALID},
        {"rid bad char", [](json& j) { j["vc"]["rid"] = "abc.def"; }, ErrorCode::RID_INVALID},
        {"rid number", [](json& j) { j["vc"]["rid"] = 5; }, ErrorCode::RID_INVALID},
    };
    for (const auto& c : cases) {
        CAPTURE(c.why);
        auto j = minimal_payload();
        c.mutate(j);
        auto card = card::parse_payload(j.dump());
        REQUIRE(card.ok());
        CHECK(codes(card.value().problems) == std::vector<ErrorCode>{c.code});
    }
}

TEST_CASE("rid of exactly 24 characters is valid, deprecated types only warn") {
    auto j = minimal_payload();
    j["vc"]["rid"] = std::string(24, 'a');
    j["vc"]["type"].push_back("https://smarthealth.cards#covid19");
    j["vc"]["type"].push_back("https://example.org#unknown-type");
    auto card = card::parse_payload(j.dump()).value();
    CHECK(card.problems.empty());
    CHECK(codes(card.warnings) == std::vector<ErrorCode>{ErrorCode::DEPRECATED_TYPE});
}

TEST_CASE("non-object payloads are PAYLOAD_JSON_INVALID") {
    CHECK(card::parse_payload("[1,2]").error().code == ErrorCode::PAYLOAD_JSON_INVALID);
    CHECK(card::parse_payload("{\"iss\":").error().code == ErrorCode::PAYLOAD_JSON_INVALID);
    CHECK(card::parse_payload(std::string(100, '[') + std::string(100, ']')).error().code ==
          ErrorCode::PAYLOAD_JSON_INVALID);  // nested too deeply
}
