// Payload JSON -> card model (people, immunizations, results), then every policy rule
// evaluated on it: untrusted FHIR must never crash the summary or the policies.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shcx/card/card.h"
#include "shcx/verify/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view json(reinterpret_cast<const char*>(data), size);
    auto card = shcx::card::parse_payload(json);
    if (!card) return 0;
    static const auto policies = [] {
        std::vector<shcx::policy::Policy> out;
        for (const auto& name : shcx::policy::builtin_names()) out.push_back(shcx::policy::load(name).value());
        return out;
    }();
    for (const auto& p : policies) (void)shcx::policy::evaluate(p, card.value(), 1800000000.0);
    (void)shcx::card::fhir_bundle_json(json);
    (void)shcx::policy::parse(json, "fuzz");
    return 0;
}
