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
    CHECK(numeric::parse_qr_text("shc:/1/1/5676").error().code == ErrorCode::QR_CHUNK_INDEX_INVALID);
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

namespace {
std::vector<numeric::SourcedChunk> chunks_of(const std::string& jws) {
    std::vector<numeric::SourcedChunk> out;
    int n = 0;
    for (const auto& t : numeric::qr_texts_for_jws(jws))
        out.push_back({numeric::parse_qr_text(t).value(), "chunk" + std::to_string(++n)});
    return out;
}
}  // namespace

TEST_CASE("chunks reassemble in any order") {
    std::string jws;
    for (int i = 0; i < 3000; ++i) jws += static_cast<char>('a' + i % 26);
    auto chunks = chunks_of(jws);
    REQUIRE(chunks.size() == 3);
    std::vector<int> order{0, 1, 2};
    do {
        std::vector<numeric::SourcedChunk> shuffled;
        for (int i : order) shuffled.push_back(chunks[static_cast<size_t>(i)]);
        auto r = numeric::assemble(shuffled);
        REQUIRE(r.errors.empty());
        REQUIRE(r.cards.size() == 1);
        CHECK(r.cards[0].jws == jws);
        CHECK(r.cards[0].chunks == 3);
        CHECK(r.cards[0].origins == std::vector<std::string>{"chunk1", "chunk2", "chunk3"});
    } while (std::next_permutation(order.begin(), order.end()));
}

TEST_CASE("missing and duplicate chunks are reported with their codes") {
    std::string jws(3000, 'q');
    auto chunks = chunks_of(jws);
    auto missing = numeric::assemble({chunks[0], chunks[2]});
    REQUIRE(missing.errors.size() == 1);
    CHECK(missing.errors[0].code == ErrorCode::QR_CHUNK_MISSING);
    CHECK(missing.errors[0].message == "missing chunk 2 of a 3-chunk card");
    CHECK(missing.cards.empty());

    auto dup = numeric::assemble({chunks[0], chunks[1], chunks[1], chunks[2]});
    REQUIRE(dup.errors.size() == 1);
    CHECK(dup.errors[0].code == ErrorCode::QR_CHUNK_DUPLICATE);
    CHECK(dup.cards.empty());
}

TEST_CASE("unchunked cards pass through assembly unchanged") {
    auto r = numeric::assemble({{numeric::parse_qr_text("shc:/5676").value(), "a"},
                                {numeric::parse_qr_text("shc:/5677").value(), "b"}});
    REQUIRE(r.cards.size() == 2);
    CHECK(r.cards[0].jws == "ey");
    CHECK(r.cards[1].jws == "ez");
}
