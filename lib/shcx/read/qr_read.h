// Pixels -> QR code texts (ZXing-cpp). The only module that includes ZXing.
#pragma once

#include <string>
#include <vector>

#include "shcx/read/image.h"

namespace shcx::qr_read {

// A card has at most a handful of chunks; an image with more symbols than this is not
// a health card and we stop looking.
inline constexpr int kMaxSymbols = 12;

struct Symbol {
    std::string text;
    // What the symbol itself holds, for the producer rules (qr_symbol.h): its data
    // codewords (error correction removed) and EC level ("L", "M", "Q", "H"). Empty when
    // the reader does not expose them.
    std::string data_codewords;
    std::string ec_level;
    bool mirrored = false;  // read from the mirror image (a front camera, a transparency)
    bool inverted = false;  // light modules on a dark background (a dark-mode screen)
};

// Every QR code found in the image, in reading order; empty when there is none. Stops
// looking after kMaxSymbols + 1, so a caller can tell "too many" from "all of them".
// An image with no symbol as it is is read again inverted, mirrored, and both.
std::vector<Symbol> read_qr_symbols(const image::Gray& image);

// Just the texts of read_qr_symbols().
std::vector<std::string> read_qr_texts(const image::Gray& image);

}  // namespace shcx::qr_read
