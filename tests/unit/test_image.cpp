// lib/shcx/read/image: sniffing by magic bytes, decoding to gray, encoding PNG.
// (Size caps at and past the limit: test_limits.cpp.)
#include <doctest/doctest.h>

#include "shcx/read/image.h"
#include "support.h"

using namespace shcx;

TEST_CASE("formats are recognised by their magic bytes only") {
    CHECK(image::sniff("\x89PNG\r\n\x1a\nrest") == image::Format::Png);
    CHECK(image::sniff("\xFF\xD8\xFF\xE0") == image::Format::Jpeg);
    CHECK(image::sniff("GIF89a...") == image::Format::Gif);
    CHECK(image::sniff("GIF87a...") == image::Format::Gif);
    CHECK(image::sniff("BM" + std::string(24, '\0')) == image::Format::Bmp);
    CHECK(image::sniff("BM short") == image::Format::None);  // too short for a BMP header
    CHECK(image::sniff("P5\n2 2\n255\n....") == image::Format::Pnm);
    CHECK(image::sniff("P4\n") == image::Format::None);  // 1-bit PNM: not read
    CHECK(image::sniff("shc:/5676") == image::Format::None);
    CHECK(image::sniff("") == image::Format::None);
    CHECK(image::format_name(image::Format::Jpeg) == "JPEG");
    CHECK(image::format_name(image::Format::None) == "unknown");
}

TEST_CASE("encode_png then decode_gray gives back every pixel") {
    image::Gray g;
    g.width = 7;
    g.height = 3;
    for (int i = 0; i < 21; ++i) g.pixels.push_back(static_cast<uint8_t>(i * 12));
    auto png = image::encode_png(g);
    CHECK(image::sniff(png) == image::Format::Png);
    auto back = image::decode_gray(png);
    REQUIRE(back.ok());
    CHECK(back.value().width == 7);
    CHECK(back.value().height == 3);
    CHECK(back.value().pixels == g.pixels);
}

TEST_CASE("broken images are IMAGE_INVALID naming the format, the pixel cap is the caller's") {
    image::Gray g;
    g.width = g.height = 10;
    g.pixels.assign(100, 128);
    auto png = image::encode_png(g);
    auto cut = image::decode_gray(png.substr(0, png.size() - 20));
    REQUIRE_FALSE(cut.ok());
    CHECK(cut.error().code == ErrorCode::IMAGE_INVALID);
    CHECK(test::contains(cut.error().message, "PNG"));
    auto jpeg = image::decode_gray("\xFF\xD8\xFF garbage");
    REQUIRE_FALSE(jpeg.ok());
    CHECK(jpeg.error().code == ErrorCode::IMAGE_INVALID);
    CHECK(test::contains(jpeg.error().message, "JPEG"));
    CHECK(image::decode_gray(png, 99).error().code == ErrorCode::IMAGE_TOO_LARGE);
    CHECK(image::decode_gray(png, 100).ok());
}
