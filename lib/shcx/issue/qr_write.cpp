#include "shcx/issue/qr_write.h"

#include <memory>

#include "shcx/detail/qrencode_api.h"
#include "shcx/read/image.h"

namespace shcx::qr_write {
namespace {
constexpr int kQuiet = 4;  // quiet zone, in modules (ISO/IEC 18004 §6.3.8)

int total_width(const std::vector<Symbol>& symbols) {
    int w = kQuiet;
    for (const auto& s : symbols) w += s.width + kQuiet;
    return w;
}
Symbol symbol_of(const QRcode& code) {
    Symbol s;
    s.version = code.version;
    s.width = code.width;
    s.modules.resize(static_cast<size_t>(s.width) * static_cast<size_t>(s.width));
    for (size_t i = 0; i < s.modules.size(); ++i) s.modules[i] = code.data[i] & 1;  // bit 0: dark
    return s;
}

bool dark(const Symbol& s, int x, int y) {
    return s.modules[static_cast<size_t>(y) * static_cast<size_t>(s.width) + static_cast<size_t>(x)] != 0;
}

int total_height(const std::vector<Symbol>& symbols) {
    int h = 0;
    for (const auto& s : symbols) h = std::max(h, s.width);
    return h + 2 * kQuiet;
}
}  // namespace

namespace {
using Code = std::unique_ptr<QRcode, void (*)(QRcode*)>;

// The spec's two segments, at ECC level L and the smallest version that fits, any version.
Result<Code> encode_shc(std::string_view qr_text) {
    // Byte segment: everything up to the first digit after "shc:/" and any C/N/ header.
    size_t split = qr_text.find_last_of('/');
    if (qr_text.substr(0, 5) != "shc:/" || split == std::string_view::npos)
        return make_error(ErrorCode::QR_HEADER_INVALID, "QR text must start with shc:/");
    std::string_view header = qr_text.substr(0, split + 1);
    std::string_view digits = qr_text.substr(split + 1);

    auto loaded = detail::qrencode_api();
    if (!loaded) return loaded.error();
    const detail::QrencodeApi& qr = *loaded.value();
    std::unique_ptr<QRinput, void (*)(QRinput*)> input(qr.input_new2(0, QR_ECLEVEL_L), qr.input_free);
    if (!input) return make_error(ErrorCode::INTERNAL, "libqrencode: out of memory");
    if (qr.input_append(input.get(), QR_MODE_8, static_cast<int>(header.size()),
                        reinterpret_cast<const unsigned char*>(header.data())) != 0 ||
        qr.input_append(input.get(), QR_MODE_NUM, static_cast<int>(digits.size()),
                        reinterpret_cast<const unsigned char*>(digits.data())) != 0)
        return make_error(ErrorCode::QR_NUMERIC_INVALID, "libqrencode rejected the QR segments");
    Code code(qr.code_encodeInput(input.get()), qr.code_free);
    if (!code) return make_error(ErrorCode::JWS_TOO_LONG_FOR_QR, "content does not fit in any QR version");
    return code;
}
}  // namespace

Result<Symbol> encode(std::string_view qr_text) {
    auto code = encode_shc(qr_text);
    if (!code) return code.error();
    if (code.value()->version > kMaxVersion)
        return make_error(ErrorCode::JWS_TOO_LONG_FOR_QR, "content needs QR version " +
                                                              std::to_string(code.value()->version) +
                                                              "; SMART Health Cards allow at most version 22");
    return symbol_of(*code.value());
}

Result<int> version_for(std::string_view qr_text) {
    auto code = encode_shc(qr_text);
    if (!code) return code.error();
    return code.value()->version;
}

Result<Symbol> encode_text(std::string_view text, Ecc ecc) {
    QRecLevel level = ecc == Ecc::L   ? QR_ECLEVEL_L
                      : ecc == Ecc::Q ? QR_ECLEVEL_Q
                      : ecc == Ecc::H ? QR_ECLEVEL_H
                                      : QR_ECLEVEL_M;
    auto loaded = detail::qrencode_api();
    if (!loaded) return loaded.error();
    const detail::QrencodeApi& qr = *loaded.value();
    std::unique_ptr<QRinput, void (*)(QRinput*)> input(qr.input_new2(0, level), qr.input_free);
    if (!input || qr.input_append(input.get(), QR_MODE_8, static_cast<int>(text.size()),
                                  reinterpret_cast<const unsigned char*>(text.data())) != 0)
        return make_error(ErrorCode::INTERNAL, "libqrencode rejected the text");
    std::unique_ptr<QRcode, void (*)(QRcode*)> code(qr.code_encodeInput(input.get()), qr.code_free);
    if (!code) return make_error(ErrorCode::USAGE, "text too long for a QR code");
    return symbol_of(*code);
}

std::string render_png(const std::vector<Symbol>& symbols, int ppm) {
    image::Gray img;
    img.width = total_width(symbols) * ppm;
    img.height = total_height(symbols) * ppm;
    img.pixels.assign(static_cast<size_t>(img.width) * static_cast<size_t>(img.height), 255);
    int x0 = kQuiet;
    for (const auto& s : symbols) {
        for (int y = 0; y < s.width; ++y)
            for (int x = 0; x < s.width; ++x) {
                if (!dark(s, x, y)) continue;
                auto px = static_cast<size_t>(ppm);
                size_t top = static_cast<size_t>(kQuiet + y) * px, left = static_cast<size_t>(x0 + x) * px;
                for (size_t dy = 0; dy < px; ++dy)
                    for (size_t dx = 0; dx < px; ++dx)
                        img.pixels[(top + dy) * static_cast<size_t>(img.width) + left + dx] = 0;
            }
        x0 += s.width + kQuiet;
    }
    return image::encode_png(img);
}

std::string render_svg(const std::vector<Symbol>& symbols) {
    int w = total_width(symbols), h = total_height(symbols);
    std::string path;
    int x0 = kQuiet;
    for (const auto& s : symbols) {
        for (int y = 0; y < s.width; ++y) {
            // Horizontal runs keep the file small.
            for (int x = 0; x < s.width;) {
                if (!dark(s, x, y)) {
                    ++x;
                    continue;
                }
                int run = 1;
                while (x + run < s.width && dark(s, x + run, y)) ++run;
                path += "M" + std::to_string(x0 + x) + " " + std::to_string(kQuiet + y) + "h" + std::to_string(run) +
                        "v1h-" + std::to_string(run) + "z";
                x += run;
            }
        }
        x0 += s.width + kQuiet;
    }
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
           "\" shape-rendering=\"crispEdges\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n<path "
           "fill=\"#000\" d=\"" +
           path + "\"/>\n</svg>\n";
}

}  // namespace shcx::qr_write
