#include <doctest/doctest.h>

#include <algorithm>

#include "shcx/read/numeric.h"

using namespace shcx;

TEST_CASE("numeric encoding maps each character to ord(c)-45") {
    CHECK(numeric::encode_digits("-.0AZ_az") == "0001032045505277");
    CHECK(numeric::decode_digits("0001032045505277").value() == "-.0AZ_az");
}

TEST_CASE("every valid digit pair decodes, every other pair is QR_NUMERIC_INVALID") {
    for (int v = 0; v < 100; ++v) {
        std::string pair = {char('0' + v / 10), char('0' + v % 10)};
        bool valid = v == 0 || v == 1 || (v >= 3 && v <= 12) || (v >= 20 && v <= 45) || v == 50 || (v >= 52 && v <= 77);
        auto r = numeric::decode_digits(pair);
        CAPTURE(pair);
        CHECK(r.ok() == valid);
        if (!valid) CHECK(r.error().code == ErrorCode::QR_NUMERIC_INVALID);
    }
}

TEST_CASE("odd digit counts and non-digits are QR_NUMERIC_INVALID") {
    CHECK(numeric::decode_digits("567").error().code == ErrorCode::QR_NUMERIC_INVALID);
    CHECK(numeric::decode_digits("56a7").error().code == ErrorCode::QR_NUMERIC_INVALID);
    CHECK(numeric::decode_digits("").error().code == ErrorCode::QR_NUMERIC_INVALID);
}

TEST_CASE("QR text headers") {
    auto single = numeric::parse_qr_text("shc:/5676");
    REQUIRE(single.ok());
    CHECK(single.value().index == 1);
    CHECK(single.value().total == 1);
    CHECK(single.value().jws_part == "ey");

    auto chunk = numeric::parse_qr_text("shc:/2/3/5676");
    REQUIRE(chunk.ok());
    CHECK(chunk.value().index == 2);
    CHECK(chunk.value().total == 3);

    CHECK(numeric::parse_qr_text("https://x/5676").error().code == ErrorCode::QR_HEADER_INVALID);
    CHECK(numeric::parse_qr_text("shc:/2/5676").error().code == ErrorCode::QR_HEADER_INVALID);
    CHECK(numeric::parse_qr_text("shc:/a/3/5676").error().code == ErrorCode::QR_HEADER_INVALID);
    CHECK(numeric::parse_qr_text("shc:/01/3/5676").error().code == ErrorCode::QR_HEADER_INVALID);
    // 1/1/ is a producer error on a whole card: read as unchunked, flagged for a warning.
    auto one_of_one = numeric::parse_qr_text("shc:/1/1/5676");
    REQUIRE(one_of_one.ok());
    CHECK(one_of_one.value().total == 1);
    CHECK(one_of_one.value().unneeded_header);
    CHECK(one_of_one.value().jws_part == "ey");
    CHECK_FALSE(numeric::parse_qr_text("shc:/5676").value().unneeded_header);
    CHECK(numeric::parse_qr_text("shc:/0/1/5676").error().code == ErrorCode::QR_CHUNK_INDEX_INVALID);
    CHECK(numeric::parse_qr_text("shc:/2/1/5676").error().code == ErrorCode::QR_CHUNK_INDEX_INVALID);
    CHECK(numeric::parse_qr_text("shc:/4/3/5676").error().code == ErrorCode::QR_CHUNK_INDEX_INVALID);
    CHECK(numeric::parse_qr_text("shc:/0/3/5676").error().code == ErrorCode::QR_CHUNK_INDEX_INVALID);
    CHECK(numeric::parse_qr_text("shc:/1/100/5676").error().code == ErrorCode::QR_CHUNK_INDEX_INVALID);
}

TEST_CASE("JWS up to 1195 characters fits one QR, longer ones are split evenly") {
    std::string jws(1195, 'a');
    CHECK(numeric::qr_texts_for_jws(jws).size() == 1);
    jws += 'b';
    auto texts = numeric::qr_texts_for_jws(jws);
    REQUIRE(texts.size() == 2);
    CHECK(texts[0].substr(0, 9) == "shc:/1/2/");
    CHECK(texts[1].substr(0, 9) == "shc:/2/2/");
    std::string big(3173, 'x');  // example-02's length: three chunks
    auto three = numeric::qr_texts_for_jws(big);
    REQUIRE(three.size() == 3);
    for (const auto& t : three) CHECK(numeric::parse_qr_text(t).value().jws_part.size() <= numeric::kMaxChunkJws);
}
