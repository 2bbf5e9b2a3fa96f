// shc:/ texts -> QR symbols (libqrencode) -> PNG or SVG. Each symbol has the two
// segments the spec asks for: byte mode for "shc:/" (and a chunk header), numeric mode
// for the digits, at ECC level L and the smallest version that fits (at most 22).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"

namespace shcx::qr_write {

inline constexpr int kMaxVersion = 22;

struct Symbol {
    int version = 0;
    int width = 0;                 // modules per side
    std::vector<uint8_t> modules;  // width*width, 1 = dark
};

Result<Symbol> encode(std::string_view qr_text);
// The version encode() would choose, without the version-22 cap (for the producer rules:
// what a QR text needs when no symbol is at hand).
Result<int> version_for(std::string_view qr_text);
enum class Ecc { L, M, Q, H };
// Any text (a share URL) in one byte-mode segment, at ECC level M unless told (H for a
// printed emergency QR that must survive damage: docs/emergency.md), any version.
Result<Symbol> encode_text(std::string_view text, Ecc ecc = Ecc::M);

// Renders symbols side by side (one symbol is the common case) with a 4-module quiet zone.
std::string render_png(const std::vector<Symbol>& symbols, int pixels_per_module = 6);
std::string render_svg(const std::vector<Symbol>& symbols);

}  // namespace shcx::qr_write
