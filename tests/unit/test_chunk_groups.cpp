// Chunk grouping per card (chunk_groups.h): complete sets in one input stand alone, loose
// chunks are joined only as far as it can be shown, exact copies count once, and what is
// left is reported naming the inputs.
#include <doctest/doctest.h>

#include <algorithm>

#include "shcx/read/chunk_groups.h"
#include "shcx/read/numeric.h"

using namespace shcx;
using chunk_groups::Piece;

namespace {

// A JWS-shaped string (two dots) of `n` characters, distinct per `seed`.
std::string fake_jws(size_t n, char seed) {
    std::string s(n, seed);
    s[n / 3] = '.';
    s[2 * n / 3] = '.';
    return s;
}

std::vector<numeric::Chunk> chunks_of(const std::string& jws) {
    std::vector<numeric::Chunk> out;
    for (const auto& t : numeric::qr_texts_for_jws(jws)) out.push_back(numeric::parse_qr_text(t).value());
    return out;
}

// A proof that knows which JWS are real cards.
chunk_groups::Proof known(std::vector<std::string> cards) {
    return [cards = std::move(cards)](std::string_view jws) {
        return std::find(cards.begin(), cards.end(), std::string(jws)) != cards.end();
    };
}

std::vector<std::string> jws_of(const chunk_groups::Grouping& g) {
    std::vector<std::string> out;
    for (const auto& c : g.cards) out.push_back(c.jws);
    return out;
}

}  // namespace

TEST_CASE("chunks reassemble in any order") {
    std::string jws = fake_jws(3000, 'a');
    auto c = chunks_of(jws);
    REQUIRE(c.size() == 3);
    std::vector<int> order{0, 1, 2};
    do {
        std::vector<Piece> pieces;
        for (int i : order) pieces.push_back({c[size_t(i)], "chunk" + std::to_string(i + 1), size_t(i)});
        auto g = chunk_groups::group(pieces);
        REQUIRE(g.problems.empty());
        REQUIRE(g.cards.size() == 1);
        CHECK(g.cards[0].jws == jws);
        CHECK(g.cards[0].chunks == 3);
        // pieces in chunk order 1..3, whatever the input order
        for (size_t k = 0; k < 3; ++k) CHECK(pieces[g.cards[0].pieces[k]].chunk.index == int(k) + 1);
    } while (std::next_permutation(order.begin(), order.end()));
}

TEST_CASE("two multi-chunk cards with the same chunk count are told apart by the proof") {
    std::string a = fake_jws(2000, 'a'), b = fake_jws(2000, 'b');
    auto ca = chunks_of(a), cb = chunks_of(b);
    REQUIRE(ca.size() == 2);
    // Interleaved, one chunk per input, b's chunk 1 first: a forced choice does not exist.
    std::vector<Piece> pieces{{cb[0], "b1.png", 0}, {ca[0], "a1.png", 1}, {ca[1], "a2.png", 2}, {cb[1], "b2.png", 3}};
    auto g = chunk_groups::group(pieces, {known({a, b})});
    CHECK(g.problems.empty());
    CHECK(jws_of(g) == std::vector<std::string>{b, a});  // in order of their first input
    // Only one of them is provable (the other issuer is unknown): the rest is then forced.
    auto only_a = chunk_groups::group(pieces, {known({a})});
    CHECK(only_a.problems.empty());
    CHECK(jws_of(only_a) == std::vector<std::string>{b, a});
}

TEST_CASE("with no proof that decides, chunks that cannot be told apart are QR_CHUNK_DUPLICATE naming the inputs") {
    std::string a = fake_jws(2000, 'a'), b = fake_jws(2000, 'b');
    auto ca = chunks_of(a), cb = chunks_of(b);
    std::vector<Piece> pieces{{ca[0], "a1.png", 0}, {cb[0], "b1.png", 1}, {ca[1], "a2.png", 2}, {cb[1], "b2.png", 3}};
    auto g = chunk_groups::group(pieces, {known({})});
    CHECK(g.cards.empty());
    REQUIRE(g.problems.size() == 1);
    CHECK(g.problems[0].error.code == ErrorCode::QR_CHUNK_DUPLICATE);
    CHECK(g.problems[0].inputs == "a1.png, b1.png, a2.png, b2.png");
    CHECK(g.problems[0].error.message ==
          "chunk 1 (a1.png, b1.png), 2 (a2.png, b2.png) of a 2-chunk card differ, and no combination assembles into a "
          "card that verifies or decodes");
}

TEST_CASE("a complete set in one input stands alone beside loose copies of the same card") {
    std::string jws = fake_jws(2000, 'h');
    auto c = chunks_of(jws);
    // testdata/cards: large-history-1.png, large-history-2.png and a sheet holding both.
    std::vector<Piece> pieces{{c[0], "large-history-1.png", 0},
                              {c[1], "large-history-2.png", 1},
                              {c[0], "large-history-sheet.png#qr1", 2},
                              {c[1], "large-history-sheet.png#qr2", 2}};
    auto g = chunk_groups::group(pieces);
    CHECK(g.problems.empty());
    REQUIRE(g.cards.size() == 1);
    CHECK(g.cards[0].jws == jws);
    CHECK(g.cards[0].pieces == std::vector<size_t>{0, 1});
    CHECK(g.cards[0].duplicates == std::vector<size_t>{2, 3});
}

