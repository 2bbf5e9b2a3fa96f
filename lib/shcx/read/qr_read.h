// Pixels -> QR code texts (ZXing-cpp). The only module that includes ZXing.
#pragma once

#include <string>
#include <vector>

#include "shcx/read/image.h"

namespace shcx::qr_read {

// A card has at most a handful of chunks; an image with more symbols than this is not
// a health card and we stop looking.
inline constexpr int kMaxSymbols = 12;

// Every QR code found in the image, in reading order; empty when there is none. Stops
// looking after kMaxSymbols + 1, so a caller can tell "too many" from "all of them".
std::vector<std::string> read_qr_texts(const image::Gray& image);

}  // namespace shcx::qr_read
