// The SMART Health Card payload model: iss, nbf, exp, vc.type, rid and a per-person
// summary of the FHIR bundle (immunizations and lab results). Used for text and JSON
// output by decode and verify. Schema problems are collected, not thrown: decode shows
// them as warnings, verify turns them into errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"

namespace shcx::card {

inline constexpr std::string_view kHealthCardType = "https://smarthealth.cards#health-card";

struct Coding {
    std::string system, code, display;
};

struct Immunization {
    std::string date;       // occurrenceDateTime (or occurrenceString)
    Coding vaccine;         // first coding of vaccineCode
    std::string vaccine_name;  // readable name: CVX table, else the coding's display
    std::string manufacturer;  // from the CVX table when known
    std::string lot, performer, status;
};

struct LabResult {
    std::string date;  // effectiveDateTime
    Coding test;       // first coding of code
    std::string value, status, performer;  // value: readable ("Negative", "5 mg/L")
    std::string value_system, value_code;  // valueCodeableConcept's first coding, for policies
};

// Any other clinical entry about the person (Condition, MedicationStatement,
// AllergyIntolerance, Composition, ...), so patient-summary cards show their content.
struct OtherEntry {
    std::string resource_type, date;
    Coding code;  // first coding of code (or medicationCodeableConcept); display may hold a title
};

struct Person {
    std::string name, birth_date;
    std::vector<Immunization> immunizations;
    std::vector<LabResult> results;
    std::vector<OtherEntry> other;
};

struct Card {
    std::string iss;
    std::optional<double> nbf, exp;  // NumericDate seconds; may be fractional
    std::vector<std::string> types;
    std::optional<std::string> rid;
    std::string fhir_version;
    std::string payload_json;  // exactly as inflated (fhir_bundle_json() extracts the bundle)
    std::vector<Person> people;
    std::vector<Error> problems;  // schema rule violations (docs/verification.md C)
    std::vector<Error> warnings;  // e.g. DEPRECATED_TYPE
};

// PAYLOAD_JSON_INVALID when the payload is not a JSON object; everything else is
// reported in Card::problems so that as much as possible is still shown.
Result<Card> parse_payload(std::string_view payload_json);

// The payload's vc.credentialSubject.fhirBundle, pretty-printed; nullopt when absent.
std::optional<std::string> fhir_bundle_json(std::string_view payload_json);

// Bundle-only parsing (for `issue`): people and their entries from a FHIR Bundle.
Result<std::vector<Person>> summarize_bundle(std::string_view bundle_json);

// "rid: base64url alphabet, at most 24 characters".
bool rid_is_valid(std::string_view rid);
// "iss: https:// URL, no trailing slash".
bool issuer_url_is_valid(std::string_view iss);

}  // namespace shcx::card
