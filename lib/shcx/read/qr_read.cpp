#include "shcx/read/qr_read.h"

// ZXing 1.4 returns std::wstring from text() unless asked for UTF-8.
#define ZX_USE_UTF8 1
#include <ZXing/ReadBarcode.h>

namespace shcx::qr_read {

std::vector<std::string> read_qr_texts(const image::Gray& image) {
    ZXing::DecodeHints hints;
    hints.setFormats(ZXing::BarcodeFormat::QRCode)
        .setTryHarder(true)
        .setTryRotate(true)
        .setTryDownscale(true)
        .setMaxNumberOfSymbols(kMaxSymbols + 1);
    ZXing::ImageView view(image.pixels.data(), image.width, image.height, ZXing::ImageFormat::Lum);
    std::vector<std::string> texts;
    for (const auto& result : ZXing::ReadBarcodes(view, hints)) {
        if (result.isValid()) texts.push_back(result.text());
    }
    return texts;
}

}  // namespace shcx::qr_read
