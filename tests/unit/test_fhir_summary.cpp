// lib/shcx/card/fhir_summary: people and their entries from a FHIR bundle, and the
// code-system labels every text output uses.
#include <doctest/doctest.h>

#include "shcx/card/fhir_summary.h"
#include "support.h"

using namespace shcx;

TEST_CASE("entries go to the person they reference") {
    auto bundle = test::read_file(test::testdata_dir() / "bundles/two-people.json");
    auto people = card::summarize_bundle(bundle).value();
    REQUIRE(people.size() == 2);
    CHECK(people[0].name == "Camille Moreau");
    CHECK(people[0].immunizations.size() == 2);
    CHECK(people[1].name == "Lucas Moreau");
    REQUIRE(people[1].immunizations.size() == 1);
    CHECK(people[1].immunizations[0].vaccine.code == "212");
}

TEST_CASE("lab results are summarised with a readable value") {
    auto people = card::summarize_bundle(test::read_file(test::testdata_dir() / "bundles/lab-result.json")).value();
    REQUIRE(people.size() == 1);
    REQUIRE(people[0].results.size() == 1);
    CHECK(people[0].results[0].test.code == "94558-4");
    CHECK(people[0].results[0].value == "Negative");
    CHECK(people[0].results[0].date == "2026-01-14T08:30:00Z");
}

TEST_CASE("a text that is not a FHIR Bundle is CARD_SCHEMA_INVALID") {
    CHECK(card::summarize_bundle(R"({"resourceType":"Patient"})").error().code == ErrorCode::CARD_SCHEMA_INVALID);
    CHECK(card::summarize_bundle("not json").error().code == ErrorCode::CARD_SCHEMA_INVALID);
    CHECK(card::summarize_bundle(R"({"resourceType":"Bundle"})").value().empty());
}

TEST_CASE("names, result codes without display, quantities, other entries and medication references") {
    auto people = card::summarize_bundle(R"({"resourceType":"Bundle","entry":[
        {"fullUrl":"resource:0","resource":{"resourceType":"Patient","name":[{"text":"Ana Lima"}]}},
        {"fullUrl":"resource:1","resource":{"resourceType":"Observation","status":"final",
          "code":{"coding":[{"system":"http://loinc.org","code":"94500-6"}]},
          "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260415000"}]},
          "subject":{"reference":"resource:0"},"effectiveDateTime":"2026-01-01"}},
        {"fullUrl":"resource:2","resource":{"resourceType":"Observation",
          "code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},"valueQuantity":{"value":5.5,"unit":"mmol/L"}}},
        {"fullUrl":"resource:3","resource":{"resourceType":"Condition","subject":{"reference":"resource:0"},
          "onsetDateTime":"2020-02-02","code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003","display":"Hypertension"}]}}},
        {"fullUrl":"resource:4","resource":{"resourceType":"Medication","code":{"coding":[{"system":"http://www.whocc.no/atc","code":"C09AA05"}]}}},
        {"fullUrl":"resource:5","resource":{"resourceType":"MedicationStatement","subject":{"reference":"resource:0"},
          "medicationReference":{"reference":"resource:4"},"effectivePeriod":{"start":"2021-03-03"}}},
        {"fullUrl":"resource:6","resource":{"resourceType":"Practitioner","name":[{"family":"Who"}]}}]})")
                      .value();
    REQUIRE(people.size() == 1);
    const auto& p = people[0];
    CHECK(p.name == "Ana Lima");
    REQUIRE(p.results.size() == 2);
    CHECK(p.results[0].value == "Not detected");  // named from the SNOMED code
    CHECK(p.results[0].value_system == "http://snomed.info/sct");
    CHECK(p.results[0].value_code == "260415000");
    CHECK(p.results[1].value == "5.5 mmol/L");  // unreferenced, and only one Patient: hers
    REQUIRE(p.other.size() == 2);               // the Practitioner and the Medication are about nobody
    CHECK(p.other[0].resource_type == "Condition");
    CHECK(p.other[0].date == "2020-02-02");
    CHECK(p.other[0].code.display == "Hypertension");
    CHECK(p.other[1].resource_type == "MedicationStatement");
    CHECK(p.other[1].date == "2021-03-03");
    CHECK(p.other[1].code.code == "C09AA05");
}

TEST_CASE("one label table for code systems") {
    CHECK(card::system_label("http://hl7.org/fhir/sid/cvx") == "CVX");
    CHECK(card::system_label("http://snomed.info/sct") == "SNOMED");
    CHECK(card::system_label("http://loinc.org") == "LOINC");
    CHECK(card::system_label("http://id.who.int/icd/release/11/mms") == "ICD-11");
    CHECK(card::system_label("http://hl7.org/fhir/sid/icd-10") == "ICD-10");
    CHECK(card::system_label("http://www.whocc.no/atc") == "ATC");
    CHECK(card::system_label("http://loinc.org/extra").empty());
    CHECK(card::system_label("").empty());
    CHECK(card::code_text({"http://hl7.org/fhir/sid/cvx", "208", "x"}) == "CVX 208");
    CHECK(card::code_text({"http://id.who.int/icd/release/11/mms", "XM68M6", ""}) == "ICD-11 XM68M6");
    CHECK(card::code_text({"urn:example", "7", ""}) == "urn:example 7");
    CHECK(card::code_text({"", "7", ""}) == "7");
    CHECK(card::code_text({"", "", ""}) == "?");
}
