// Image decoding (stb_image: PNG, JPEG, GIF, BMP, PNM) and QR reading (ZXing), with a
// smaller pixel cap than the CLI's so each iteration stays fast.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shcx/read/image.h"
#include "shcx/read/qr_read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (shcx::image::sniff(bytes) == shcx::image::Format::None) return 0;
    auto img = shcx::image::decode_gray(bytes, 1'000'000);
    if (!img) return 0;
    auto texts = shcx::qr_read::read_qr_texts(img.value());
    if (texts.size() > shcx::qr_read::kMaxSymbols) __builtin_trap();
    return 0;
}
