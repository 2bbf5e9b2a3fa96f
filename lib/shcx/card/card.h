// The SMART Health Card payload: iss, nbf, exp, vc.type, rid, fhirVersion and the FHIR
// bundle (summarised per person by fhir_summary.h), checked against the schema rules.
// Used by decode and verify. Schema problems are collected, not returned as failures:
// decode shows them as warnings, verify turns them into errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/card/fhir_summary.h"
#include "shcx/error.h"

namespace shcx::card {

inline constexpr std::string_view kHealthCardType = "https://smarthealth.cards#health-card";

struct Card {
    std::string iss;
    std::optional<double> nbf, exp;  // NumericDate seconds; may be fractional
    std::vector<std::string> types;
    std::optional<std::string> rid;
    std::string fhir_version;
    std::string payload_json;  // exactly as inflated (fhir_bundle_json() extracts the bundle)
    std::vector<Person> people;
    std::vector<Error> problems;  // schema rule violations (verification.md C)
    std::vector<Error> warnings;  // e.g. DEPRECATED_TYPE
};

// PAYLOAD_JSON_INVALID when the payload is not a JSON object; everything else is
// reported in Card::problems so that as much as possible is still shown.
Result<Card> parse_payload(std::string_view payload_json);

// The payload's vc.credentialSubject.fhirBundle, pretty-printed; nullopt when absent.
std::optional<std::string> fhir_bundle_json(std::string_view payload_json);

// "rid: base64url alphabet, at most 24 characters".
bool rid_is_valid(std::string_view rid);
// "iss: https:// URL, no trailing slash".
bool issuer_url_is_valid(std::string_view iss);

}  // namespace shcx::card
