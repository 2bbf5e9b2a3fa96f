#include "shcx/card/card.h"

#include "shcx/base64url.h"
#include "shcx/card/fhir_summary_json.h"
#include "shcx/detail/json.h"
#include "shcx/detail/json_view.h"
#include "shcx/timeutil.h"

namespace shcx::card {
namespace {

using detail::Json;
using detail::JsonView;

// A NumericDate above this is a millisecond timestamp (year 5138 in seconds).
constexpr double kMillisecondsThreshold = 1e11;

std::optional<double> numeric_date(JsonView payload, const char* key, Card& card, bool required) {
    JsonView v = payload.member(key);
    if (!v) {
        if (required)
            card.problems.push_back(make_error(ErrorCode::CARD_SCHEMA_INVALID, std::string("payload has no ") + key));
        return std::nullopt;
    }
    if (!v.is_number()) {
        card.problems.push_back(
            make_error(ErrorCode::CARD_SCHEMA_INVALID, std::string(key) + " is not a NumericDate (number of seconds)"));
        return std::nullopt;
    }
    double d = v.number();
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
    // Read from the parser's tape, no DOM: this runs once per card (docs/performance.md).
    detail::ParsedView parsed(payload_json, detail::kMaxJsonDepth);
    if (parsed.error())
        return make_error(ErrorCode::PAYLOAD_JSON_INVALID, "payload is not valid JSON: " + *parsed.error());
    JsonView j = parsed.root();
    if (!j.is_object()) return make_error(ErrorCode::PAYLOAD_JSON_INVALID, "payload is not a JSON object");
    Card card;
    card.payload_json = std::string(payload_json);
    card.iss = j.string_member("iss").value_or("");
    if (!issuer_url_is_valid(card.iss))
        card.problems.push_back(
            make_error(ErrorCode::ISSUER_URL_INVALID,
                       "iss \"" + card.iss + "\" must be an https:// URL without a trailing slash"));
    card.nbf = numeric_date(j, "nbf", card, true);
    card.exp = numeric_date(j, "exp", card, false);
    if (card.nbf && card.exp && *card.exp < *card.nbf)
        card.problems.push_back(
            make_error(ErrorCode::EXP_BEFORE_NBF, "exp (" + timeutil::format_utc(*card.exp) + ") is before nbf (" +
                                                      timeutil::format_utc(*card.nbf) + "): the card is never valid"));
    JsonView vc = j.member("vc");
    if (!vc.is_object()) {
        card.problems.push_back(make_error(ErrorCode::CARD_SCHEMA_INVALID, "payload has no vc object"));
        return card;
    }
    vc.member("type").each([&](JsonView t) {
        if (auto s = t.string()) card.types.emplace_back(*s);
    });
    bool has_health_card = false;
    for (const auto& t : card.types) {
        if (t == kHealthCardType) has_health_card = true;
        if (t == "https://smarthealth.cards#immunization" || t == "https://smarthealth.cards#covid19" ||
            t == "https://smarthealth.cards#laboratory")
            card.warnings.push_back(make_error(ErrorCode::DEPRECATED_TYPE, "vc.type " + t + " is deprecated"));
    }
    if (!has_health_card)
        card.problems.push_back(
            make_error(ErrorCode::CARD_SCHEMA_INVALID, "vc.type does not contain " + std::string(kHealthCardType)));
    if (JsonView rid = vc.member("rid")) {
        auto text = rid.string();
        card.rid = text ? std::string(*text) : rid.dump();
        if (!text || !rid_is_valid(*card.rid))
            card.problems.push_back(
                make_error(ErrorCode::RID_INVALID, "vc.rid must be at most 24 base64url characters"));
    }
    JsonView subject = vc.member("credentialSubject");
    JsonView bundle = subject.member("fhirBundle");
    card.fhir_version = subject.string_member("fhirVersion").value_or("");
    if (card.fhir_version.empty())
        card.problems.push_back(
            make_error(ErrorCode::CARD_SCHEMA_INVALID, "vc.credentialSubject.fhirVersion is missing"));
    if (bundle.member("resourceType").string() != "Bundle") {
        card.problems.push_back(
            make_error(ErrorCode::CARD_SCHEMA_INVALID, "vc.credentialSubject.fhirBundle is not a FHIR Bundle"));
        return card;
    }
    card.people = people_of(bundle);
    return card;
}

std::optional<std::string> fhir_bundle_json(std::string_view payload_json) {
    using detail::member;
    auto j = detail::parse_json(payload_json);
    if (!j) return std::nullopt;
    const Json* vc = member(*j, "vc");
    const Json* subject = vc ? member(*vc, "credentialSubject") : nullptr;
    const Json* bundle = subject ? member(*subject, "fhirBundle") : nullptr;
    if (!bundle || !bundle->is_object()) return std::nullopt;
    return bundle->dump(2) + "\n";
}

}  // namespace shcx::card
