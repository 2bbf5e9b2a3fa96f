#include "shcx/card.h"

#include <map>

#include "shcx/base64url.h"
#include "shcx/cvx.h"
#include "shcx/detail/json.h"
#include "shcx/timeutil.h"

namespace shcx::card {
namespace {

using detail::Json;
using detail::member;
using detail::string_member;

// A NumericDate above this is a millisecond timestamp (year 5138 in seconds).
constexpr double kMillisecondsThreshold = 1e11;

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
std::string snomed_result_name(const std::string& code) {
    static const std::map<std::string, std::string> names = {
        {"260385009", "Negative"}, {"10828004", "Positive"}, {"260415000", "Not detected"},
        {"260373001", "Detected"}, {"419984006", "Inconclusive"}};
    auto it = names.find(code);
    return it == names.end() ? "" : it->second;
}

std::string observation_value(const Json& obs) {
    if (const Json* cc = member(obs, "valueCodeableConcept")) {
        Coding c = first_coding(*cc);
        if (!c.display.empty()) return c.display;
        if (auto name = snomed_result_name(c.code); !name.empty()) return name;
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

// Builds the per-person view. Entries point at their Patient through patient/subject
// references (resource:N); with a single Patient, unreferenced entries belong to it.
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
            im.date = string_member(*r, "occurrenceDateTime").value_or(string_member(*r, "occurrenceString").value_or(""));
            if (const Json* vc = member(*r, "vaccineCode")) im.vaccine = first_coding(*vc);
            im.vaccine_name = im.vaccine.display;
            if (im.vaccine.system == "http://hl7.org/fhir/sid/cvx") {
                if (const auto* entry = cvx::find(im.vaccine.code)) {
                    im.vaccine_name = entry->name;
                    im.manufacturer = entry->manufacturer;
                }
            }
            im.lot = string_member(*r, "lotNumber").value_or("");
            im.status = string_member(*r, "status").value_or("");
            if (const Json* perf = first(member(*r, "performer")))
                if (const Json* actor = member(*perf, "actor")) im.performer = string_member(*actor, "display").value_or("");
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
            if (const Json* perf = first(member(*r, "performer"))) lr.performer = string_member(*perf, "display").value_or("");
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

std::optional<double> numeric_date(const Json& payload, const char* key, Card& card, bool required) {
    const Json* v = member(payload, key);
    if (!v) {
        if (required)
            card.problems.push_back(make_error(ErrorCode::CARD_SCHEMA_INVALID, std::string("payload has no ") + key));
        return std::nullopt;
    }
    if (!v->is_number()) {
        card.problems.push_back(
            make_error(ErrorCode::CARD_SCHEMA_INVALID, std::string(key) + " is not a NumericDate (number of seconds)"));
        return std::nullopt;
    }
    double d = v->get<double>();
    if (d > kMillisecondsThreshold)
        card.problems.push_back(make_error(ErrorCode::DATE_IN_MILLISECONDS,
                                           std::string(key) + " looks like milliseconds; NumericDate is in seconds"));
    return d;
}

}  // namespace

bool rid_is_valid(std::string_view rid) { return !rid.empty() && rid.size() <= 24 && base64url::is_alphabet(rid); }

bool issuer_url_is_valid(std::string_view iss) {
    return iss.size() > 8 && iss.substr(0, 8) == "https://" && iss.back() != '/' &&
           iss.find_first_of(" \t\r\n") == std::string_view::npos;
}

Result<Card> parse_payload(std::string_view payload_json) {
    auto parsed = detail::parse_json_checked(payload_json);
    if (!parsed.value) return make_error(ErrorCode::PAYLOAD_JSON_INVALID, "payload is not valid JSON: " + parsed.error);
    if (!parsed.value->is_object()) return make_error(ErrorCode::PAYLOAD_JSON_INVALID, "payload is not a JSON object");
    const Json& j = *parsed.value;
    Card card;
    card.payload_json = std::string(payload_json);
    card.iss = string_member(j, "iss").value_or("");
    if (!issuer_url_is_valid(card.iss))
        card.problems.push_back(make_error(ErrorCode::ISSUER_URL_INVALID,
                                           "iss \"" + card.iss + "\" must be an https:// URL without a trailing slash"));
    card.nbf = numeric_date(j, "nbf", card, true);
    card.exp = numeric_date(j, "exp", card, false);
    if (card.nbf && card.exp && *card.exp < *card.nbf)
        card.problems.push_back(make_error(ErrorCode::EXP_BEFORE_NBF,
                                           "exp (" + timeutil::format_utc(*card.exp) + ") is before nbf (" +
                                               timeutil::format_utc(*card.nbf) + "): the card is never valid"));
    const Json* vc = member(j, "vc");
    if (!vc || !vc->is_object()) {
        card.problems.push_back(make_error(ErrorCode::CARD_SCHEMA_INVALID, "payload has no vc object"));
        return card;
    }
    if (const Json* types = member(*vc, "type"); types && types->is_array()) {
        for (const auto& t : *types)
            if (t.is_string()) card.types.push_back(t.get<std::string>());
    }
    bool has_health_card = false;
    for (const auto& t : card.types) {
        if (t == kHealthCardType) has_health_card = true;
        if (t == "https://smarthealth.cards#immunization" || t == "https://smarthealth.cards#covid19" ||
            t == "https://smarthealth.cards#laboratory")
            card.warnings.push_back(make_error(ErrorCode::DEPRECATED_TYPE, "vc.type " + t + " is deprecated"));
    }
    if (!has_health_card)
        card.problems.push_back(make_error(ErrorCode::CARD_SCHEMA_INVALID,
                                           "vc.type does not contain " + std::string(kHealthCardType)));
    if (const Json* rid = member(*vc, "rid")) {
        card.rid = rid->is_string() ? rid->get<std::string>() : rid->dump();
        if (!rid->is_string() || !rid_is_valid(*card.rid))
            card.problems.push_back(make_error(ErrorCode::RID_INVALID,
                                               "vc.rid must be at most 24 base64url characters"));
    }
    const Json* subject = member(*vc, "credentialSubject");
    const Json* bundle = subject ? member(*subject, "fhirBundle") : nullptr;
    card.fhir_version = subject ? string_member(*subject, "fhirVersion").value_or("") : "";
    if (card.fhir_version.empty())
        card.problems.push_back(make_error(ErrorCode::CARD_SCHEMA_INVALID, "vc.credentialSubject.fhirVersion is missing"));
    if (!bundle || string_member(*bundle, "resourceType") != "Bundle") {
        card.problems.push_back(
            make_error(ErrorCode::CARD_SCHEMA_INVALID, "vc.credentialSubject.fhirBundle is not a FHIR Bundle"));
        return card;
    }
    card.people = people_of(*bundle);
    return card;
}

std::optional<std::string> fhir_bundle_json(std::string_view payload_json) {
    auto j = detail::parse_json(payload_json);
    if (!j) return std::nullopt;
    const Json* vc = member(*j, "vc");
    const Json* subject = vc ? member(*vc, "credentialSubject") : nullptr;
    const Json* bundle = subject ? member(*subject, "fhirBundle") : nullptr;
    if (!bundle || !bundle->is_object()) return std::nullopt;
    return bundle->dump(2) + "\n";
}

Result<std::vector<Person>> summarize_bundle(std::string_view bundle_json) {
    auto parsed = detail::parse_json(bundle_json);
    if (!parsed || string_member(*parsed, "resourceType") != "Bundle")
        return make_error(ErrorCode::CARD_SCHEMA_INVALID, "not a FHIR Bundle");
    return people_of(*parsed);
}

}  // namespace shcx::card
