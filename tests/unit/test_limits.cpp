// Every explicit limit on untrusted input, at the limit and one past it, with its code.
// (Inflated payload size: test_inflate.cpp; HTTP payload cap and trust-sync download
// size: the CLI tests, over real HTTP.)
#include <doctest/doctest.h>

#include <zlib.h>

#include "shcx/card/card.h"
#include "shcx/detail/json.h"
#include "shcx/issue/qr_write.h"
#include "shcx/jose/jws.h"
#include "shcx/read/image.h"
#include "shcx/read/input.h"
#include "shcx/read/numeric.h"
#include "shcx/read/qr_read.h"
#include "shcx/share/api.h"
#include "support.h"

using namespace shcx;

namespace {
// A PNG whose header claims width x height, with pixel data for a 1x1 image.
std::string png_claiming(uint32_t width, uint32_t height) {
    image::Gray one;
    one.width = one.height = 1;
    one.pixels = {255};
    std::string png = image::encode_png(one);
    for (int i = 0; i < 4; ++i) {
        png[16 + i] = static_cast<char>((width >> (24 - 8 * i)) & 0xFF);
        png[20 + i] = static_cast<char>((height >> (24 - 8 * i)) & 0xFF);
    }
    // Fix the IHDR CRC so only the size is "wrong".
    uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(png.data() + 12), 17));
    for (int i = 0; i < 4; ++i) png[29 + i] = static_cast<char>((crc >> (24 - 8 * i)) & 0xFF);
    return png;
}
std::string row_of_qr_codes(int n) {
    std::vector<qr_write::Symbol> symbols;
    for (int i = 0; i < n; ++i)
        symbols.push_back(qr_write::encode("shc:/" + numeric::encode_digits("ey" + std::to_string(i))).value());
    return qr_write::render_png(symbols, 6);
}
}  // namespace

TEST_CASE("input files: 32 MiB is read, one byte more is INPUT_TOO_LARGE") {
    test::TempDir dir;
    test::write_file(dir / "at", std::string(input::kMaxInputBytes, 'x'));
    test::write_file(dir / "past", std::string(input::kMaxInputBytes + 1, 'x'));
    CHECK(input::read_input_file((dir / "at").string()).value().size() == input::kMaxInputBytes);
    CHECK(input::read_input_file((dir / "past").string()).error().code == ErrorCode::INPUT_TOO_LARGE);
}

TEST_CASE("image dimensions: 16384 pixels per side and 50 million in all") {
    image::Gray wide;
    wide.width = image::kMaxDimension;
    wide.height = 1;
    wide.pixels.assign(static_cast<size_t>(wide.width), 255);
    CHECK(image::decode_gray(image::encode_png(wide)).ok());
    CHECK(image::decode_gray(png_claiming(image::kMaxDimension + 1, 1)).error().code == ErrorCode::IMAGE_TOO_LARGE);
    // 7071^2 is just under 50 million: allowed past the size check (then the data is short).
    CHECK(image::decode_gray(png_claiming(7071, 7071)).error().code == ErrorCode::IMAGE_INVALID);
    CHECK(image::decode_gray(png_claiming(7072, 7072)).error().code == ErrorCode::IMAGE_TOO_LARGE);
}

TEST_CASE("QR codes per image: 12 are read, 13 are QR_TOO_MANY_SYMBOLS") {
    auto at = input::extract_cards({{"twelve.png", row_of_qr_codes(qr_read::kMaxSymbols)}});
    for (const auto& e : at.errors) MESSAGE(std::string(e.input + ": " + e.error.message));
    CHECK(at.errors.empty());
    CHECK(at.cards.size() == static_cast<size_t>(qr_read::kMaxSymbols));
    auto past = input::extract_cards({{"thirteen.png", row_of_qr_codes(qr_read::kMaxSymbols + 1)}});
    CHECK(past.cards.empty());
    REQUIRE(past.errors.size() == 1);
    CHECK(past.errors[0].error.code == ErrorCode::QR_TOO_MANY_SYMBOLS);
}

