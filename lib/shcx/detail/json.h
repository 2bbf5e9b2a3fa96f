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

// Parsed JSON, or nullopt for invalid or too deeply nested text. Never throws.
std::optional<Json> parse_json(std::string_view text, int max_depth = kMaxJsonDepth);

// Member accessors that never throw: nullptr / nullopt when absent or of another type.
const Json* member(const Json& obj, const char* key);
std::optional<std::string> string_member(const Json& obj, const char* key);
// A number, or a string holding a decimal integer (real data stores some counters as "1").
std::optional<long> integer_member(const Json& obj, const char* key);

}  // namespace shcx::detail
