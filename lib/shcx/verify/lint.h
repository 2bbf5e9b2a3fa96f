// Producer rules: what the spec asks of an issuer that a verifier can still read past
// (QR size and segments, chunking, a minified payload, FHIR data minimisation and the
// shape of Patient, Immunization and Observation entries). Each finding is a warning with
// its own stable code; `shcx verify --strict` reports them and fails on any warning.
// docs/producer-rules.md lists every rule with the spec text it enforces.
#pragma once

#include <vector>

#include "shcx/card/decode.h"
#include "shcx/error.h"
#include "shcx/read/input.h"

namespace shcx::lint {

// Locations listed in one warning before "and N more".
inline constexpr size_t kMaxListed = 3;

std::vector<Error> check(const input::FoundCard& found, const decode::DecodedCard& decoded);

// The parts of check() on their own, for tests.
std::vector<Error> check_qr(const input::FoundCard& found);
std::vector<Error> check_payload(std::string_view payload_json);

}  // namespace shcx::lint
