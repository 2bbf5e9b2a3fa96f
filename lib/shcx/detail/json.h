// Internal: bounded JSON parsing for untrusted input. Includes nlohmann/json, so only
// .cpp files include this header (it is heavy to compile).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace shcx::detail {

// Ordered, so that re-serialised JSON (e.g. --fhir-out) keeps the issuer's member order.
using Json = nlohmann::ordered_json;

inline constexpr int kMaxJsonDepth = 64;

// True when brackets nest no deeper than max_depth (strings are skipped). Checked before
// parsing because nlohmann's parser recurses once per level.
bool json_depth_ok(std::string_view text, int max_depth = kMaxJsonDepth);

// Strict JSON, the same for every input (payloads, headers, JWKS, CRLs, snapshots,
// policies, the share API): RFC 8259 with nothing left to interpretation. Rejected: a NUL
// byte anywhere (nlohmann would stop reading at it and ignore what follows), content after
// the value, invalid UTF-8, lone UTF-16 surrogates in escapes, nesting deeper than
// max_depth, and an object naming the same member twice (other parsers would read the
// first value where nlohmann reads the last). Never throws.
struct Parsed {
    std::optional<Json> value;
    std::string error;  // why not, e.g. "duplicate member \"iss\"", when value is empty
};
Parsed parse_json_checked(std::string_view text, int max_depth = kMaxJsonDepth);
// The same through nlohmann's own parser only: the reference the fast path is tested
// against, and where every rejected text goes for its reason.
Parsed parse_json_exact(std::string_view text, int max_depth = kMaxJsonDepth);
// The same, without the reason.
std::optional<Json> parse_json(std::string_view text, int max_depth = kMaxJsonDepth);

// Member accessors that never throw: nullptr / nullopt when absent or of another type.
const Json* member(const Json& obj, const char* key);
std::optional<std::string> string_member(const Json& obj, const char* key);
// A number, or a string holding a decimal integer (real data stores some counters as "1").
std::optional<long> integer_member(const Json& obj, const char* key);

}  // namespace shcx::detail
