#include "shcx/jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "shcx/base64url.h"
#include "shcx/detail/json.h"
#include "shcx/detail/jwk.h"

namespace shcx::jose {
namespace {

using detail::Json;
using detail::string_member;

struct BnFree {
    void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

std::shared_ptr<evp_pkey_st> wrap(EVP_PKEY* k) { return {k, EVP_PKEY_free}; }

// Builds an EC P-256 EVP_PKEY from raw coordinates (and optionally the private scalar)
// and runs OpenSSL's full public-key check, which rejects points off the curve.
EVP_PKEY* pkey_from_raw(const std::string& x, const std::string& y, const std::string* d) {
    std::string point = "\x04" + x + y;
    std::unique_ptr<OSSL_PARAM_BLD, void (*)(OSSL_PARAM_BLD*)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    Bn priv;
    if (!bld) return nullptr;
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    if (d) {
        priv.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(d->data()), static_cast<int>(d->size()), nullptr));
        if (!priv) return nullptr;
        BN_set_flags(priv.get(), BN_FLG_CONSTTIME);
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
    }
    std::unique_ptr<OSSL_PARAM, void (*)(OSSL_PARAM*)> params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr),
                                                               EVP_PKEY_CTX_free);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
    EVP_PKEY* pkey = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
        return nullptr;
    std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr),
                                                                 EVP_PKEY_CTX_free);
    bool ok = check && EVP_PKEY_public_check(check.get()) == 1 && (!d || EVP_PKEY_check(check.get()) == 1);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return nullptr;
    }
    return pkey;
}

std::string bn_param(const EVP_PKEY* key, const char* name) {
    BIGNUM* raw = nullptr;
    if (!EVP_PKEY_get_bn_param(key, name, &raw)) throw std::runtime_error("cannot read EC key parameter");
    Bn bn(raw);
    std::string out(32, '\0');
    BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), 32);
    return out;
}

std::optional<std::string> decode_coordinate(std::string_view b64) {
    auto raw = base64url::decode(b64);
    if (!raw || raw->size() != 32) return std::nullopt;
    return raw;
}

}  // namespace

std::string CompactJws::signing_input() const {
    std::string s;
    s.reserve(header_b64.size() + 1 + payload_b64.size());
    s.append(header_b64).append(".").append(payload_b64);
    return s;
}

Result<CompactJws> parse_compact(std::string_view jws) {
    if (jws.size() > kMaxJwsLength)
        return make_error(ErrorCode::JWS_TOO_LARGE, "JWS of " + std::to_string(jws.size()) + " characters; the limit is " +
                                                        std::to_string(kMaxJwsLength));
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
            return make_error(ErrorCode::JWS_MALFORMED,
                              std::string("JWS ") + names[i] + " is not unpadded base64url");
        *dest[i] = std::move(*raw);
    }
    return out;
}

