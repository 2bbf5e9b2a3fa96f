// Producer rules (lint.h), one finding per rule with its exact code and message, and
// none on cards that follow the spec.
#include <doctest/doctest.h>
#include <qrencode.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "card_maker.h"
#include "shcx/issue/qr_write.h"
#include "shcx/read/input.h"
#include "shcx/read/numeric.h"
#include "shcx/verify/lint.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;

namespace {

std::vector<std::string> code_names(const std::vector<Error>& v) {
    std::vector<std::string> out;
    for (const auto& e : v) out.emplace_back(code_name(e.code));
    return out;
}

const Error* find(const std::vector<Error>& v, const std::string& code) {
    for (const auto& e : v)
        if (code_name(e.code) == code) return &e;
    return nullptr;
}

// One symbol in one byte-mode segment (what a generic QR library does), as a PNG.
std::string one_segment_png(const std::string& text) {
    std::unique_ptr<QRcode, void (*)(QRcode*)> code(QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_L),
                                                    QRcode_free);
    REQUIRE(code);
    qr_write::Symbol s;
    s.version = code->version;
    s.width = code->width;
    for (int i = 0; i < code->width * code->width; ++i) s.modules.push_back(code->data[i] & 1);
    return qr_write::render_png({s}, 4);
}

input::FoundCard one_card(const std::vector<input::NamedBytes>& sources) {
    auto x = input::extract_cards(sources);
    REQUIRE(x.errors.empty());
    REQUIRE(x.cards.size() == 1);
    return x.cards[0];
}

}  // namespace

TEST_CASE("a card that follows the spec has no producer findings, in every form") {
    std::string jws = test::sign_json(test::demo_payload());
    std::string text = "shc:/" + numeric::encode_digits(jws);
    auto png = qr_write::render_png({qr_write::encode(text).value()});
    for (const auto& found : {one_card({{"c.jws", jws}}), one_card({{"c.txt", text}}), one_card({{"c.png", png}})}) {
        CAPTURE(found.origins[0]);
        CHECK(lint::check_qr(found).empty());
        CHECK(lint::check_payload(test::demo_payload().dump()).empty());
    }
}

TEST_CASE("payload not minified") {
    auto w = lint::check_payload(test::demo_payload().dump(1));
    CHECK(code_names(w) == std::vector<std::string>{"PAYLOAD_NOT_MINIFIED"});
    // Spaces inside strings are content, not formatting.
    auto p = test::demo_payload();
    p["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]["resource"]["name"][0]["family"] = "van der Berg";
    CHECK(lint::check_payload(p.dump()).empty());
}

TEST_CASE("FHIR data minimisation and entry shapes: one warning per rule, listing where") {
    auto p = test::demo_payload();
    auto& entries = p["vc"]["credentialSubject"]["fhirBundle"]["entry"];
    auto& patient = entries[0]["resource"];
    patient["id"] = "pat-1";
    patient["meta"] = {{"lastUpdated", "2021-01-01"}};
    patient["text"] = {{"status", "generated"}, {"div", "<div>x</div>"}};
    patient.erase("birthDate");
    auto& imm = entries[1]["resource"];
    imm["vaccineCode"]["text"] = "COVID-19 vaccine";
    imm["vaccineCode"]["coding"][0]["display"] = "Pfizer";
    imm["patient"]["reference"] = "Patient/123";
    imm.erase("status");
    entries[2]["fullUrl"] = "urn:uuid:0b0e4c47-7a8a-4f4c-9a3e-1234567890ab";
    entries[3]["resource"]["meta"] = {
        {"security", {{{"system", "https://smarthealth.cards/ial"}, {"code", "IAL1.2"}}}}};
    entries.push_back({{"fullUrl", "resource:4"},
                       {"resource",
                        {{"resourceType", "Observation"},
                         {"status", "final"},
                         {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "94500-6"}}}}}},
                         {"subject", {{"reference", "resource:0"}}}}}});
    auto w = lint::check_payload(p.dump());
    CHECK(code_names(w) == std::vector<std::string>{"FHIR_RESOURCE_ID", "FHIR_RESOURCE_META", "FHIR_RESOURCE_TEXT",
                                                    "FHIR_CODEABLECONCEPT_TEXT", "FHIR_CODING_DISPLAY",
                                                    "FHIR_FULLURL_NOT_SHORT", "FHIR_REFERENCE_NOT_SHORT",
                                                    "FHIR_PATIENT_SHAPE", "FHIR_IMMUNIZATION_SHAPE",
                                                    "FHIR_OBSERVATION_SHAPE"});
    CHECK(find(w, "FHIR_RESOURCE_ID")->message == "Resource.id present at 1 place: entry[0] Patient.id");
    CHECK(find(w, "FHIR_RESOURCE_META")->message ==
          "Resource.meta holding more than meta.security at 1 place: entry[0] Patient.meta");  // entry[3]'s is allowed
    CHECK(find(w, "FHIR_CODEABLECONCEPT_TEXT")->message ==
          "CodeableConcept.text present at 1 place: entry[1] Immunization.vaccineCode.text");
    CHECK(find(w, "FHIR_CODING_DISPLAY")->message ==
          "Coding.display present at 1 place: entry[1] Immunization.vaccineCode.coding[0].display");
    CHECK(find(w, "FHIR_FULLURL_NOT_SHORT")->message ==
          "Bundle.entry.fullUrl not a short resource:N URI at 1 place: entry[2] "
          "\"urn:uuid:0b0e4c47-7a8a-4f4c-9a3e-1234567890ab\"");
    CHECK(find(w, "FHIR_REFERENCE_NOT_SHORT")->message ==
          "Reference.reference not a short resource:N URI at 1 place: entry[1] Immunization.patient.reference "
          "\"Patient/123\"");
    CHECK(find(w, "FHIR_PATIENT_SHAPE")->message ==
          "Patient without the elements a verifier needs at 1 place: entry[0] Patient lacks birthDate");
    CHECK(find(w, "FHIR_IMMUNIZATION_SHAPE")->message ==
          "Immunization without the elements a verifier needs at 1 place: entry[1] Immunization lacks status");
    CHECK(find(w, "FHIR_OBSERVATION_SHAPE")->message ==
          "Observation without the elements a verifier needs at 1 place: entry[4] Observation lacks effective[x], "
          "value[x]");
}

