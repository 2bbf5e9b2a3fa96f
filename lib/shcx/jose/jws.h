// Compact JWS (RFC 7515): splitting and decoding the three parts, the SMART Health Cards
// header rules, and signing a payload with an ES256 key. No JSON library in this header.
#pragma once

#include <string>
#include <string_view>

#include "shcx/error.h"
#include "shcx/jose/es256.h"

namespace shcx::jose {

struct CompactJws {
    std::string_view header_b64, payload_b64, signature_b64;  // views into the input
    std::string header_json;
    std::string payload;                // still compressed for SMART Health Cards
    std::string signature;              // raw bytes, 64 for ES256 (r||s)
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

// The header a SMART Health Card is signed with: {"zip":"DEF","alg":"ES256","kid":KID}.
std::string shc_header(std::string_view kid);

// base64url(header) "." base64url(payload) "." base64url(ES256 signature).
Result<std::string> sign_compact(const PrivateKey& key, std::string_view header_json, std::string_view payload);

}  // namespace shcx::jose