Result<Header> check_shc_header(std::string_view header_json) {
    auto parsed = detail::parse_json_checked(header_json);
    if (!parsed.value) return make_error(ErrorCode::JWS_HEADER_INVALID, "JWS header is not valid JSON: " + parsed.error);
    const Json& j = *parsed.value;
    if (!j.is_object()) return make_error(ErrorCode::JWS_HEADER_INVALID, "JWS header is not a JSON object");
    Header h;
    h.alg = string_member(j, "alg").value_or("");
    h.zip = string_member(j, "zip").value_or("");
    h.kid = string_member(j, "kid").value_or("");
    // Name what is wrong: an absent member is not the same mistake as a wrong value.
    auto problem = [&](const char* name, const std::string& value, const char* want) -> std::optional<Error> {
        if (value == want) return std::nullopt;
        std::string what = !j.contains(name)                ? std::string("has no ") + name
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

}  // namespace shcx::jose

namespace shcx::detail {
Result<jose::Jwk> jwk_from_json(const Json& j) {
    using jose::Jwk;
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
}  // namespace shcx::detail

namespace shcx::jose {
using detail::jwk_from_json;

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
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
    return base64url::encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

std::vector<Error> check_issuer_key(const Jwk& k) {
    std::vector<Error> errors;
    auto bad = [&](std::string msg) { errors.push_back(make_error(ErrorCode::KEY_INVALID, "key " + k.kid + ": " + msg)); };
    if (k.kty != "EC") bad("kty is \"" + k.kty + "\", expected EC");
    if (k.crv != "P-256") bad("crv is \"" + k.crv + "\", expected P-256");
    if (k.use != "sig") bad("use is \"" + k.use + "\", expected sig");
    if (k.alg != "ES256") bad("alg is \"" + k.alg + "\", expected ES256");
    if (k.has_private) bad("a public issuer key must not contain the private member d");
    if (!PublicKey::from_xy(k.x, k.y)) bad("x/y are not a point on P-256");
    if (errors.empty() && ec_thumbprint(k.crv, k.x, k.y) != k.kid)
        errors.push_back(make_error(ErrorCode::KEY_KID_MISMATCH,
                                    "kid " + k.kid + " is not the RFC 7638 thumbprint of the key (" +
                                        ec_thumbprint(k.crv, k.x, k.y) + ")"));
    return errors;
}

Result<PublicKey> PublicKey::from_xy(std::string_view x_b64, std::string_view y_b64) {
    auto x = decode_coordinate(x_b64), y = decode_coordinate(y_b64);
    if (!x || !y) return make_error(ErrorCode::KEY_INVALID, "EC coordinates must be 32-byte base64url values");
    EVP_PKEY* raw = pkey_from_raw(*x, *y, nullptr);
    if (!raw) return make_error(ErrorCode::KEY_INVALID, "EC point is not on the P-256 curve");
    PublicKey k;
    k.m_key = wrap(raw);
    return k;
}

std::optional<Error> PublicKey::verify_es256(std::string_view signing_input, std::string_view sig) const {
    if (sig.size() != 64) {
        // A DER SEQUENCE starts with 0x30 and its length byte: name the usual mistake.
        bool looks_der = sig.size() >= 8 && static_cast<unsigned char>(sig[0]) == 0x30 &&
                         static_cast<size_t>(static_cast<unsigned char>(sig[1])) + 2 == sig.size();
        return make_error(ErrorCode::SIGNATURE_FORMAT_INVALID,
                          looks_der ? "signature is DER-encoded; JWS ES256 signatures are 64 raw bytes r||s"
                                    : "ES256 signature must be 64 bytes r||s, got " + std::to_string(sig.size()));
    }
    std::unique_ptr<ECDSA_SIG, void (*)(ECDSA_SIG*)> esig(ECDSA_SIG_new(), ECDSA_SIG_free);
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
    if (!esig || !r || !s || !ECDSA_SIG_set0(esig.get(), r, s)) {
        BN_free(r);
        BN_free(s);
        throw std::runtime_error("out of memory building ECDSA signature");
    }
    unsigned char* der = nullptr;
    int der_len = i2d_ECDSA_SIG(esig.get(), &der);
    if (der_len <= 0) throw std::runtime_error("cannot DER-encode ECDSA signature");
    std::unique_ptr<unsigned char, void (*)(void*)> der_guard(der, [](void* p) { OPENSSL_free(p); });
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    int rc = 0;
    if (md && EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, m_key.get(), nullptr) == 1)
        rc = EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len),
                              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
    if (rc == 1) return std::nullopt;
    return make_error(ErrorCode::JWS_SIGNATURE_INVALID, "ES256 signature does not verify with the issuer key");
}

Result<PrivateKey> PrivateKey::generate() {
    EVP_PKEY* raw = EVP_EC_gen("P-256");
    if (!raw) return make_error(ErrorCode::INTERNAL, "OpenSSL could not generate a P-256 key");
    PrivateKey k;
    k.m_key = wrap(raw);
    k.m_x = base64url::encode(bn_param(raw, OSSL_PKEY_PARAM_EC_PUB_X));
    k.m_y = base64url::encode(bn_param(raw, OSSL_PKEY_PARAM_EC_PUB_Y));
    return k;
}

Result<PrivateKey> PrivateKey::from_jwk_json(std::string_view json) {
    auto j = detail::parse_json(json);
    if (!j || !j->is_object()) return make_error(ErrorCode::KEY_INVALID, "private key file is not a JSON object");
    if (string_member(*j, "kty") != "EC" || string_member(*j, "crv") != "P-256")
        return make_error(ErrorCode::KEY_INVALID, "private key must be an EC P-256 JWK");
    auto x = decode_coordinate(string_member(*j, "x").value_or(""));
    auto y = decode_coordinate(string_member(*j, "y").value_or(""));
    SecretString d_b64(string_member(*j, "d").value_or(""));
    if (j->contains("d")) secure_wipe((*j)["d"].get_ref<std::string&>());
    auto d = base64url::decode(d_b64.str());
    SecretString d_raw(d.value_or(""));
    if (d) secure_wipe(*d);
    if (!x || !y) return make_error(ErrorCode::KEY_INVALID, "private key x/y must be 32-byte base64url values");
    if (d_raw.str().size() != 32) return make_error(ErrorCode::KEY_INVALID, "private key has no valid \"d\" member");
    EVP_PKEY* raw = pkey_from_raw(*x, *y, &d_raw.str());
    if (!raw) return make_error(ErrorCode::KEY_INVALID, "private key d does not match x/y, or x/y are not on P-256");
    PrivateKey k;
    k.m_key = wrap(raw);
    k.m_x = base64url::encode(*x);
    k.m_y = base64url::encode(*y);
    return k;
}

std::string PrivateKey::sign_es256(std::string_view signing_input) const {
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t der_len = 0;
    if (!md || EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, m_key.get(), nullptr) != 1 ||
        EVP_DigestSign(md.get(), nullptr, &der_len, reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1)
        throw std::runtime_error("OpenSSL ES256 signing failed");
    std::string der(der_len, '\0');
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
        throw std::runtime_error("OpenSSL ES256 signing failed");
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, void (*)(ECDSA_SIG*)> esig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)),
                                                         ECDSA_SIG_free);
    if (!esig) throw std::runtime_error("OpenSSL produced an unreadable ECDSA signature");
    std::string out(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(esig.get()), reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(esig.get()), reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
    return out;
}

SecretString PrivateKey::to_jwk_json(bool with_private) const {
    // Member order follows common JWK practice; kid is the RFC 7638 thumbprint.
    std::string s = "{\"kty\":\"EC\",\"kid\":\"" + kid() + "\",\"use\":\"sig\",\"alg\":\"ES256\",\"crv\":\"P-256\",\"x\":\"" +
                    m_x + "\",\"y\":\"" + m_y + "\"";
    if (with_private) {
        SecretString d(bn_param(m_key.get(), OSSL_PKEY_PARAM_PRIV_KEY));
        SecretString d_b64(base64url::encode(d.str()));
        s += ",\"d\":\"" + d_b64.str() + "\"";
    }
    s += "}";
    return SecretString(std::move(s));
}

std::string sign_compact(const PrivateKey& key, std::string_view header_json, std::string_view payload) {
    std::string input = base64url::encode(header_json) + "." + base64url::encode(payload);
    std::string sig = key.sign_es256(input);
    return input + "." + base64url::encode(sig);
}

}  // namespace shcx::jose