TEST_CASE("a sheet holding two cards' chunks, and a sheet plus another card's loose chunks") {
    std::string a = fake_jws(2000, 'a'), b = fake_jws(2000, 'b');
    auto ca = chunks_of(a), cb = chunks_of(b);
    std::vector<Piece> sheet{
        {ca[0], "sheet#qr1", 0}, {cb[0], "sheet#qr2", 0}, {cb[1], "sheet#qr3", 0}, {ca[1], "sheet#qr4", 0}};
    auto g = chunk_groups::group(sheet, {known({a, b})});
    CHECK(g.problems.empty());
    CHECK(jws_of(g) == std::vector<std::string>{a, b});

    std::vector<Piece> mixed{
        {ca[0], "a.png#qr1", 0}, {ca[1], "a.png#qr2", 0}, {cb[1], "b2.png", 1}, {cb[0], "b1.png", 2}};
    auto m = chunk_groups::group(mixed);  // no proof needed: a is complete in a.png, b is forced
    CHECK(m.problems.empty());
    CHECK(jws_of(m) == std::vector<std::string>{a, b});
}

TEST_CASE("missing chunks are QR_CHUNK_MISSING with what is there and where") {
    std::string jws = fake_jws(3000, 'q');
    auto c = chunks_of(jws);
    auto g = chunk_groups::group({{c[0], "one.png", 0}, {c[2], "three.png", 1}});
    CHECK(g.cards.empty());
    REQUIRE(g.problems.size() == 1);
    CHECK(g.problems[0].error.code == ErrorCode::QR_CHUNK_MISSING);
    CHECK(g.problems[0].error.message == "missing chunk 2 of a 3-chunk card; have chunk 1 (one.png), 3 (three.png)");
    CHECK(g.problems[0].inputs == "one.png, three.png");

    // Two cards, one chunk of the second lost: the first still verifies on its own.
    std::string b = fake_jws(3000, 'r');
    auto cb = chunks_of(b);
    auto two = chunk_groups::group(
        {{c[0], "a1", 0}, {c[1], "a2", 1}, {c[2], "a3", 2}, {cb[0], "b1", 3}, {cb[2], "b3", 4}}, {known({jws, b})});
    CHECK(jws_of(two) == std::vector<std::string>{jws});
    REQUIRE(two.problems.size() == 1);
    CHECK(two.problems[0].error.code == ErrorCode::QR_CHUNK_MISSING);
    CHECK(two.problems[0].inputs == "b1, b3");
}

TEST_CASE("exact copies count once, a different chunk with the same index is not a copy") {
    std::string jws = fake_jws(2000, 'x');
    auto c = chunks_of(jws);
    auto g = chunk_groups::group({{c[0], "1.png", 0}, {c[0], "1-copy.png", 1}, {c[1], "2.png", 2}});
    CHECK(g.problems.empty());
    REQUIRE(g.cards.size() == 1);
    CHECK(g.cards[0].duplicates == std::vector<size_t>{1});

    auto tampered = c[0];
    tampered.jws_part[5] = tampered.jws_part[5] == 'A' ? 'B' : 'A';
    for (bool tampered_first : {false, true}) {
        CAPTURE(tampered_first);
        std::vector<Piece> pieces{{c[0], "1.png", 0}, {tampered, "1-tampered.png", 1}, {c[1], "2.png", 2}};
        if (tampered_first) std::swap(pieces[0], pieces[1]);
        auto t = chunk_groups::group(pieces, {known({jws})});
        CHECK(jws_of(t) == std::vector<std::string>{jws});
        // The tampered copy is a chunk without a card: reported, not silently dropped.
        REQUIRE(t.problems.size() == 1);
        CHECK(t.problems[0].error.code == ErrorCode::QR_CHUNK_MISSING);
        CHECK(t.problems[0].inputs == "1-tampered.png");
    }
}

TEST_CASE("the combinations tried are bounded") {
    // 11 cards of 3 chunks with the same N, nothing provable: 11^3 > kMaxCombinations.
    std::vector<Piece> pieces;
    for (char seed = 'a'; seed < 'a' + 11; ++seed) {
        auto c = chunks_of(fake_jws(3000, seed));
        for (size_t k = 0; k < c.size(); ++k)
            pieces.push_back({c[k], std::string(1, seed) + std::to_string(k), pieces.size()});
    }
    size_t calls = 0;
    auto g = chunk_groups::group(pieces, {[&](std::string_view) {
                                     ++calls;
                                     return false;
                                 }});
    CHECK(calls <= chunk_groups::kMaxCombinations);
    CHECK(g.cards.empty());
    REQUIRE(g.problems.size() == 1);
    CHECK(g.problems[0].error.code == ErrorCode::QR_CHUNK_DUPLICATE);
}
