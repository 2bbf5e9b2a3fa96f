#include <doctest/doctest.h>

#include "shcx/digest.h"
#include "support.h"

using namespace shcx;

TEST_CASE("SHA-256 known answers (FIPS 180-2)") {
    CHECK(digest::hex(digest::sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(digest::hex(digest::sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(digest::hex(digest::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(digest::sha256("abc").size() == digest::kSha256Bytes);
    std::string with_nul("a\0b", 3);
    CHECK(digest::sha256(with_nul) != digest::sha256("ab"));  // every byte counts
}

TEST_CASE("hex: lower by default, upper with a separator for fingerprints") {
    std::string bytes("\x00\x0a\xff\x10", 4);
    CHECK(digest::hex(bytes) == "000aff10");
    CHECK(digest::hex(bytes, digest::HexCase::Upper) == "000AFF10");
    CHECK(digest::hex(bytes, digest::HexCase::Upper, ":") == "00:0A:FF:10");
    CHECK(digest::hex("") == "");
    CHECK(digest::hex("\x7f", digest::HexCase::Lower, ":") == "7f");  // no separator for one byte
    CHECK(test::unhex(digest::hex(bytes)) == bytes);
}
