#include "shcx/jose/jwk.h"

#include "shcx/base64url.h"
#include "shcx/detail/json.h"
#include "shcx/digest.h"
#include "shcx/jose/es256.h"
#include "shcx/jose/jwk_json.h"

namespace shcx::jose {

using detail::string_member;

Result<Jwk> jwk_from_json(const detail::Json& j) {
    if (!j.is_object()) return make_error(ErrorCode::KEY_INVALID, "JWK is not a JSON object");
    Jwk k;
    k.kty = string_member(j, "kty").value_or("");
    k.crv = string_member(j, "crv").value_or("");
    k.kid = string_member(j, "kid").value_or("");
    k.use = string_member(j, "use").value_or("");
    k.alg = string_member(j, "alg").value_or("");
    k.x = string_member(j, "x").value_or("");
    k.y = string_member(j, "y").value_or("");
    k.has_private = j.contains("d");
    if (j.contains("crlVersion")) {
        k.crl_version = detail::integer_member(j, "crlVersion");
        if (!k.crl_version) return make_error(ErrorCode::KEY_INVALID, "JWK crlVersion is not an integer");
    }
    if (const auto* x5c = detail::member(j, "x5c"); x5c && x5c->is_array())
        for (const auto& c : *x5c)
            if (c.is_string()) k.x5c.push_back(c.get<std::string>());
    return k;
}

Result<Jwk> parse_jwk(std::string_view json) {
    auto parsed = detail::parse_json_checked(json);
    if (!parsed.value) return make_error(ErrorCode::KEY_INVALID, "JWK is not valid JSON: " + parsed.error);
    return jwk_from_json(*parsed.value);
}

Result<std::vector<Jwk>> parse_jwks(std::string_view json) {
    auto parsed = detail::parse_json_checked(json);
    if (!parsed.value) return make_error(ErrorCode::KEY_INVALID, "JWKS is not valid JSON: " + parsed.error);
    const auto* keys = detail::member(*parsed.value, "keys");
    if (!keys || !keys->is_array()) return make_error(ErrorCode::KEY_INVALID, "JWKS has no \"keys\" array");
    std::vector<Jwk> out;
    for (const auto& k : *keys) {
        auto jwk = jwk_from_json(k);
        if (!jwk) return jwk.error();
        out.push_back(std::move(jwk.value()));
    }
    return out;
}

std::string ec_thumbprint(std::string_view crv, std::string_view x, std::string_view y) {
    // RFC 7638 §3.2: required members only, lexicographic order, no whitespace.
    std::string canonical = "{\"crv\":\"" + std::string(crv) + "\",\"kty\":\"EC\",\"x\":\"" + std::string(x) +
                            "\",\"y\":\"" + std::string(y) + "\"}";
    return base64url::encode(digest::sha256(canonical));
}

std::vector<Error> check_issuer_key(const Jwk& k) {
    std::vector<Error> errors;
    auto bad = [&](const std::string& msg) {
        errors.push_back(make_error(ErrorCode::KEY_INVALID, "key " + k.kid + ": " + msg));
    };
    if (k.kty != "EC") bad("kty is \"" + k.kty + "\", expected EC");
    if (k.crv != "P-256") bad("crv is \"" + k.crv + "\", expected P-256");
    if (k.use != "sig") bad("use is \"" + k.use + "\", expected sig");
    if (k.alg != "ES256") bad("alg is \"" + k.alg + "\", expected ES256");
    if (k.has_private) bad("a public issuer key must not contain the private member d");
    if (!PublicKey::from_xy(k.x, k.y)) bad("x/y are not a point on P-256");
    if (errors.empty() && ec_thumbprint(k.crv, k.x, k.y) != k.kid)
        errors.push_back(make_error(
            ErrorCode::KEY_KID_MISMATCH,
            "kid " + k.kid + " is not the RFC 7638 thumbprint of the key (" + ec_thumbprint(k.crv, k.x, k.y) + ")"));
    return errors;
}

}  // namespace shcx::jose
