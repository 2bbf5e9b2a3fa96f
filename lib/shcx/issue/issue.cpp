#include "shcx/issue/issue.h"

#include <cmath>

#include "shcx/card/card.h"
#include "shcx/card/inflate.h"
#include "shcx/detail/json.h"
#include "shcx/jose/jws.h"
#include "shcx/read/numeric.h"

namespace shcx::issue {
namespace {

using detail::Json;

// NumericDate: whole seconds as an integer (as issuers write them), else the fraction.
Json numeric_date(double t) {
    if (t == std::floor(t) && std::fabs(t) < 9e15) return static_cast<long long>(t);
    return t;
}

}  // namespace

Result<std::string> build_payload(std::string_view bundle_json, const Claims& claims) {
    if (!card::issuer_url_is_valid(claims.iss))
        return make_error(ErrorCode::ISSUER_URL_INVALID,
                          "iss must be an https:// URL without a trailing slash, got \"" + claims.iss + "\"");
    if (!claims.rid.empty() && !card::rid_is_valid(claims.rid))
        return make_error(ErrorCode::RID_INVALID, "rid must be 1 to 24 base64url characters");
    auto bundle = detail::parse_json(bundle_json);
    if (!bundle || detail::string_member(*bundle, "resourceType") != "Bundle")
        return make_error(ErrorCode::CARD_SCHEMA_INVALID, "not a FHIR Bundle (JSON with \"resourceType\": \"Bundle\")");
    Json payload;
    payload["iss"] = claims.iss;
    payload["nbf"] = numeric_date(claims.nbf);
    if (claims.exp) payload["exp"] = numeric_date(*claims.exp);
    Json types = Json::array({std::string(card::kHealthCardType)});
    for (const auto& t : claims.extra_types) types.push_back(t);
    payload["vc"]["type"] = std::move(types);
    payload["vc"]["credentialSubject"] = {{"fhirVersion", claims.fhir_version}, {"fhirBundle", std::move(*bundle)}};
    if (!claims.rid.empty()) payload["vc"]["rid"] = claims.rid;
    // The bundle was parsed from valid UTF-8 and every other member is ours: dump() cannot
    // meet invalid UTF-8, but is told to replace it rather than throw all the same.
    return payload.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<IssuedCard> sign_payload(std::string_view payload_json, const jose::PrivateKey& key) {
    auto deflated = inflate::deflate_raw(payload_json);
    if (!deflated) return deflated.error();
    auto jws = jose::sign_compact(key, jose::shc_header(key.kid()), deflated.value());
    if (!jws) return jws.error();
    IssuedCard card;
    card.jws = std::move(jws.value());
    card.qr_texts = numeric::qr_texts_for_jws(card.jws);
    return card;
}

Result<IssuedCard> issue(std::string_view bundle_json, const Claims& claims, const jose::PrivateKey& key) {
    auto payload = build_payload(bundle_json, claims);
    if (!payload) return payload.error();
    return sign_payload(payload.value(), key);
}

std::string health_card_file(std::string_view jws) {
    // A JWS is base64url and dots: nothing in it needs JSON escaping.
    return "{\"verifiableCredential\":[\"" + std::string(jws) + "\"]}\n";
}

Result<std::vector<qr_write::Symbol>> qr_symbols(const std::vector<std::string>& qr_texts) {
    std::vector<qr_write::Symbol> symbols;
    for (const auto& t : qr_texts) {
        auto s = qr_write::encode(t);
        if (!s) return s.error();
        symbols.push_back(std::move(s.value()));
    }
    return symbols;
}

}  // namespace shcx::issue
