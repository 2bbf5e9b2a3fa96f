// The readable summary of a FHIR bundle, per person: immunizations (named from the CVX
// table), lab results and other clinical entries; and the one table of code-system labels
// ("CVX 208", "LOINC 94500-6") that every text output uses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"

namespace shcx::card {

inline constexpr std::string_view kCvxSystem = "http://hl7.org/fhir/sid/cvx";

struct Coding {
    std::string system, code, display;
};

struct Immunization {
    std::string date;          // occurrenceDateTime (or occurrenceString)
    Coding vaccine;            // first coding of vaccineCode
    std::string vaccine_name;  // readable name: CVX table, else the coding's display
    std::string manufacturer;  // from the CVX table when known
    std::string lot, performer, status;
};

struct LabResult {
    std::string date;                      // effectiveDateTime
    Coding test;                           // first coding of code
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

// People and their entries from a FHIR Bundle's text. CARD_SCHEMA_INVALID unless the
// text is a JSON object with "resourceType": "Bundle".
Result<std::vector<Person>> summarize_bundle(std::string_view bundle_json);

// "CVX", "SNOMED", "LOINC", "ICD-11", "ICD-10" or "ATC" for the systems cards use; empty
// for any other.
std::string_view system_label(std::string_view system);
// "CVX 208"; "<system> <code>" for a system without a label; the code alone without a
// system; "?" for an empty coding.
std::string code_text(const Coding& coding);

}  // namespace shcx::card
