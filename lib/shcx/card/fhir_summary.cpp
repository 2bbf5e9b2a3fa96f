#include "shcx/card/fhir_summary.h"

#include <map>

#include "shcx/card/cvx.h"
#include "shcx/card/fhir_summary_json.h"

namespace shcx::card {
namespace {

using detail::Json;
using detail::member;
using detail::string_member;

const Json* first(const Json* arr) {
    if (!arr || !arr->is_array() || arr->empty()) return nullptr;
    return &(*arr)[0];
}

Coding first_coding(const Json& cc) {
    Coding c;
    if (const Json* coding = first(member(cc, "coding"))) {
        c.system = string_member(*coding, "system").value_or("");
        c.code = string_member(*coding, "code").value_or("");
        c.display = string_member(*coding, "display").value_or("");
    }
    if (c.display.empty()) c.display = string_member(cc, "text").value_or("");
    return c;
}

std::string person_name(const Json& patient) {
    const Json* name = first(member(patient, "name"));
    if (!name) return "";
    if (auto text = string_member(*name, "text")) return *text;
    std::string out;
    if (const Json* given = member(*name, "given"); given && given->is_array())
        for (const auto& g : *given)
            if (g.is_string()) out += (out.empty() ? "" : " ") + g.get<std::string>();
    if (auto family = string_member(*name, "family")) out += (out.empty() ? "" : " ") + *family;
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

std::string observation_value(const Json& obs) {
    if (const Json* cc = member(obs, "valueCodeableConcept")) {
        Coding c = first_coding(*cc);
        if (!c.display.empty()) return c.display;
        if (auto name = snomed_result_name(c.code); !name.empty()) return std::string(name);
        return c.code;
    }
    if (const Json* q = member(obs, "valueQuantity")) {
        std::string v;
        if (const Json* n = member(*q, "value"); n && n->is_number()) v = n->dump();
        if (auto unit = string_member(*q, "unit")) v += " " + *unit;
        return v;
    }
    return string_member(obs, "valueString").value_or("");
}

std::string reference_of(const Json& resource, const char* field) {
    if (const Json* ref = member(resource, field)) return string_member(*ref, "reference").value_or("");
    return "";
}

// The code of a Medication entry referenced by a MedicationStatement, when the bundle has it.
std::optional<Coding> medication_of(const Json& entries, const std::string& ref) {
    if (ref.empty()) return std::nullopt;
    for (const auto& e : entries)
        if (string_member(e, "fullUrl") == ref)
            if (const Json* r = member(e, "resource"))
                if (const Json* code = member(*r, "code")) return first_coding(*code);
    return std::nullopt;
}

}  // namespace

// Entries point at their Patient through patient/subject references (resource:N); with a
// single Patient, unreferenced entries belong to it.
std::vector<Person> people_of(const Json& bundle) {
    std::vector<Person> people;
    std::map<std::string, size_t> by_url;
    const Json* entries = member(bundle, "entry");
    if (!entries || !entries->is_array()) return people;
    for (const auto& e : *entries) {
        const Json* r = member(e, "resource");
        if (!r || string_member(*r, "resourceType") != "Patient") continue;
        Person p;
        p.name = person_name(*r);
        p.birth_date = string_member(*r, "birthDate").value_or("");
        if (auto url = string_member(e, "fullUrl")) by_url[*url] = people.size();
        people.push_back(std::move(p));
    }
    auto owner = [&](const std::string& ref) -> Person* {
        auto it = by_url.find(ref);
        if (it != by_url.end()) return &people[it->second];
        return people.size() == 1 ? &people[0] : nullptr;
    };
    for (const auto& e : *entries) {
        const Json* r = member(e, "resource");
        if (!r) continue;
        auto type = string_member(*r, "resourceType").value_or("");
        if (type == "Immunization") {
            Person* p = owner(reference_of(*r, "patient"));
            if (!p) continue;
            Immunization im;
            im.date =
                string_member(*r, "occurrenceDateTime").value_or(string_member(*r, "occurrenceString").value_or(""));
            if (const Json* vc = member(*r, "vaccineCode")) im.vaccine = first_coding(*vc);
            im.vaccine_name = im.vaccine.display;
            if (im.vaccine.system == kCvxSystem) {
                if (const auto* entry = cvx::find(im.vaccine.code)) {
                    im.vaccine_name = entry->name;
                    im.manufacturer = entry->manufacturer;
                }
            }
            im.lot = string_member(*r, "lotNumber").value_or("");
            im.status = string_member(*r, "status").value_or("");
            if (const Json* perf = first(member(*r, "performer")))
                if (const Json* actor = member(*perf, "actor"))
                    im.performer = string_member(*actor, "display").value_or("");
            p->immunizations.push_back(std::move(im));
        } else if (type == "Observation") {
            Person* p = owner(reference_of(*r, "subject"));
            if (!p) continue;
            LabResult lr;
            lr.date = string_member(*r, "effectiveDateTime").value_or("");
            if (const Json* code = member(*r, "code")) lr.test = first_coding(*code);
            lr.value = observation_value(*r);
            if (const Json* vcc = member(*r, "valueCodeableConcept")) {
                Coding v = first_coding(*vcc);
                lr.value_system = v.system;
                lr.value_code = v.code;
            }
            lr.status = string_member(*r, "status").value_or("");
            if (const Json* perf = first(member(*r, "performer")))
                lr.performer = string_member(*perf, "display").value_or("");
            p->results.push_back(std::move(lr));
        } else if (type != "Patient") {
            std::string ref = reference_of(*r, "subject");
            if (ref.empty()) ref = reference_of(*r, "patient");
            if (ref.empty()) continue;  // Practitioner, Organization, Medication: not about a person
            Person* p = owner(ref);
            if (!p) continue;
            OtherEntry oe;
            oe.resource_type = type;
            for (const char* f : {"onsetDateTime", "effectiveDateTime", "performedDateTime", "recordedDate", "date"})
                if (oe.date.empty()) oe.date = string_member(*r, f).value_or("");
            if (const Json* period = member(*r, "effectivePeriod"); period && oe.date.empty())
                oe.date = string_member(*period, "start").value_or("");
            if (const Json* code = member(*r, "code")) oe.code = first_coding(*code);
            else if (const Json* med = member(*r, "medicationCodeableConcept")) oe.code = first_coding(*med);
            else if (auto target = medication_of(*entries, reference_of(*r, "medicationReference"))) oe.code = *target;
            if (oe.code.display.empty()) oe.code.display = string_member(*r, "title").value_or("");
            p->other.push_back(std::move(oe));
        }
    }
    return people;
}

Result<std::vector<Person>> summarize_bundle(std::string_view bundle_json) {
    auto parsed = detail::parse_json(bundle_json);
    if (!parsed || string_member(*parsed, "resourceType") != "Bundle")
        return make_error(ErrorCode::CARD_SCHEMA_INVALID, "not a FHIR Bundle");
    return people_of(*parsed);
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
