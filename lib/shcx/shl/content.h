// What a decrypted application/fhir+json file of a SMART Health Link holds, for people: the
// resource type, a Bundle's type and entry counts, a document's title (an International
// Patient Summary is a "document" Bundle led by a Composition), and the same per-person
// view cards get (card::Person). Not signed, so never "valid": shown, not verified.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shcx/card/card.h"
#include "shcx/error.h"

namespace shcx::shl {

struct FhirSummary {
    std::string resource_type;                           // "Bundle", "Patient", "Endpoint", ...
    std::string bundle_type;                             // "document", "collection", ... (Bundles only)
    std::string title;                                   // Composition.title of a document, else empty
    size_t resources = 0;                                // entries of a Bundle; 1 for a single resource
    std::vector<std::pair<std::string, size_t>> counts;  // resource types in first-seen order
    std::vector<card::Person> people;
};

// SHL_INVALID unless `json` is a JSON object with a resourceType.
Result<FhirSummary> summarize_fhir(std::string_view json);

}  // namespace shcx::shl
