// Compact JWS (RFC 7515) parsing, ES256 signing and verification through OpenSSL EVP,
// EC P-256 JWKs and RFC 7638 key thumbprints. No JSON library in this header.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/secure.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace shcx::jose {

struct CompactJws {
    std::string_view header_b64, payload_b64, signature_b64;  // views into the input
    std::string header_json;
    std::string payload;    // still compressed for SMART Health Cards
    std::string signature;  // raw bytes, 64 for ES256 (r||s)
    std::string signing_input() const;  // "header.payload" as signed
};

// Longest JWS accepted: a payload inflating to at most 1 MiB compresses to about that
// much, which base64url makes 1.4 MiB.
inline constexpr size_t kMaxJwsLength = 2u << 20;

// JWS_TOO_LARGE past kMaxJwsLength; JWS_MALFORMED unless there are exactly three
// non-empty base64url parts without padding.
Result<CompactJws> parse_compact(std::string_view jws);

struct Header {
    std::string alg, zip, kid;
};
// Cards-specification "JWS header": alg ES256, zip DEF, kid present; rejects crit,
// and key material carried in the header (jwk, jku, x5u, x5c). JWS_HEADER_INVALID.
Result<Header> check_shc_header(std::string_view header_json);

struct Jwk {
    std::string kty, crv, kid, use, alg, x, y;
    bool has_private = false;          // a "d" member is present
    std::optional<long> crl_version;   // crlVersion (number or numeric string)
    std::vector<std::string> x5c;
};

Result<Jwk> parse_jwk(std::string_view json);
// {"keys":[...]}: every entry, including repeated kids (one per certificate is legal).
Result<std::vector<Jwk>> parse_jwks(std::string_view json);

// RFC 7638 thumbprint of an EC key: base64url(SHA-256('{"crv":..,"kty":"EC","x":..,"y":..}')).
std::string ec_thumbprint(std::string_view crv, std::string_view x, std::string_view y);

// docs/verification.md D: EC P-256, use sig, alg ES256, on-curve x/y, no d (KEY_INVALID);
// kid equals the RFC 7638 thumbprint (KEY_KID_MISMATCH). Empty when the key is fine.
std::vector<Error> check_issuer_key(const Jwk& jwk);

class PublicKey {
public:
    // KEY_INVALID unless x/y are 32-byte coordinates of a point on P-256.
    static Result<PublicKey> from_xy(std::string_view x_b64, std::string_view y_b64);
    static Result<PublicKey> from_jwk(const Jwk& jwk) { return from_xy(jwk.x, jwk.y); }
    // Raw r||s ES256 signature over `signing_input`. SIGNATURE_FORMAT_INVALID for a
    // signature that is not 64 bytes (a DER signature is named as such),
    // JWS_SIGNATURE_INVALID when it does not verify.
    std::optional<Error> verify_es256(std::string_view signing_input, std::string_view signature) const;

private:
    std::shared_ptr<evp_pkey_st> m_key;
};

class PrivateKey {
public:
    static Result<PrivateKey> generate();
    // A private JWK ({"kty":"EC","crv":"P-256","x","y","d",...}).
    static Result<PrivateKey> from_jwk_json(std::string_view json);
    // The 64-byte r||s signature.
    std::string sign_es256(std::string_view signing_input) const;
    std::string x() const { return m_x; }
    std::string y() const { return m_y; }
    std::string kid() const { return ec_thumbprint("P-256", m_x, m_y); }
    // JWK text; with_private adds "d". The result holds a secret: keep it in a SecretString.
    SecretString to_jwk_json(bool with_private) const;

private:
    std::shared_ptr<evp_pkey_st> m_key;
    std::string m_x, m_y;  // base64url public coordinates
};

// Signs a SMART Health Card payload: header {"zip":"DEF","alg":"ES256","kid":...}.
std::string sign_compact(const PrivateKey& key, std::string_view header_json, std::string_view payload);

}  // namespace shcx::jose
