#include "shcx/shl/content.h"

#include "shcx/detail/json.h"

namespace shcx::shl {

Result<FhirSummary> summarize_fhir(std::string_view json) {
    auto parsed = detail::parse_json(json);
    if (!parsed || !parsed->is_object())
        return make_error(ErrorCode::SHL_INVALID, "application/fhir+json content is not a JSON object");
    auto type = detail::string_member(*parsed, "resourceType");
    if (!type || type->empty())
        return make_error(ErrorCode::SHL_INVALID, "application/fhir+json content has no resourceType");
    FhirSummary s;
    s.resource_type = *type;
    auto count = [&](const std::string& t) {
        for (auto& [name, n] : s.counts)
            if (name == t) return void(++n);
        s.counts.emplace_back(t, 1);
    };
    if (*type != "Bundle") {
        // One resource: summarised as a Bundle of one entry.
        s.resources = 1;
        count(*type);
        detail::Json bundle = {{"resourceType", "Bundle"}, {"entry", detail::Json::array({{{"resource", *parsed}}})}};
        auto people = card::summarize_bundle(bundle.dump());
        if (people) s.people = std::move(people.value());
        return s;
    }
    s.bundle_type = detail::string_member(*parsed, "type").value_or("");
    if (const auto* entries = detail::member(*parsed, "entry"); entries && entries->is_array()) {
        for (const auto& e : *entries) {
            ++s.resources;
            const auto* r = detail::member(e, "resource");
            auto t = r ? detail::string_member(*r, "resourceType") : std::nullopt;
            count(t.value_or("(no resourceType)"));
            if (t == "Composition" && s.title.empty()) s.title = detail::string_member(*r, "title").value_or("");
        }
    }
    auto people = card::summarize_bundle(json);
    if (people) s.people = std::move(people.value());
    return s;
}

}  // namespace shcx::shl