TEST_CASE("many findings of one rule are one warning listing the first few") {
    auto p = test::demo_payload();
    for (auto& e : p["vc"]["credentialSubject"]["fhirBundle"]["entry"]) e["resource"]["id"] = "x";
    auto w = lint::check_payload(p.dump());
    REQUIRE(code_names(w) == std::vector<std::string>{"FHIR_RESOURCE_ID"});
    CHECK(w[0].message ==
          "Resource.id present at 4 places: entry[0] Patient.id, entry[1] Immunization.id, entry[2] Immunization.id "
          "and 1 more");
}

TEST_CASE("QR rules: chunking, chunk size and balance, version, segments, and which way the version was found") {
    // A two-chunk card as our issuer makes it: only the deprecation.
    auto chunked = one_card({{"large-history.txt", test::read_file(test::testdata_dir() / "cards/large-history.txt")}});
    REQUIRE(chunked.chunks == 2);
    CHECK(code_names(lint::check_qr(chunked)) == std::vector<std::string>{"CHUNKING_DEPRECATED"});

    // The same JWS split 1300 + the rest: too long, unbalanced, too big a QR.
    std::string jws = chunked.jws;
    REQUIRE(jws.size() > 1400);
    std::string lines = "shc:/1/2/" + numeric::encode_digits(jws.substr(0, 1300)) + "\nshc:/2/2/" +
                        numeric::encode_digits(jws.substr(1300)) + "\n";
    auto uneven = one_card({{"uneven.txt", lines}});
    auto w = lint::check_qr(uneven);
    CHECK(code_names(w) == std::vector<std::string>{"CHUNKING_DEPRECATED", "CHUNK_TOO_LONG", "CHUNKS_UNBALANCED",
                                                    "QR_VERSION_TOO_HIGH"});
    CHECK(find(w, "CHUNK_TOO_LONG")->message ==
          "chunk 1 (uneven.txt:1) carries 1300 JWS characters; a chunk holds at most 1191");
    CHECK(find(w, "QR_VERSION_TOO_HIGH")->message.find("no symbol at hand; re-encoded with libqrencode at level L") !=
          std::string::npos);

    // One QR holding the whole long JWS, as text and as an image: version read from the
    // symbol when there is one.
    std::string text = "shc:/" + numeric::encode_digits(jws);
    auto as_text = lint::check_qr(one_card({{"long.txt", text}}));
    CHECK(code_names(as_text) == std::vector<std::string>{"QR_VERSION_TOO_HIGH"});
    int needed = qr_write::version_for(text).value();
    CHECK(needed > 22);
    CHECK(find(as_text, "QR_VERSION_TOO_HIGH")->message ==
          "long.txt is QR version " + std::to_string(needed) +
              " (no symbol at hand; re-encoded with libqrencode at level L); SMART Health Card QR codes are version 22 "
              "at most");
    // An image of a shorter card in one byte segment: a bigger symbol than needed
    // (version read from the symbol) and the wrong segments.
    std::string short_text = "shc:/" + numeric::encode_digits(test::sign_json(test::demo_payload()));
    CHECK(lint::check_qr(one_card({{"short.txt", short_text}})).empty());
    auto as_image = lint::check_qr(one_card({{"bytes.png", one_segment_png(short_text)}}));
    CHECK(code_names(as_image) == std::vector<std::string>{"QR_VERSION_TOO_HIGH", "QR_SEGMENTS_INVALID"});
    CHECK(find(as_image, "QR_VERSION_TOO_HIGH")->message.find("(read from the symbol (L error correction))") !=
          std::string::npos);
    CHECK(find(as_image, "QR_SEGMENTS_INVALID")->message ==
          "bytes.png has segments [byte (" + std::to_string(short_text.size()) +
              ")]; expected [byte (5): the shc:/ header, numeric (" + std::to_string(short_text.size() - 5) +
              "): the digits]");

    // Text too long for any QR code at all.
    input::FoundCard huge;
    huge.qr.push_back({"huge.txt", "shc:/" + std::string(8000, '5'), 4000, std::nullopt});
    auto hw = lint::check_qr(huge);
    CHECK(code_names(hw) == std::vector<std::string>{"QR_VERSION_TOO_HIGH"});
    CHECK(hw[0].message ==
          "huge.txt fits no QR version (no symbol at hand; re-encoded with libqrencode at level L); "
          "SMART Health Card QR codes are version 22 at most");

    // A JWS or a file carries no QR rules.
    CHECK(lint::check_qr(one_card({{"c.jws", jws}})).empty());
}
