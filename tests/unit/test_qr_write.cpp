// lib/shcx/issue/qr_write: shc:/ texts as two-segment QR symbols (version <= 22, ECC L),
// rendered as PNG (read back with qr_read) and SVG.
#include <doctest/doctest.h>

#include "shcx/issue/qr_write.h"
#include "shcx/read/image.h"
#include "shcx/read/numeric.h"
#include "shcx/read/qr_read.h"
#include "support.h"

using namespace shcx;

namespace {
std::string jws_of(size_t n) {
    std::string s = "eyJ";
    while (s.size() < n) s += "abcdefghijklmnopqrstuvwxyz0123456789-_."[s.size() % 39];
    return s.substr(0, n);
}
std::vector<std::string> read_back(const std::string& png) {
    return qr_read::read_qr_texts(image::decode_gray(png).value());
}
}  // namespace

TEST_CASE("the longest single-QR JWS fits version 22, numeric mode is what makes it fit") {
    auto text = "shc:/" + numeric::encode_digits(jws_of(numeric::kMaxSingleQrJws));
    auto s = qr_write::encode(text);
    REQUIRE(s.ok());
    CHECK(s.value().version == 22);
    CHECK(s.value().width == 17 + 4 * 22);
    CHECK(s.value().modules.size() == static_cast<size_t>(s.value().width * s.value().width));
    auto png = qr_write::render_png({s.value()}, 3);
    CHECK(read_back(png) == std::vector<std::string>{text});
    // The same digits in byte mode (encode_text, ECC M) need a larger symbol, or none fits.
    auto as_bytes = qr_write::encode_text(text);
    CHECK((!as_bytes.ok() || as_bytes.value().version > 22));
}

TEST_CASE("content past version 22 is JWS_TOO_LONG_FOR_QR, a text without shc:/ is QR_HEADER_INVALID") {
    auto too_long = qr_write::encode("shc:/" + numeric::encode_digits(jws_of(numeric::kMaxSingleQrJws + 60)));
    REQUIRE_FALSE(too_long.ok());
    CHECK(too_long.error().code == ErrorCode::JWS_TOO_LONG_FOR_QR);
    CHECK(qr_write::encode("https://example.org/5676").error().code == ErrorCode::QR_HEADER_INVALID);
    CHECK(qr_write::encode("5676").error().code == ErrorCode::QR_HEADER_INVALID);
}

TEST_CASE("chunk headers stay in the byte segment and read back exactly") {
    auto texts = numeric::qr_texts_for_jws(jws_of(2000));
    REQUIRE(texts.size() == 2);
    std::vector<qr_write::Symbol> symbols;
    for (const auto& t : texts) symbols.push_back(qr_write::encode(t).value());
    for (size_t i = 0; i < texts.size(); ++i)
        CHECK(read_back(qr_write::render_png({symbols[i]}, 3)) == std::vector{texts[i]});
}

TEST_CASE("any text (a share URL) encodes in one byte-mode symbol") {
    std::string url = "https://share.example/s/p5FtXkG6y1RhkRUTwqK3Jw#DXQ4jYlGQKbPiZqt9j2LQqGwToL6oKoKgEvQiBjS1gE";
    auto s = qr_write::encode_text(url);
    REQUIRE(s.ok());
    CHECK(read_back(qr_write::render_png({s.value()}, 4)) == std::vector{url});
    CHECK(qr_write::encode_text(std::string(8000, 'x')).error().code == ErrorCode::USAGE);
}

TEST_CASE("PNG and SVG renderings: quiet zone of 4 modules, symbols side by side") {
    auto a = qr_write::encode("shc:/5676").value();
    int w = a.width;
    auto one = image::decode_gray(qr_write::render_png({a}, 2)).value();
    CHECK(one.width == (w + 8) * 2);
    CHECK(one.height == (w + 8) * 2);
    for (int x = 0; x < one.width; ++x) CHECK(one.pixels[static_cast<size_t>(x)] == 255);  // top row is quiet
    auto two = image::decode_gray(qr_write::render_png({a, a}, 1)).value();
    CHECK(two.width == 4 + 2 * (w + 4));
    auto svg = qr_write::render_svg({a});
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(w + 8) + " " +
                        std::to_string(w + 8) + "\"",
                    0) == 0);
    CHECK(test::contains(svg, "<path fill=\"#000\" d=\"M4 4h7v1h-7z"));  // the finder pattern's top edge
}
