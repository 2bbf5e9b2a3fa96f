#include "shcx/card/fhir_summary.h"

#include <map>

#include "shcx/card/cvx.h"
#include "shcx/card/fhir_summary_json.h"

namespace shcx::card {
namespace {

using detail::JsonView;

Coding first_coding(JsonView cc) {
    Coding c;
    if (JsonView coding = cc.member("coding").first()) {
        c.system = coding.string_member("system").value_or("");
        c.code = coding.string_member("code").value_or("");
        c.display = coding.string_member("display").value_or("");
    }
    if (c.display.empty()) c.display = cc.string_member("text").value_or("");
    return c;
}

std::string person_name(JsonView patient) {
    JsonView name = patient.member("name").first();
    if (!name) return "";
    if (auto text = name.string_member("text")) return *text;
    std::string out;
    name.member("given").each([&](JsonView g) {
        if (auto s = g.string()) (out += out.empty() ? "" : " ") += *s;
    });
    if (auto family = name.string_member("family")) out += (out.empty() ? "" : " ") + *family;
    return out;
}

// Readable names for the SNOMED CT result codes used by lab cards.
std::string_view snomed_result_name(std::string_view code) {
    static constexpr std::pair<std::string_view, std::string_view> kNames[] = {{"260385009", "Negative"},
                                                                               {"10828004", "Positive"},
                                                                               {"260415000", "Not detected"},
                                                                               {"260373001", "Detected"},
                                                                               {"419984006", "Inconclusive"}};
    for (const auto& [c, name] : kNames)
        if (c == code) return name;
    return {};
}

std::string observation_value(JsonView obs) {
    if (JsonView cc = obs.member("valueCodeableConcept")) {
        Coding c = first_coding(cc);
        if (!c.display.empty()) return c.display;
        if (auto name = snomed_result_name(c.code); !name.empty()) return std::string(name);
        return c.code;
    }
    if (JsonView q = obs.member("valueQuantity")) {
        std::string v;
        if (JsonView n = q.member("value"); n.is_number()) v = n.dump();
        if (auto unit = q.string_member("unit")) v += " " + *unit;
        return v;
    }
    return obs.string_member("valueString").value_or("");
}

std::string reference_of(JsonView resource, const char* field) {
    return resource.member(field).string_member("reference").value_or("");
}

// The code of a Medication entry referenced by a MedicationStatement, when the bundle has it.
std::optional<Coding> medication_of(JsonView entries, const std::string& ref) {
    std::optional<Coding> found;
    if (ref.empty()) return found;
    entries.each([&](JsonView e) {
        if (found || e.member("fullUrl").string() != ref) return;
        if (JsonView code = e.member("resource").member("code")) found = first_coding(code);
    });
    return found;
}

}  // namespace

// Entries point at their Patient through patient/subject references (resource:N); with a
// single Patient, unreferenced entries belong to it.
std::vector<Person> people_of(JsonView bundle) {
    std::vector<Person> people;
    std::map<std::string, size_t, std::less<>> by_url;
    JsonView entries = bundle.member("entry");
    entries.each([&](JsonView e) {
        JsonView r = e.member("resource");
        if (r.member("resourceType").string() != "Patient") return;
        Person p;
        p.name = person_name(r);
        p.birth_date = r.string_member("birthDate").value_or("");
        if (auto url = e.member("fullUrl").string()) by_url[std::string(*url)] = people.size();
        people.push_back(std::move(p));
    });
    auto owner = [&](const std::string& ref) -> Person* {
        auto it = by_url.find(ref);
        if (it != by_url.end()) return &people[it->second];
        return people.size() == 1 ? &people[0] : nullptr;
    };
    entries.each([&](JsonView e) {
        JsonView r = e.member("resource");
        if (!r) return;
        std::string_view type = r.member("resourceType").string().value_or("");
        if (type == "Immunization") {
            Person* p = owner(reference_of(r, "patient"));
            if (!p) return;
            Immunization im;
            im.date = r.string_member("occurrenceDateTime").value_or(r.string_member("occurrenceString").value_or(""));
            if (JsonView vc = r.member("vaccineCode")) im.vaccine = first_coding(vc);
            im.vaccine_name = im.vaccine.display;
            if (im.vaccine.system == kCvxSystem) {
                if (const auto* entry = cvx::find(im.vaccine.code)) {
                    im.vaccine_name = entry->name;
                    im.manufacturer = entry->manufacturer;
                }
            }
            im.lot = r.string_member("lotNumber").value_or("");
            im.status = r.string_member("status").value_or("");
            im.performer = r.member("performer").first().member("actor").string_member("display").value_or("");
            p->immunizations.push_back(std::move(im));
        } else if (type == "Observation") {
            Person* p = owner(reference_of(r, "subject"));
            if (!p) return;
            LabResult lr;
            lr.date = r.string_member("effectiveDateTime").value_or("");
            if (JsonView code = r.member("code")) lr.test = first_coding(code);
            lr.value = observation_value(r);
            if (JsonView vcc = r.member("valueCodeableConcept")) {
                Coding v = first_coding(vcc);
                lr.value_system = v.system;
                lr.value_code = v.code;
            }
            lr.status = r.string_member("status").value_or("");
            lr.performer = r.member("performer").first().string_member("display").value_or("");
            p->results.push_back(std::move(lr));
        } else if (type != "Patient") {
            std::string ref = reference_of(r, "subject");
            if (ref.empty()) ref = reference_of(r, "patient");
            if (ref.empty()) return;  // Practitioner, Organization, Medication: not about a person
            Person* p = owner(ref);
            if (!p) return;
            OtherEntry oe;
            oe.resource_type = std::string(type);
            for (const char* f : {"onsetDateTime", "effectiveDateTime", "performedDateTime", "recordedDate", "date"})
                if (oe.date.empty()) oe.date = r.string_member(f).value_or("");
            if (JsonView period = r.member("effectivePeriod"); period && oe.date.empty())
                oe.date = period.string_member("start").value_or("");
            if (JsonView code = r.member("code")) oe.code = first_coding(code);
            else if (JsonView med = r.member("medicationCodeableConcept")) oe.code = first_coding(med);
            else if (auto target = medication_of(entries, reference_of(r, "medicationReference"))) oe.code = *target;
            if (oe.code.display.empty()) oe.code.display = r.string_member("title").value_or("");
            p->other.push_back(std::move(oe));
        }
    });
    return people;
}

Result<std::vector<Person>> summarize_bundle(std::string_view bundle_json) {
    detail::ParsedView parsed(bundle_json, detail::kMaxJsonDepth);
    if (parsed.error() || parsed.root().member("resourceType").string() != "Bundle")
        return make_error(ErrorCode::CARD_SCHEMA_INVALID, "not a FHIR Bundle");
    return people_of(parsed.root());
}

namespace {
// The code systems cards use, and the short label a reader knows them by.
struct SystemLabel {
    std::string_view system, label;
    bool prefix;  // matches every version under this URI
};
constexpr SystemLabel kSystemLabels[] = {
    {kCvxSystem, "CVX", false},
    {"http://snomed.info/sct", "SNOMED", false},
    {"http://loinc.org", "LOINC", false},
    {"http://id.who.int/icd/release/11", "ICD-11", true},
    {"http://hl7.org/fhir/sid/icd-10", "ICD-10", false},
    {"http://www.whocc.no/atc", "ATC", false},
};
}  // namespace

std::string_view system_label(std::string_view system) {
    for (const auto& s : kSystemLabels)
        if (s.prefix ? system.substr(0, s.system.size()) == s.system : system == s.system) return s.label;
    return {};
}

std::string code_text(const Coding& c) {
    if (auto label = system_label(c.system); !label.empty()) return std::string(label) + " " + c.code;
    if (c.system.empty()) return c.code.empty() ? "?" : c.code;
    return c.system + " " + c.code;
}

}  // namespace shcx::card
