#include "render.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "shcx/timeutil.h"

namespace shcx::render {
namespace {

std::string pad(int n) { return std::string(static_cast<size_t>(n), ' '); }

std::string kind_text(input::Kind kind) {
    switch (kind) {
        case input::Kind::Image: return "QR image";
        case input::Kind::QrText: return "shc:/ text";
        case input::Kind::Jws: return "JWS";
        case input::Kind::HealthCardFile: return ".smart-health-card file";
        case input::Kind::FhirParameters: return "FHIR Parameters";
    }
    return "input";
}

Json null_or_time(std::optional<double> t) { return t ? Json(timeutil::format_utc(*t)) : Json(nullptr); }

}  // namespace

std::string date_or(std::optional<double> t, const std::string& absent) {
    return t ? timeutil::format_utc(*t) : absent;
}

std::string origin_text(const input::FoundCard& found) {
    std::string s = "from ";
    for (size_t i = 0; i < found.origins.size(); ++i) s += (i ? ", " : "") + found.origins[i];
    s += " (" + kind_text(found.kind);
    if (found.chunks > 1) s += ", " + std::to_string(found.chunks) + " chunks";
    return s + ")";
}

std::string people_text(const std::vector<card::Person>& people, int indent) {
    std::ostringstream out;
    std::string p0 = pad(indent), p1 = pad(indent + 2), p2 = pad(indent + 4);
    if (people.empty()) out << p0 << "No Patient in the bundle.\n";
    for (size_t i = 0; i < people.size(); ++i) {
        const auto& p = people[i];
        out << p0 << "Person" << (people.size() > 1 ? " " + std::to_string(i + 1) : "") << ": "
            << (p.name.empty() ? "(no name)" : p.name) << ", born "
            << (p.birth_date.empty() ? "(unknown)" : p.birth_date) << "\n";
        if (!p.immunizations.empty()) out << p1 << "Immunizations (" << p.immunizations.size() << "):\n";
        for (size_t k = 0; k < p.immunizations.size(); ++k) {
            const auto& im = p.immunizations[k];
            out << p2 << k + 1 << ". " << (im.date.empty() ? "(no date)" : im.date) << "  "
                << card::code_text(im.vaccine);
            if (!im.vaccine_name.empty()) out << " " << im.vaccine_name;
            if (!im.lot.empty()) out << ", lot " << im.lot;
            if (!im.performer.empty()) out << ", " << im.performer;
            if (!im.status.empty() && im.status != "completed") out << " [" << im.status << "]";
            out << "\n";
        }
        if (!p.results.empty()) out << p1 << "Lab results (" << p.results.size() << "):\n";
        for (size_t k = 0; k < p.results.size(); ++k) {
            const auto& r = p.results[k];
            out << p2 << k + 1 << ". " << (r.date.empty() ? "(no date)" : r.date) << "  "
                << (r.test.display.empty() ? card::code_text(r.test) : r.test.display + " (" + r.test.code + ")")
                << ": " << (r.value.empty() ? "(no value)" : r.value);
            if (!r.performer.empty()) out << ", " << r.performer;
            if (!r.status.empty() && r.status != "final") out << " [" << r.status << "]";
            out << "\n";
        }
        if (!p.other.empty()) out << p1 << "Other entries (" << p.other.size() << "):\n";
        for (size_t k = 0; k < p.other.size(); ++k) {
            const auto& o = p.other[k];
            out << p2 << k + 1 << ". " << o.resource_type;
            if (!o.date.empty()) out << " " << o.date;
            if (!o.code.code.empty()) out << "  " << card::code_text(o.code);
            if (!o.code.display.empty()) out << (o.code.code.empty() ? "  " : " ") << o.code.display;
            out << "\n";
        }
    }
    return out.str();
}

std::string card_text(const decode::DecodedCard& d, int indent) {
    std::ostringstream out;
    std::string p = pad(indent);
    const auto& c = d.card;
    out << p << "Issuer:   " << (c.iss.empty() ? "(none)" : c.iss) << "\n";
    out << p << "Key ID:   " << (d.header.kid.empty() ? "(none)" : d.header.kid) << "\n";
    out << p << "Issued:   " << date_or(c.nbf, "(no nbf)") << "\n";
    out << p << "Expires:  " << date_or(c.exp, "never") << "\n";
    out << p << "Types:    ";
    for (size_t i = 0; i < c.types.size(); ++i) out << (i ? ", " : "") << c.types[i];
    out << "\n";
    if (c.rid) out << p << "RID:      " << *c.rid << "\n";
    out << people_text(c.people, indent);
    return out.str();
}

Json people_json(const std::vector<card::Person>& people) {
    Json arr = Json::array();
    for (const auto& p : people) {
        Json person = {{"name", p.name}, {"birthDate", p.birth_date}};
        Json ims = Json::array();
        for (const auto& im : p.immunizations)
            ims.push_back({{"date", im.date},
                           {"system", im.vaccine.system},
                           {"code", im.vaccine.code},
                           {"vaccine", im.vaccine_name},
                           {"manufacturer", im.manufacturer},
                           {"lotNumber", im.lot},
                           {"performer", im.performer},
                           {"status", im.status}});
        Json res = Json::array();
        for (const auto& r : p.results)
            res.push_back({{"date", r.date},
                           {"system", r.test.system},
                           {"code", r.test.code},
                           {"test", r.test.display},
                           {"value", r.value},
                           {"performer", r.performer},
                           {"status", r.status}});
        Json other = Json::array();
        for (const auto& o : p.other)
            other.push_back({{"resourceType", o.resource_type},
                             {"date", o.date},
                             {"system", o.code.system},
                             {"code", o.code.code},
                             {"display", o.code.display}});
        person["immunizations"] = std::move(ims);
        person["results"] = std::move(res);
        person["other"] = std::move(other);
        arr.push_back(std::move(person));
    }
    return arr;
}

Json error_json(const Error& e) { return {{"code", std::string(code_name(e.code))}, {"message", e.message}}; }

Json errors_json(const std::vector<Error>& errors) {
    Json arr = Json::array();
    for (const auto& e : errors) arr.push_back(error_json(e));
    return arr;
}

Json input_errors_json(const std::vector<input::InputError>& errors) {
    Json arr = Json::array();
    for (const auto& e : errors) {
        Json j = {{"input", e.input}};
        j.update(error_json(e.error));
        arr.push_back(std::move(j));
    }
    return arr;
}

Json card_fields_json(const decode::DecodedCard& d) {
    const auto& c = d.card;
    Json j;
    j["iss"] = c.iss;
    j["kid"] = d.header.kid;
    j["nbf"] = null_or_time(c.nbf);
    j["exp"] = null_or_time(c.exp);
    j["rid"] = c.rid ? Json(*c.rid) : Json(nullptr);
    j["types"] = c.types;
    j["people"] = people_json(c.people);
    return j;
}

Json origins_json(const input::FoundCard& found) { return found.origins; }

Json card_result_json(const std::vector<std::string>& origins, input::Kind kind, int chunks,
                      const decode::DecodedCard* card) {
    Json j;
    j["input"] = origins.empty() ? "" : origins.front();
    j["inputs"] = origins;
    j["form"] = chunks ? Json(std::string(input::kind_name(kind))) : Json(nullptr);
    j["chunks"] = chunks;
    if (card) {
        j["header"] = {{"alg", card->header.alg}, {"zip", card->header.zip}, {"kid", card->header.kid}};
        j["issuer"] = {{"iss", card->card.iss}};
        auto fields = card_fields_json(*card);
        j["card"] = {{"kid", fields["kid"]},
                     {"nbf", fields["nbf"]},
                     {"exp", fields["exp"]},
                     {"rid", fields["rid"]},
                     {"types", fields["types"]}};
        j["people"] = std::move(fields["people"]);
        // Already parsed once as the card (so valid and not too deep); no exceptions.
        j["payload"] = Json::parse(card->card.payload_json, nullptr, /*allow_exceptions=*/false);
    } else {
        j["header"] = nullptr;
        j["issuer"] = {{"iss", ""}};
        j["card"] = nullptr;
        j["people"] = Json::array();
        j["payload"] = nullptr;
    }
    return j;
}

}  // namespace shcx::render