TEST_CASE("chunks per card: 99 reassemble, 100 is QR_CHUNK_INDEX_INVALID") {
    std::string jws, lines;
    for (int i = 1; i <= numeric::kMaxChunks; ++i) {
        std::string part = "ab" + std::to_string(i);
        jws += part;
        lines += "shc:/" + std::to_string(i) + "/99/" + numeric::encode_digits(part) + "\n";
    }
    auto r = input::extract_cards({{"chunks.txt", lines}});
    REQUIRE(r.errors.empty());
    REQUIRE(r.cards.size() == 1);
    CHECK(r.cards[0].jws == jws);
    CHECK(r.cards[0].chunks == 99);
    CHECK(numeric::parse_qr_text("shc:/1/100/5676").error().code == ErrorCode::QR_CHUNK_INDEX_INVALID);
}

TEST_CASE("JWS length: 2 MiB is parsed, one character more is JWS_TOO_LARGE") {
    std::string at = "eyJh." + std::string(jose::kMaxJwsLength - 10, 'A') + ".AAAA";
    REQUIRE(at.size() == jose::kMaxJwsLength);
    CHECK(jose::parse_compact(at).ok());
    CHECK(jose::parse_compact(at + "A").error().code == ErrorCode::JWS_TOO_LARGE);
}

TEST_CASE("JSON nesting: 64 levels parse, 65 are refused") {
    auto nested = [](int depth) {
        std::string inner(static_cast<size_t>(depth - 1), '[');
        inner += std::string(static_cast<size_t>(depth - 1), ']');
        return R"({"iss":"https://i.example","nbf":1,"x":)" + inner + "}";
    };
    CHECK(detail::json_depth_ok(nested(64)));
    CHECK_FALSE(detail::json_depth_ok(nested(65)));
    CHECK(card::parse_payload(nested(64)).ok());
    CHECK(card::parse_payload(nested(65)).error().code == ErrorCode::PAYLOAD_JSON_INVALID);
}

TEST_CASE("share request bodies: a 1 KiB reveal body is read, 1 KiB + 1 is 413, content up to 1.5 MiB") {
    struct Fixed final : share::Clock {
        double now() const override { return 1800000000.0; }
    } clock;
    test::TempDir dir;
    auto store = share::open_sqlite_store((dir / "s.db").string()).value();
    share::ServiceConfig cfg;
    cfg.pepper = std::string(32, 'p');
    cfg.kdf = {1, 64, 1};
    share::Service service(*store, clock, cfg);
    share::Api api(service, clock, "https://s.example", 1000);
    auto c = service.create(service.local_user(), "x", 1, 60).value();
    share::HttpRequest req{"POST",   "/s/" + c.sid, {}, "text/plain", "", std::string(share::kMaxRevealBody, 'a'),
                           "1.2.3.4"};
    CHECK(api.handle(req).status == 403);  // read, and not a PIN
    req.body += "a";
    CHECK(api.handle(req).status == 413);

    auto token = service.add_user("u").value();
    share::HttpRequest create{"POST",
                              "/api/v1/shares",
                              {},
                              "application/jose",
                              "Bearer " + token.str(),
                              std::string(share::kMaxContentBytes, 'j'),
                              "1.2.3.4"};
    CHECK(api.handle(create).status == 201);
    create.body += "j";
    auto past = api.handle(create);
    CHECK(past.status == 400);
    CHECK(test::contains(past.body, "1.5 MiB"));
}

TEST_CASE("fuzz finding: a PNG chunk declaring more bytes than the file holds is refused before decoding") {
    // fuzz_image found an 8.9 KB PNG whose second IDAT chunk declares 1 GiB; stb_image
    // reallocated to 2 GiB before noticing the data was missing.
    auto png = test::read_file(test::fs::path(SHCX_SOURCE_DIR) / "fuzz/regressions/image/png-idat-declares-1gib");
    auto r = image::decode_gray(png);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::IMAGE_INVALID);
    CHECK(test::contains(r.error().message, "PNG chunk declares 1073742470 bytes"));
}
