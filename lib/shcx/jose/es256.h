// ES256 (ECDSA on P-256 with SHA-256, RFC 7518 §3.4) keys through OpenSSL EVP: public
// keys that verify raw r||s signatures, private keys that make them, and their JWK form.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "shcx/error.h"
#include "shcx/jose/jwk.h"
#include "shcx/secure.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace shcx::jose {

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
    Result<std::string> sign_es256(std::string_view signing_input) const;
    std::string x() const { return m_x; }
    std::string y() const { return m_y; }
    std::string kid() const { return ec_thumbprint("P-256", m_x, m_y); }
    // JWK text; with_private adds "d". The result holds a secret: keep it in a SecretString.
    Result<SecretString> to_jwk_json(bool with_private) const;

private:
    std::shared_ptr<evp_pkey_st> m_key;
    std::string m_x, m_y;  // base64url public coordinates
};

}  // namespace shcx::jose
