// base64url without padding (RFC 4648 §5), as JOSE uses it. Decoding is strict:
// padding, whitespace or any character outside the alphabet is an error, and so is
// a length of 1 mod 4 or non-zero trailing bits (non-canonical encodings).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shcx::base64url {

std::string encode(std::string_view bytes);
std::optional<std::string> decode(std::string_view text);
bool is_alphabet(char c);
bool is_alphabet(std::string_view text);

}  // namespace shcx::base64url
