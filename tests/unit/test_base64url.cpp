#include <doctest/doctest.h>

#include "shcx/base64url.h"

using namespace shcx;

TEST_CASE("base64url round-trips every length and byte value") {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (size_t n = 0; n <= all.size(); n += 7) {
        auto enc = base64url::encode(all.substr(0, n));
        CHECK(enc.find('=') == std::string::npos);
        REQUIRE(base64url::decode(enc).has_value());
        CHECK(*base64url::decode(enc) == all.substr(0, n));
    }
}

TEST_CASE("base64url known vectors (RFC 4648 §10, url alphabet, no padding)") {
    CHECK(base64url::encode("f") == "Zg");
    CHECK(base64url::encode("fo") == "Zm8");
    CHECK(base64url::encode("foo") == "Zm9v");
    CHECK(base64url::encode("\xfb\xff") == "-_8");
}

TEST_CASE("base64url decoding is strict") {
    CHECK_FALSE(base64url::decode("Zg==").has_value());   // padding
    CHECK_FALSE(base64url::decode("Zm9v+").has_value());  // standard alphabet
    CHECK_FALSE(base64url::decode("Zm 9v").has_value());  // whitespace
    CHECK_FALSE(base64url::decode("Z").has_value());      // 1 mod 4
    CHECK_FALSE(base64url::decode("Zh").has_value());     // non-zero trailing bits
    CHECK(base64url::decode("").value() == "");
}
