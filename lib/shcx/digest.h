// SHA-256 and hex: the one place that hashes (OpenSSL) and hex-encodes. RFC 7638 key
// thumbprints, the VCI certificate pin and the snapshot checksum are all built on these.
#pragma once

#include <string>
#include <string_view>

namespace shcx::digest {

inline constexpr size_t kSha256Bytes = 32;

// The 32-byte SHA-256 of `data`.
std::string sha256(std::string_view data);

enum class HexCase { Lower, Upper };
// "0aff"; hex("\x0a\xff", HexCase::Upper, ":") is "0A:FF" (a certificate fingerprint).
std::string hex(std::string_view bytes, HexCase letter_case = HexCase::Lower, std::string_view separator = {});

}  // namespace shcx::digest
