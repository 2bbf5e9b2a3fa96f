#include "shcx/read/image.h"

#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include "shcx/detail/stb_api.h"

namespace shcx::image {

Format sniff(std::string_view b) {
    auto starts = [&](std::string_view magic) { return b.substr(0, magic.size()) == magic; };
    if (starts("\x89PNG\r\n\x1a\n")) return Format::Png;
    if (starts("\xFF\xD8\xFF")) return Format::Jpeg;
    if (starts("GIF87a") || starts("GIF89a")) return Format::Gif;
    if (starts("BM") && b.size() >= 26) return Format::Bmp;
    // Binary PNM only (P4 bitmap is not read by stb; P5 gray, P6 color are).
    if (b.size() >= 3 && b[0] == 'P' && (b[1] == '5' || b[1] == '6') &&
        (b[2] == '\n' || b[2] == ' ' || b[2] == '\r' || b[2] == '\t'))
        return Format::Pnm;
    return Format::None;
}

std::string_view format_name(Format f) {
    switch (f) {
        case Format::Png: return "PNG";
        case Format::Jpeg: return "JPEG";
        case Format::Gif: return "GIF";
        case Format::Bmp: return "BMP";
        case Format::Pnm: return "PNM";
        case Format::None: break;
    }
    return "unknown";
}

namespace {
// stb_image grows its IDAT buffer to the length a chunk *declares* before reading it, so
// an 8 KiB file declaring a 1 GiB chunk made it allocate 2 GiB (found by fuzz_image).
// Every chunk must fit in the bytes that are actually there; then stb's buffers are
// bounded by the file size.
std::optional<Error> check_png_chunks(std::string_view b) {
    size_t pos = 8;
    while (pos + 12 <= b.size()) {
        auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(b[i])); };
        uint32_t len = (u(pos) << 24) | (u(pos + 1) << 16) | (u(pos + 2) << 8) | u(pos + 3);
        if (len > b.size() - pos - 12)
            return make_error(ErrorCode::IMAGE_INVALID,
                              "PNG chunk declares " + std::to_string(len) + " bytes, more than the file holds");
        if (b.substr(pos + 4, 4) == "IEND") return std::nullopt;
        pos += 12 + static_cast<size_t>(len);
    }
    return std::nullopt;  // truncated files are reported by the decoder
}
}  // namespace

Result<Gray> decode_gray(std::string_view bytes, int64_t max_pixels) {
    Format format = sniff(bytes);
    std::string name(format_name(format));
    if (format == Format::Png)
        if (auto e = check_png_chunks(bytes)) return *e;
    if (bytes.size() > static_cast<size_t>(INT32_MAX))
        return make_error(ErrorCode::IMAGE_TOO_LARGE, name + " file is too large");
    auto loaded = detail::stb_api();
    if (!loaded) return loaded.error();
    const detail::StbApi& stb = *loaded.value();
    auto data = reinterpret_cast<const stbi_uc*>(bytes.data());
    int len = static_cast<int>(bytes.size());
    int w = 0, h = 0, comp = 0;
    if (!stb.info_from_memory(data, len, &w, &h, &comp))
        return make_error(ErrorCode::IMAGE_INVALID, "cannot read " + name + " header: " + stb.failure_reason());
    if (w <= 0 || h <= 0 || w > kMaxDimension || h > kMaxDimension || static_cast<int64_t>(w) * h > max_pixels)
        return make_error(ErrorCode::IMAGE_TOO_LARGE, name + " image is " + std::to_string(w) + "x" +
                                                          std::to_string(h) + " pixels; the limit is " +
                                                          std::to_string(kMaxDimension) + " per side and " +
                                                          std::to_string(max_pixels) + " in all");
    std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stb.load_from_memory(data, len, &w, &h, &comp, 1), stb.image_free);
    if (!pixels)
        return make_error(ErrorCode::IMAGE_INVALID, "cannot decode " + name + " image: " + stb.failure_reason());
    Gray g;
    g.width = w;
    g.height = h;
    g.pixels.assign(pixels.get(), pixels.get() + static_cast<size_t>(w) * static_cast<size_t>(h));
    return g;
}

std::string encode_png(const Gray& image) {
    auto loaded = detail::stb_api();
    if (!loaded) throw std::runtime_error(loaded.error().message);
    std::string out;
    loaded.value()->write_png_to_func(
        [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size); },
        &out, image.width, image.height, 1, image.pixels.data(), image.width);
    return out;
}

}  // namespace shcx::image
