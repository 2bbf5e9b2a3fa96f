#include <doctest/doctest.h>

#include "shcx/read/image.h"
#include "shcx/read/input.h"
#include "support.h"

using namespace shcx;

namespace {
input::Extraction extract(const std::string& bytes, const std::string& name = "in") {
    return input::extract_cards({{name, bytes}});
}
const std::string kJws = "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln";
}  // namespace

TEST_CASE("content sniffing: every text form is recognised") {
    auto jws = extract(kJws + "\n");
    REQUIRE(jws.cards.size() == 1);
    CHECK(jws.cards[0].kind == input::Kind::Jws);
    CHECK(jws.cards[0].warnings.empty());

    auto file = extract("{\"verifiableCredential\":[\"" + kJws + "\",\"" + kJws + "\"]}");
    REQUIRE(file.cards.size() == 2);
    CHECK(file.cards[1].kind == input::Kind::HealthCardFile);
    CHECK(file.cards[1].origins[0] == "in#2");

    auto params = extract(
        R"({"resourceType":"Parameters","parameter":[{"name":"verifiableCredential","valueString":")" + kJws + "\"}]}");
    REQUIRE(params.cards.size() == 1);
    CHECK(params.cards[0].kind == input::Kind::FhirParameters);

    auto qr = extract("shc:/5676\n\nshc:/5677\n");
    REQUIRE(qr.cards.size() == 2);
    CHECK(qr.cards[0].jws == "ey");
    CHECK(qr.cards[0].kind == input::Kind::QrText);
}

TEST_CASE("BOM and stray whitespace around a JWS are TRAILING_CHARACTERS warnings") {
    for (const std::string& text : {"\xEF\xBB\xBF" + kJws, "  " + kJws, kJws + "  \n\n"}) {
        auto r = extract(text);
        REQUIRE(r.cards.size() == 1);
        REQUIRE(r.cards[0].warnings.size() == 1);
        CHECK(r.cards[0].warnings[0].code == ErrorCode::TRAILING_CHARACTERS);
        CHECK(r.cards[0].jws == kJws);
    }
}

TEST_CASE("unusable inputs get one precise error each") {
    struct Case {
        std::string bytes;
        ErrorCode code;
    } cases[] = {
        {"", ErrorCode::INPUT_EMPTY},
        {" \n\t\n", ErrorCode::INPUT_EMPTY},
        {std::string("\x00\x01\x02\xff\xfe garbage", 14), ErrorCode::INPUT_UNRECOGNIZED},
        {"hello world", ErrorCode::INPUT_UNRECOGNIZED},
        {"{\"foo\":1}", ErrorCode::INPUT_UNRECOGNIZED},
        {"{\"verifiableCredential\":[]}", ErrorCode::INPUT_UNRECOGNIZED},
        {"{\"resourceType\":\"Parameters\",\"parameter\":[]}", ErrorCode::INPUT_UNRECOGNIZED},
        {"{broken json", ErrorCode::INPUT_UNRECOGNIZED},
        {"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>", ErrorCode::INPUT_UNRECOGNIZED},
        {"shc:/567", ErrorCode::QR_NUMERIC_INVALID},
        {"\x89PNG\r\n\x1a\n\x00\x00", ErrorCode::IMAGE_INVALID},
    };
    for (const auto& c : cases) {
        CAPTURE(c.bytes);
        auto r = extract(c.bytes);
        CHECK(r.cards.empty());
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0].error.code == c.code);
    }
}

TEST_CASE("an image without a QR code is QR_NOT_FOUND") {
    image::Gray blank;
    blank.width = blank.height = 200;
    blank.pixels.assign(200 * 200, 255);
    auto r = extract(image::encode_png(blank), "blank.png");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].error.code == ErrorCode::QR_NOT_FOUND);
    CHECK(r.errors[0].input == "blank.png");
}

TEST_CASE("image dimensions over the cap are IMAGE_TOO_LARGE before decoding") {
    // A PNG header claiming 20000x20000 pixels: refused from the header alone.
    image::Gray tiny;
    tiny.width = tiny.height = 1;
    tiny.pixels = {0};
    std::string png = image::encode_png(tiny);
    auto put32 = [&](size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i) png[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
    };
    put32(16, 20000);
    put32(20, 20000);
    auto r = image::decode_gray(png);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::IMAGE_TOO_LARGE);
}

TEST_CASE("a card's position follows the first input it came from") {
    auto r = input::extract_cards({{"a", kJws}, {"b", "shc:/5676"}, {"c", kJws}});
    REQUIRE(r.cards.size() == 3);
    CHECK(r.cards[0].origins[0] == "a");
    CHECK(r.cards[1].origins[0] == "b");
    CHECK(r.cards[2].origins[0] == "c");
}
