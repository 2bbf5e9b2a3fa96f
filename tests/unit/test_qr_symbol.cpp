// What a QR symbol says about itself (qr_symbol.h): the data-codeword table against
// libqrencode, versions and segments read back from real symbols (the spec's, ours, and
// ones made wrong on purpose), and mirrored / inverted images.
#include <doctest/doctest.h>
#include <qrencode.h>

#include <memory>

#include "card_maker.h"
#include "shcx/issue/qr_write.h"
#include "shcx/read/input.h"
#include "shcx/read/numeric.h"
#include "shcx/read/qr_read.h"
#include "shcx/read/qr_symbol.h"
#include "support.h"

using namespace shcx;

namespace {

using Code = std::unique_ptr<QRcode, void (*)(QRcode*)>;

// A symbol made by libqrencode from the given segments at `level`, as a PNG.
std::string png_of(const std::vector<std::pair<QRencodeMode, std::string>>& segments, QRecLevel level = QR_ECLEVEL_L,
                   int* version = nullptr) {
    std::unique_ptr<QRinput, void (*)(QRinput*)> in(QRinput_new2(0, level), QRinput_free);
    for (const auto& [mode, data] : segments)
        REQUIRE(QRinput_append(in.get(), mode, int(data.size()), reinterpret_cast<const unsigned char*>(data.data())) ==
                0);
    Code code(QRcode_encodeInput(in.get()), QRcode_free);
    REQUIRE(code);
    if (version) *version = code->version;
    qr_write::Symbol s;
    s.version = code->version;
    s.width = code->width;
    for (int i = 0; i < code->width * code->width; ++i) s.modules.push_back(code->data[i] & 1);
    return qr_write::render_png({s}, 4);
}

std::vector<qr_read::Symbol> symbols_in(const std::string& png) {
    return qr_read::read_qr_symbols(image::decode_gray(png).value());
}

}  // namespace

TEST_CASE("the data-codeword table matches libqrencode's byte capacity for every version and level") {
    const std::pair<char, QRecLevel> levels[] = {
        {'L', QR_ECLEVEL_L}, {'M', QR_ECLEVEL_M}, {'Q', QR_ECLEVEL_Q}, {'H', QR_ECLEVEL_H}};
    for (int v = 1; v <= 40; ++v)
        for (auto entry : levels) {  // no structured binding: clang 14's CAPTURE cannot take one
            char name = entry.first;
            QRecLevel level = entry.second;
            CAPTURE(v);
            CAPTURE(name);
            int d = qr_symbol::data_codewords(v, name);
            // Byte mode: 4-bit mode, 8- or 16-bit count, 8 bits a byte.
            int count_bits = v <= 9 ? 8 : 16;
            int fits = (8 * d - 4 - count_bits) / 8;
            auto version_for = [&](int bytes) {
                std::string data(static_cast<size_t>(bytes), 'x');
                Code code(QRcode_encodeString8bit(data.c_str(), 0, level), QRcode_free);
                return code ? code->version : 41;
            };
            CHECK(version_for(fits) <= v);
            CHECK(version_for(fits + 1) > v);
            CHECK(qr_symbol::version_for_codewords(static_cast<size_t>(d), name) == v);
        }
    CHECK(qr_symbol::data_codewords(0, 'L') == 0);
    CHECK(qr_symbol::data_codewords(41, 'L') == 0);
    CHECK(qr_symbol::data_codewords(1, 'X') == 0);
    CHECK(qr_symbol::version_for_codewords(20, 'L') == 0);
}

TEST_CASE("the spec's QR images are read as two segments, byte shc:/ then numeric, with their version" *
          doctest::test_suite("conformance")) {
    struct Want {
        const char* png;
        const char* numeric;
        size_t header;
    };
    for (auto w : {Want{"example-00-g-qr-code-0.png", "example-00-f-qr-code-numeric-value-0.txt", 5},
                   Want{"example-02-g-qr-code-0.png", "example-02-f-qr-code-numeric-value-0.txt", 9}}) {
        CAPTURE(w.png);
        auto syms = symbols_in(test::read_file(test::spec_examples() / w.png));
        REQUIRE(syms.size() == 1);
        std::string text = test::read_file(test::spec_examples() / w.numeric);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        CHECK(syms[0].text == text);
        CHECK(syms[0].ec_level == "L");
        auto r = qr_symbol::read(syms[0].data_codewords, syms[0].ec_level);
        CHECK(r.version > 0);
        CHECK(r.version <= 22);
        CHECK(r.version == qr_write::version_for(text).value());  // libqrencode would choose the same
        REQUIRE(r.segments);
        REQUIRE(r.segments->size() == 2);
        CHECK((*r.segments)[0].mode == qr_symbol::Mode::Byte);
        CHECK((*r.segments)[0].count == w.header);
        CHECK((*r.segments)[1].mode == qr_symbol::Mode::Numeric);
        CHECK((*r.segments)[1].count == text.size() - w.header);
    }
}

