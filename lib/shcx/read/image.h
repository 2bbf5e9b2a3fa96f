// Image bytes -> 8-bit grayscale pixels (stb_image), and grayscale -> PNG bytes.
// The only module that knows image formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"

namespace shcx::image {

enum class Format { None, Png, Jpeg, Gif, Bmp, Pnm };

// Recognises an image by its magic bytes; Format::None for anything else.
Format sniff(std::string_view bytes);
std::string_view format_name(Format f);

// Caps checked from the header before any pixel is allocated.
inline constexpr int kMaxDimension = 16384;
inline constexpr int64_t kMaxPixels = 50'000'000;

struct Gray {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> pixels;  // row-major, width*height bytes
};

// IMAGE_INVALID for undecodable or truncated data, IMAGE_TOO_LARGE past the caps;
// INTERNAL when libstb cannot be loaded.
Result<Gray> decode_gray(std::string_view bytes, int64_t max_pixels = kMaxPixels);

// Throws std::runtime_error when libstb cannot be loaded (a broken installation: nothing
// else can go wrong here).
std::string encode_png(const Gray& image);

}  // namespace shcx::image
