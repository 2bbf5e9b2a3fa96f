// lib/shcx/read/qr_read on the specification's QR images and on generated ones.
#include <doctest/doctest.h>

#include <algorithm>

#include "shcx/issue/qr_write.h"
#include "shcx/read/image.h"
#include "shcx/read/numeric.h"
#include "shcx/read/qr_read.h"
#include "support.h"

using namespace shcx;

namespace {
std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}
image::Gray gray(const std::string& png) { return image::decode_gray(png).value(); }
}  // namespace

TEST_CASE("every spec example QR image reads as its shc:/ text" * doctest::test_suite("conformance")) {
    for (const char* name : {"example-00", "example-01", "example-03"}) {
        CAPTURE(name);
        auto img = gray(test::read_file(test::spec_examples() / (std::string(name) + "-g-qr-code-0.png")));
        auto texts = qr_read::read_qr_texts(img);
        REQUIRE(texts.size() == 1);
        CHECK(texts[0] ==
              trimmed(test::read_file(test::spec_examples() / (std::string(name) + "-f-qr-code-numeric-value-0.txt"))));
    }
}

TEST_CASE("an image with no QR code gives no text") {
    image::Gray blank;
    blank.width = blank.height = 120;
    blank.pixels.assign(120 * 120, 255);
    CHECK(qr_read::read_qr_texts(blank).empty());
}

TEST_CASE("several codes in one image are all read, reading stops one past the cap") {
    std::vector<qr_write::Symbol> three;
    std::vector<std::string> texts;
    for (int i = 0; i < 3; ++i) {
        texts.push_back("shc:/" + numeric::encode_digits("eyJhbGciOi" + std::to_string(i)));
        three.push_back(qr_write::encode(texts.back()).value());
    }
    auto found = qr_read::read_qr_texts(gray(qr_write::render_png(three, 4)));
    std::sort(found.begin(), found.end());
    CHECK(found == texts);

    std::vector<qr_write::Symbol> many;
    for (int i = 0; i < qr_read::kMaxSymbols + 4; ++i)
        many.push_back(qr_write::encode("shc:/" + numeric::encode_digits("ey" + std::to_string(i))).value());
    CHECK(qr_read::read_qr_texts(gray(qr_write::render_png(many, 4))).size() ==
          static_cast<size_t>(qr_read::kMaxSymbols) + 1);
}
