#include "shcx/jose/jws.h"

#include <optional>

#include "shcx/base64url.h"
#include "shcx/detail/json.h"

namespace shcx::jose {

using detail::string_member;

std::string CompactJws::signing_input() const {
    std::string s;
    s.reserve(header_b64.size() + 1 + payload_b64.size());
    s.append(header_b64).append(".").append(payload_b64);
    return s;
}

Result<CompactJws> parse_compact(std::string_view jws) {
    if (jws.size() > kMaxJwsLength)
        return make_error(ErrorCode::JWS_TOO_LARGE, "JWS of " + std::to_string(jws.size()) +
                                                        " characters; the limit is " + std::to_string(kMaxJwsLength));
    auto d1 = jws.find('.');
    auto d2 = d1 == std::string_view::npos ? d1 : jws.find('.', d1 + 1);
    if (d2 == std::string_view::npos || jws.find('.', d2 + 1) != std::string_view::npos)
        return make_error(ErrorCode::JWS_MALFORMED, "a compact JWS has exactly three parts separated by '.'");
    CompactJws out;
    out.header_b64 = jws.substr(0, d1);
    out.payload_b64 = jws.substr(d1 + 1, d2 - d1 - 1);
    out.signature_b64 = jws.substr(d2 + 1);
    const char* names[] = {"header", "payload", "signature"};
    std::string_view parts[] = {out.header_b64, out.payload_b64, out.signature_b64};
    std::string* dest[] = {&out.header_json, &out.payload, &out.signature};
    for (int i = 0; i < 3; ++i) {
        if (parts[i].empty()) return make_error(ErrorCode::JWS_MALFORMED, std::string("JWS ") + names[i] + " is empty");
        auto raw = base64url::decode(parts[i]);
        if (!raw)
            return make_error(ErrorCode::JWS_MALFORMED, std::string("JWS ") + names[i] + " is not unpadded base64url");
        *dest[i] = std::move(*raw);
    }
    return out;
}

Result<Header> check_shc_header(std::string_view header_json) {
    auto parsed = detail::parse_json_checked(header_json);
    if (!parsed.value)
        return make_error(ErrorCode::JWS_HEADER_INVALID, "JWS header is not valid JSON: " + parsed.error);
    const detail::Json& j = *parsed.value;
    if (!j.is_object()) return make_error(ErrorCode::JWS_HEADER_INVALID, "JWS header is not a JSON object");
    Header h;
    h.alg = string_member(j, "alg").value_or("");
    h.zip = string_member(j, "zip").value_or("");
    h.kid = string_member(j, "kid").value_or("");
    // Name what is wrong: an absent member is not the same mistake as a wrong value.
    auto problem = [&](const char* name, const std::string& value, const char* want) -> std::optional<Error> {
        if (value == want) return std::nullopt;
        std::string what = !j.contains(name)                       ? std::string("has no ") + name
                           : !detail::member(j, name)->is_string() ? std::string(name) + " is not a string"
                                                                   : std::string(name) + " is \"" + value + "\"";
        return make_error(ErrorCode::JWS_HEADER_INVALID, "JWS header " + what + "; it must be " + want);
    };
    if (auto e = problem("alg", h.alg, "ES256")) return *e;
    if (auto e = problem("zip", h.zip, "DEF")) return *e;
    if (h.kid.empty())
        return make_error(ErrorCode::JWS_HEADER_INVALID,
                          j.contains("kid") ? "JWS header kid is empty or not a string" : "JWS header has no kid");
    for (const char* banned : {"crit", "jwk", "jku", "x5u", "x5c"})
        if (j.contains(banned))
            return make_error(ErrorCode::JWS_HEADER_INVALID,
                              std::string("JWS header carries \"") + banned + "\", which is not allowed");
    return h;
}

std::string shc_header(std::string_view kid) {
    // Built as text: a kid is a base64url thumbprint, which needs no JSON escaping.
    return "{\"zip\":\"DEF\",\"alg\":\"ES256\",\"kid\":\"" + std::string(kid) + "\"}";
}

Result<std::string> sign_compact(const PrivateKey& key, std::string_view header_json, std::string_view payload) {
    std::string input = base64url::encode(header_json) + "." + base64url::encode(payload);
    auto sig = key.sign_es256(input);
    if (!sig) return sig.error();
    return input + "." + base64url::encode(sig.value());
}

}  // namespace shcx::jose
