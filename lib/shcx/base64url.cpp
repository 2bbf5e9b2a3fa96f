#include "shcx/base64url.h"

#include <array>
#include <cstdint>

namespace shcx::base64url {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_table() {
    std::array<int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
    return t;
}
constexpr auto kTable = make_table();
}  // namespace

bool is_alphabet(char c) { return kTable[static_cast<unsigned char>(c)] >= 0; }

bool is_alphabet(std::string_view text) {
    for (char c : text)
        if (!is_alphabet(c)) return false;
    return true;
}

std::string encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    size_t i = 0;
    auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
    for (; i + 3 <= bytes.size(); i += 3) {
        uint32_t n = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    size_t rest = bytes.size() - i;
    if (rest == 1) {
        uint32_t n = b(i) << 16;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
    } else if (rest == 2) {
        uint32_t n = (b(i) << 16) | (b(i + 1) << 8);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
    }
    return out;
}

std::optional<std::string> decode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out((text.size() / 4) * 3 + (text.size() % 4 ? text.size() % 4 - 1 : 0), '\0');
    auto at = [&](size_t k) { return kTable[static_cast<unsigned char>(text[k])]; };
    size_t i = 0, o = 0;
    // Whole groups of four characters first (a card's payload is a few KB of them).
    for (; i + 4 <= text.size(); i += 4, o += 3) {
        int8_t a = at(i), b = at(i + 1), c = at(i + 2), d = at(i + 3);
        if ((a | b | c | d) < 0) return std::nullopt;
        uint32_t n = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
        out[o] = static_cast<char>(n >> 16);
        out[o + 1] = static_cast<char>(n >> 8);
        out[o + 2] = static_cast<char>(n);
    }
    size_t rest = text.size() - i;
    if (rest >= 2) {
        int8_t a = at(i), b = at(i + 1), c = rest == 3 ? at(i + 2) : 0;
        if ((a | b | c) < 0) return std::nullopt;
        uint32_t n = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6);
        // Leftover bits must be zero, otherwise two texts would decode to the same bytes.
        if ((rest == 2 && (n & 0xFFFF)) || (rest == 3 && (n & 0xFF))) return std::nullopt;
        out[o] = static_cast<char>(n >> 16);
        if (rest == 3) out[o + 1] = static_cast<char>(n >> 8);
    }
    return out;
}

}  // namespace shcx::base64url
