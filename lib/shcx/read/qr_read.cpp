#include "shcx/read/qr_read.h"

// ZXing 1.4 returns std::wstring from text() unless asked for UTF-8.
#define ZX_USE_UTF8 1
#include <ZXing/ReadBarcode.h>

#include <algorithm>

namespace shcx::qr_read {
namespace {

std::vector<Symbol> read_as_is(const image::Gray& image, bool mirrored, bool inverted) {
    ZXing::DecodeHints hints;
    hints.setFormats(ZXing::BarcodeFormat::QRCode)
        .setTryHarder(true)
        .setTryRotate(true)
        .setTryDownscale(true)
        .setMaxNumberOfSymbols(kMaxSymbols + 1);
    ZXing::ImageView view(image.pixels.data(), image.width, image.height, ZXing::ImageFormat::Lum);
    std::vector<Symbol> out;
    for (const auto& result : ZXing::ReadBarcodes(view, hints)) {
        if (!result.isValid()) continue;
        Symbol s;
        s.text = result.text();
        // ZXing 1.4 has no accessor for the version or the segments; rawBytes() (the
        // data codewords) is deprecated but is the only way to the symbol's own content.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        const auto& raw = result.rawBytes();
#pragma GCC diagnostic pop
        s.data_codewords.assign(raw.begin(), raw.end());
        s.ec_level = result.ecLevel();
        s.mirrored = mirrored != result.isMirrored();
        s.inverted = inverted;
        out.push_back(std::move(s));
    }
    return out;
}

image::Gray mirror(const image::Gray& in) {
    image::Gray out = in;
    for (int y = 0; y < in.height; ++y) {
        auto row = out.pixels.begin() + static_cast<long>(y) * in.width;
        std::reverse(row, row + in.width);
    }
    return out;
}

image::Gray invert(const image::Gray& in) {
    image::Gray out = in;
    for (auto& p : out.pixels) p = static_cast<uint8_t>(255 - p);
    return out;
}

}  // namespace

std::vector<Symbol> read_qr_symbols(const image::Gray& image) {
    // ZXing 1.4 reads some mirrored symbols by itself but not all (the spec's example-00
    // mirrored is not read), and never inverted ones: an image with nothing readable as it
    // is gets three more looks.
    auto found = read_as_is(image, false, false);
    if (!found.empty()) return found;
    if (!(found = read_as_is(invert(image), false, true)).empty()) return found;
    image::Gray mirrored = mirror(image);
    if (!(found = read_as_is(mirrored, true, false)).empty()) return found;
    return read_as_is(invert(mirrored), true, true);
}

std::vector<std::string> read_qr_texts(const image::Gray& image) {
    std::vector<std::string> texts;
    for (auto& s : read_qr_symbols(image)) texts.push_back(std::move(s.text));
    return texts;
}

}  // namespace shcx::qr_read
