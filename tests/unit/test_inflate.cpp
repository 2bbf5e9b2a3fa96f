#include <doctest/doctest.h>
#include <zlib.h>

#include "shcx/card/inflate.h"

using namespace shcx;

namespace {
std::string zlib_wrapped(const std::string& data) {
    uLongf len = compressBound(static_cast<uLong>(data.size()));
    std::string out(len, '\0');
    compress2(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(data.data()),
              static_cast<uLong>(data.size()), 9);
    out.resize(len);
    return out;
}
}  // namespace

TEST_CASE("raw DEFLATE round trip") {
    std::string text = "{\"iss\":\"https://example.org\",\"nbf\":1}";
    auto packed = inflate::deflate_raw(text).value();
    CHECK(packed.size() > 0);
    CHECK(inflate::inflate_raw(packed).value() == text);
    CHECK(inflate::inflate_raw(inflate::deflate_raw("").value()).value() == "");
}

TEST_CASE("zlib-wrapped, truncated and padded streams are PAYLOAD_NOT_DEFLATED") {
    std::string text(500, 'x');
    CHECK(inflate::inflate_raw(zlib_wrapped(text)).error().code == ErrorCode::PAYLOAD_NOT_DEFLATED);
    auto packed = inflate::deflate_raw(text).value();
    CHECK(inflate::inflate_raw(packed.substr(0, packed.size() - 2)).error().code == ErrorCode::PAYLOAD_NOT_DEFLATED);
    CHECK(inflate::inflate_raw(packed + "junk").error().code == ErrorCode::PAYLOAD_NOT_DEFLATED);
    CHECK(inflate::inflate_raw("").error().code == ErrorCode::PAYLOAD_NOT_DEFLATED);
    CHECK(inflate::inflate_raw("{\"plain\":\"json\"}").error().code == ErrorCode::PAYLOAD_NOT_DEFLATED);
}

TEST_CASE("inflation stops at the output cap (decompression bomb)") {
    std::string exactly(inflate::kDefaultMaxOutput, ' ');
    auto packed = inflate::deflate_raw(exactly).value();
    CHECK(packed.size() < 2000);                                                       // a tiny input ...
    CHECK(inflate::inflate_raw(packed).value().size() == inflate::kDefaultMaxOutput);  // at the cap: fine
    auto bomb = inflate::deflate_raw(exactly + " ").value();
    auto r = inflate::inflate_raw(bomb);  // one byte past the cap
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::PAYLOAD_TOO_LARGE);
    auto big = inflate::deflate_raw(std::string(64u << 20, 'a')).value();  // 64 MiB
    CHECK(inflate::inflate_raw(big).error().code == ErrorCode::PAYLOAD_TOO_LARGE);
}
