// Cryptographic building blocks of PIN-locked shares (docs/share-protocol.md):
// CSPRNG values, the PIN alphabet, Argon2id (libargon2), HMAC-SHA256, HKDF-SHA256,
// AES-256-GCM, and the compact JWE {"alg":"dir","enc":"A256GCM"} of SMART Health Links.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shcx/error.h"
#include "shcx/secure.h"

namespace shcx::share {

std::string random_bytes(size_t n);  // OpenSSL RAND_bytes; throws if the CSPRNG fails

// PINs are read aloud: Crockford base32 (0-9 and A-Z without I, L, O, U), 8 characters
// = 40 bits (docs/share-protocol-hardening.md says why 8 and not 10).
inline constexpr size_t kPinLength = 8;
inline constexpr std::string_view kPinAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
// 8 characters from the CSPRNG; 256 is a multiple of 32, so `byte % 32` has no bias.
SecretString generate_pin();
// What a person may type for a PIN: case does not matter, spaces and dashes are dropped,
// O reads as 0 and I, L as 1. nullopt unless that leaves 8 characters of kPinAlphabet
// (U stays invalid). The argument is not modified; the caller wipes it.
std::optional<SecretString> normalise_pin(std::string_view input);
// "ABCD-EFGH": how a PIN is shown, in two halves that are easier to read out.
std::string format_pin(std::string_view pin);

struct KdfParams {
    uint32_t t_cost = 2;          // passes
    uint32_t m_cost_kib = 19456;  // memory, KiB
    uint32_t parallelism = 1;
    std::string encode() const;  // "argon2id$t=2$m=19456$p=1"
    static std::optional<KdfParams> decode(std::string_view s);
};

// Argon2id(password, salt) -> 32 bytes.
SecretString argon2id(std::string_view password, std::string_view salt, const KdfParams& params);

std::string hmac_sha256(std::string_view key, std::string_view data);
// RFC 5869. nullopt when `length` exceeds 255 * 32.
std::optional<std::string> hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                                       size_t length);
bool constant_time_equal(std::string_view a, std::string_view b);

// AES-GCM with a 16-byte tag appended to the ciphertext. Key of 16, 24 or 32 bytes.
std::string aes_gcm_seal(std::string_view key, std::string_view iv, std::string_view aad, std::string_view plaintext);
std::optional<std::string> aes_gcm_open(std::string_view key, std::string_view iv, std::string_view aad,
                                        std::string_view ciphertext_and_tag);

// Compact JWE, "dir" key agreement and A256GCM content encryption (RFC 7516 §7.1), the
// files of SMART Health Links: shl::encrypt / shl::decrypt under the share's error codes.
std::string jwe_encrypt(std::string_view key32, std::string_view plaintext, std::string_view content_type);
struct JweContent {
    std::string content_type;
    std::string plaintext;
};
// SHARE_DECRYPT_FAILED for a malformed JWE (shl::decrypt's rules), a wrong key or a modified one.
Result<JweContent> jwe_decrypt(std::string_view key32, std::string_view jwe);

}  // namespace shcx::share