TEST_CASE("segments and version of symbols made other ways") {
    std::string text = "shc:/" + numeric::encode_digits("eyJhbGciOiJFUzI1NiJ9.e30.AAAA");
    // One byte segment for everything (a generic QR library's default).
    auto one = symbols_in(png_of({{QR_MODE_8, text}}, QR_ECLEVEL_M));
    REQUIRE(one.size() == 1);
    CHECK(one[0].ec_level == "M");
    auto r = qr_symbol::read(one[0].data_codewords, one[0].ec_level);
    REQUIRE(r.segments);
    REQUIRE(r.segments->size() == 1);
    CHECK((*r.segments)[0].mode == qr_symbol::Mode::Byte);
    CHECK((*r.segments)[0].count == text.size());
    // Three segments: byte "shc:/", numeric, then a stray alphanumeric tail.
    auto three = symbols_in(png_of({{QR_MODE_8, "shc:/"}, {QR_MODE_NUM, text.substr(5)}, {QR_MODE_AN, "AB"}}));
    REQUIRE(three.size() == 1);
    auto r3 = qr_symbol::read(three[0].data_codewords, three[0].ec_level);
    REQUIRE(r3.segments);
    REQUIRE(r3.segments->size() == 3);
    CHECK((*r3.segments)[2].mode == qr_symbol::Mode::Alphanumeric);
    CHECK((*r3.segments)[2].count == 2);
    // A version 25 symbol (too big for a card) is read as version 25.
    int made = 0;
    auto big = symbols_in(png_of({{QR_MODE_8, "shc:/"}, {QR_MODE_NUM, std::string(2800, '5')}}, QR_ECLEVEL_L, &made));
    REQUIRE(big.size() == 1);
    CHECK(made > 22);
    CHECK(qr_symbol::read(big[0].data_codewords, big[0].ec_level).version == made);
    // A bit stream cut short does not parse.
    CHECK_FALSE(qr_symbol::parse_segments(std::string("\x40\xF0", 2), 1));  // byte mode, 15 bytes announced, none there
    CHECK(qr_symbol::parse_segments(std::string(19, '\0'), 1)->empty());    // terminator first
}

TEST_CASE("mirrored and colour-inverted QR images are read" * doctest::test_suite("conformance")) {
    struct Source {
        std::string png, name;
    };
    std::vector<Source> sources{
        {test::read_file(test::testdata_dir() / "cards/covid-three-doses.png"), "covid-three-doses"},
        {test::read_file(test::spec_examples() / "example-00-g-qr-code-0.png"), "spec example-00"}};
    for (const auto& src : sources) {
        auto plain = input::extract_cards({{"plain.png", src.png}});
        REQUIRE(plain.cards.size() == 1);
        for (auto flips : {std::pair{true, false}, std::pair{false, true}, std::pair{true, true}}) {
            bool mirror = flips.first, invert = flips.second;  // not a structured binding: CAPTURE (clang 14)
            CAPTURE(src.name);
            CAPTURE(mirror);
            CAPTURE(invert);
            std::string png = test::transformed_png(src.png, mirror, invert);
            auto syms = symbols_in(png);
            REQUIRE(syms.size() == 1);
            CHECK(syms[0].mirrored == mirror);
            CHECK(syms[0].inverted == invert);
            auto x = input::extract_cards({{"t.png", png}});
            CHECK(x.errors.empty());
            REQUIRE(x.cards.size() == 1);
            CHECK(x.cards[0].jws == plain.cards[0].jws);
        }
    }
    // The sheet with both chunks of a card, mirrored: both symbols, one card.
    auto sheet =
        test::transformed_png(test::read_file(test::testdata_dir() / "cards/large-history-sheet.png"), true, true);
    auto x = input::extract_cards({{"sheet.png", sheet}});
    CHECK(x.errors.empty());
    REQUIRE(x.cards.size() == 1);
    CHECK(x.cards[0].chunks == 2);
}
