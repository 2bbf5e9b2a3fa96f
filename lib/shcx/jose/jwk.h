// JSON Web Keys (RFC 7517) as issuers publish them, RFC 7638 thumbprints, and the
// cards-specification rules an issuer key must pass. No JSON library in this header.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"

namespace shcx::jose {

struct Jwk {
    std::string kty, crv, kid, use, alg, x, y;
    bool has_private = false;         // a "d" member is present
    std::optional<long> crl_version;  // crlVersion (number or numeric string)
    std::vector<std::string> x5c;
};

Result<Jwk> parse_jwk(std::string_view json);
// {"keys":[...]}: every entry, including repeated kids (one per certificate is legal).
Result<std::vector<Jwk>> parse_jwks(std::string_view json);

// RFC 7638 thumbprint of an EC key: base64url(SHA-256('{"crv":..,"kty":"EC","x":..,"y":..}')).
std::string ec_thumbprint(std::string_view crv, std::string_view x, std::string_view y);

// verification.md D: EC P-256, use sig, alg ES256, on-curve x/y, no d (KEY_INVALID);
// kid equals the RFC 7638 thumbprint (KEY_KID_MISMATCH). Empty when the key is fine.
std::vector<Error> check_issuer_key(const Jwk& jwk);

}  // namespace shcx::jose
