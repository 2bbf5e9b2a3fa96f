// docs/verification.md D, x5c (optional on issuer keys): the leaf certificate's key equals the
// JWK's x/y, its SAN URI equals iss, and the chain leads to a configured anchor, with
// validity judged at the card's nbf.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/jose/jwk.h"

namespace shcx::x5c {

// X5C_INVALID errors, empty when every check passes. Without anchors the chain itself
// cannot be judged: only the leaf checks run.
std::vector<Error> check(const jose::Jwk& key, std::string_view iss, double at,
                         const std::vector<std::string>& anchor_pems);

}  // namespace shcx::x5c
