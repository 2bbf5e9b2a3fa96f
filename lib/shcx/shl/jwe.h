// The encryption of SMART Health Link files (docs/shl.md, "Files"): compact JWE (RFC 7516)
// with "alg":"dir" (the link's 32-byte key is the content key) and "enc":"A256GCM", a "cty"
// naming the content, and optionally "zip":"DEF" (raw DEFLATE before encryption). Anything
// else is refused: another alg or enc, crit, an encrypted-key part, an IV that is not
// 96 bits, a tag that is not 128 bits. Keys and plaintexts live in SecretStrings.
#pragma once

#include <string>
#include <string_view>

#include "shcx/error.h"
#include "shcx/secure.h"

namespace shcx::shl {

inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kIvBytes = 12;
inline constexpr size_t kTagBytes = 16;
// What one decrypted (and inflated) file may hold; a patient summary is far smaller.
inline constexpr size_t kMaxPlaintextBytes = 16u << 20;

struct Decrypted {
    std::string content_type;  // the protected header's cty
    bool deflated = false;     // zip was DEF
    SecretString plaintext;
};

// SHL_DECRYPT_FAILED for a JWE that is malformed, breaks the header rules above, was made
// with another key or was modified (every part is authenticated: the header as AAD, the
// IV, the ciphertext and the tag); SHL_TOO_LARGE when the content exceeds max_plaintext.
Result<Decrypted> decrypt(std::string_view jwe, std::string_view key, size_t max_plaintext = kMaxPlaintextBytes);

// Encrypts with a fresh random IV. `deflate` compresses first and adds "zip":"DEF".
// Throws std::invalid_argument for a key that is not 32 bytes.
std::string encrypt(std::string_view plaintext, std::string_view key, std::string_view content_type,
                    bool deflate = false);

// The primitive under encrypt(): seals `plaintext` as given under the protected header
// `header_json` exactly as written (no checks, no compression). For producers that need
// other header members, and for tests that need well-sealed JWEs with unusual headers.
std::string seal(std::string_view header_json, std::string_view plaintext, std::string_view key, std::string_view iv);

}  // namespace shcx::shl
