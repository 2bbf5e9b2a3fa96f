#include "shcx/digest.h"

#include <openssl/sha.h>

namespace shcx::digest {

std::string sha256(std::string_view data) {
    std::string out(kSha256Bytes, '\0');
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

std::string hex(std::string_view bytes, HexCase letter_case, std::string_view separator) {
    const char* digits = letter_case == HexCase::Upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * (2 + separator.size()));
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i) out += separator;
        auto b = static_cast<unsigned char>(bytes[i]);
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

}  // namespace shcx::digest
