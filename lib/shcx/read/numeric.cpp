#include "shcx/read/numeric.h"

#include <charconv>

#include "shcx/base64url.h"

namespace shcx::numeric {
namespace {

constexpr std::string_view kPrefix = "shc:/";

// Parses a small decimal (no sign, no leading zero except "0" itself, at most 3 digits).
bool parse_small(std::string_view s, int& out) {
    if (s.empty() || s.size() > 3 || (s[0] == '0' && s.size() > 1)) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string encode_digits(std::string_view jws) {
    std::string out;
    out.reserve(jws.size() * 2);
    for (char c : jws) {
        int v = static_cast<unsigned char>(c) - 45;
        out += static_cast<char>('0' + v / 10);
        out += static_cast<char>('0' + v % 10);
    }
    return out;
}

Result<std::string> decode_digits(std::string_view digits) {
    if (digits.empty()) return make_error(ErrorCode::QR_NUMERIC_INVALID, "no digits after the shc:/ header");
    for (size_t i = 0; i < digits.size(); ++i) {
        if (digits[i] < '0' || digits[i] > '9')
            return make_error(ErrorCode::QR_NUMERIC_INVALID,
                              "non-digit character at position " + std::to_string(i) + " of the numeric data");
    }
    if (digits.size() % 2 != 0)
        return make_error(ErrorCode::QR_NUMERIC_INVALID,
                          "odd number of digits (" + std::to_string(digits.size()) + "): digits must come in pairs");
    std::string out;
    out.reserve(digits.size() / 2);
    for (size_t i = 0; i < digits.size(); i += 2) {
        int v = (digits[i] - '0') * 10 + (digits[i + 1] - '0');
        char c = static_cast<char>(v + 45);
        // Only pairs that map to the base64url alphabet or '.' can be part of a JWS.
        if (!base64url::is_alphabet(c) && c != '.')
            return make_error(ErrorCode::QR_NUMERIC_INVALID, "digit pair " + std::string(digits.substr(i, 2)) +
                                                                 " at position " + std::to_string(i) +
                                                                 " does not encode a JWS character");
        out += c;
    }
    return out;
}

Result<Chunk> parse_qr_text(std::string_view text) {
    if (text.substr(0, kPrefix.size()) != kPrefix)
        return make_error(ErrorCode::QR_HEADER_INVALID, "QR content does not start with shc:/");
    std::string_view rest = text.substr(kPrefix.size());
    Chunk chunk;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        auto slash2 = rest.find('/', slash + 1);
        if (slash2 == std::string_view::npos)
            return make_error(ErrorCode::QR_HEADER_INVALID, "chunk header must be shc:/C/N/ (found one '/')");
        if (!parse_small(rest.substr(0, slash), chunk.index) ||
            !parse_small(rest.substr(slash + 1, slash2 - slash - 1), chunk.total))
            return make_error(ErrorCode::QR_HEADER_INVALID, "chunk header must be shc:/C/N/ with decimal C and N");
        if (chunk.total == 1 && chunk.index == 1) {
            chunk.unneeded_header = true;
        } else if (chunk.total < 1 || chunk.total > kMaxChunks) {
            return make_error(
                ErrorCode::QR_CHUNK_INDEX_INVALID,
                "chunk count N=" + std::to_string(chunk.total) + " is out of range 1.." + std::to_string(kMaxChunks));
        }
        if (chunk.index < 1 || chunk.index > chunk.total)
            return make_error(ErrorCode::QR_CHUNK_INDEX_INVALID, "chunk index " + std::to_string(chunk.index) +
                                                                     " is outside 1.." + std::to_string(chunk.total));
        rest = rest.substr(slash2 + 1);
    }
    auto jws = decode_digits(rest);
    if (!jws) return jws.error();
    chunk.jws_part = std::move(jws.value());
    return chunk;
}

std::vector<std::string> qr_texts_for_jws(std::string_view jws) {
    if (jws.size() <= kMaxSingleQrJws) return {std::string(kPrefix) + encode_digits(jws)};
    size_t n = (jws.size() + kMaxChunkJws - 1) / kMaxChunkJws;
    size_t per = (jws.size() + n - 1) / n;  // balanced sizes, as the spec recommends
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) {
        std::string_view part = jws.substr(i * per, per);
        out.push_back(std::string(kPrefix) + std::to_string(i + 1) + "/" + std::to_string(n) + "/" +
                      encode_digits(part));
    }
    return out;
}

}  // namespace shcx::numeric
