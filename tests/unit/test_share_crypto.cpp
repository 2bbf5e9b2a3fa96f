// Share crypto helpers against Wycheproof (AES-GCM, HKDF-SHA256, HMAC-SHA256), and the
// PIN and JWE rules of docs/share-protocol.md.
#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "shcx/share/crypto.h"
#include "support.h"

using namespace shcx;
using namespace shcx::share;
using nlohmann::json;

namespace {
json wycheproof(const std::string& name) {
    return json::parse(test::read_file(test::vectors_dir() / "wycheproof" / name));
}
}  // namespace

TEST_CASE("Wycheproof AES-GCM: every case with a 128-bit tag and a non-empty IV" * doctest::test_suite("conformance")) {
    auto doc = wycheproof("aes_gcm_test.json");
    int checked = 0, valid = 0, long_iv = 0;
    for (const auto& g : doc["testGroups"]) {
        if (g["tagSize"] != 128) continue;  // our GCM always uses 16-byte tags
        for (const auto& t : g["tests"]) {
            std::string key = test::unhex(t["key"]), iv = test::unhex(t["iv"]), aad = test::unhex(t["aad"]),
                        msg = test::unhex(t["msg"]);
            std::string ct_tag = test::unhex(t["ct"]) + test::unhex(t["tag"]);
            CAPTURE(t["tcId"].get<int>());
            if (iv.empty()) {
                CHECK(t["result"] == "invalid");  // an empty nonce can never be valid
                CHECK_FALSE(aes_gcm_open(key, iv, aad, ct_tag).has_value());
                ++checked;
                continue;
            }
            if (iv.size() > 128) {
                // OpenSSL 3 refuses GCM IVs over 128 bytes: such input is refused, never
                // mis-decrypted. Shares only ever use 12-byte nonces.
                CHECK_FALSE(aes_gcm_open(key, iv, aad, ct_tag).has_value());
                ++long_iv;
                continue;
            }
            auto opened = aes_gcm_open(key, iv, aad, ct_tag);
            if (t["result"] == "valid") {
                REQUIRE(opened.has_value());
                CHECK(*opened == msg);
                CHECK(aes_gcm_seal(key, iv, aad, msg) == ct_tag);
                ++valid;
            } else {
                CHECK_FALSE(opened.has_value());
            }
            ++checked;
        }
    }
    CHECK(checked + long_iv == doc["numberOfTests"].get<int>());
    CHECK(long_iv == 3);
    CHECK(valid > 200);
}

TEST_CASE("Wycheproof HKDF-SHA256" * doctest::test_suite("conformance")) {
    auto doc = wycheproof("hkdf_sha256_test.json");
    int checked = 0;
    for (const auto& g : doc["testGroups"])
        for (const auto& t : g["tests"]) {
            CAPTURE(t["tcId"].get<int>());
            auto okm = hkdf_sha256(test::unhex(t["ikm"]), test::unhex(t["salt"]), test::unhex(t["info"]),
                                   t["size"].get<size_t>());
            if (t["result"] == "valid") {
                REQUIRE(okm.has_value());
                CHECK(*okm == test::unhex(t["okm"]));
            } else {
                CHECK_FALSE(okm.has_value());  // the invalid cases ask for more than 255*32 bytes
            }
            ++checked;
        }
    CHECK(checked == doc["numberOfTests"].get<int>());
}

TEST_CASE("Wycheproof HMAC-SHA256 (tags truncated to tagSize)" * doctest::test_suite("conformance")) {
    auto doc = wycheproof("hmac_sha256_test.json");
    int checked = 0;
    for (const auto& g : doc["testGroups"]) {
        size_t tag_bytes = g["tagSize"].get<size_t>() / 8;
        for (const auto& t : g["tests"]) {
            CAPTURE(t["tcId"].get<int>());
            std::string mac = hmac_sha256(test::unhex(t["key"]), test::unhex(t["msg"])).substr(0, tag_bytes);
            CHECK(constant_time_equal(mac, test::unhex(t["tag"])) == (t["result"] == "valid"));
            ++checked;
        }
    }
    CHECK(checked == doc["numberOfTests"].get<int>());
}

TEST_CASE("PINs: 8 characters of Crockford base32, every character used, no visible bias") {
    std::map<char, int> counts;
    std::set<std::string> seen;
    for (int i = 0; i < 4000; ++i) {
        auto pin = generate_pin();
        REQUIRE(pin.str().size() == 8);
        for (char c : pin.str()) {
            CHECK(std::string_view("0123456789ABCDEFGHJKMNPQRSTVWXYZ").find(c) != std::string_view::npos);
            ++counts[c];
        }
        seen.insert(pin.str());
    }
    CHECK(seen.size() == 4000);
    CHECK(counts.size() == 32);  // never I, L, O or U
    for (char never : {'I', 'L', 'O', 'U'}) CHECK(counts.count(never) == 0);
    // 32000 draws over 32 symbols: expect 1000 each (sigma ~31). A biased draw (say
    // modulo 36 folded onto 32) would push some symbols ~12% off; the band is > 6 sigma.
    for (const auto& entry : counts) {  // no structured binding: clang 14's CAPTURE cannot take one
        char c = entry.first;
        int n = entry.second;
        CAPTURE(c);
        CHECK(n > 800);
        CHECK(n < 1200);
    }
}

TEST_CASE("PIN input is normalised: case, spaces, dashes, O as 0, I and L as 1, U and others malformed") {
    CHECK(normalise_pin("ab12 cd34")->str() == "AB12CD34");
    CHECK(normalise_pin("AB12-CD34")->str() == "AB12CD34");
    CHECK(normalise_pin(" ab12\tcd34 ")->str() == "AB12CD34");
    CHECK(normalise_pin("oOiI-lL01")->str() == "00111101");
    CHECK_FALSE(normalise_pin("AB12CD3U").has_value());
    CHECK_FALSE(normalise_pin("AB12CD3u").has_value());
    CHECK_FALSE(normalise_pin("AB12CD3").has_value());
    CHECK_FALSE(normalise_pin("AB12CD345").has_value());
    CHECK_FALSE(normalise_pin("AB12CD3!").has_value());
    CHECK_FALSE(normalise_pin("AB12CD3\xC3\x9C").has_value());
    CHECK_FALSE(normalise_pin("").has_value());
    CHECK_FALSE(normalise_pin("--------").has_value());
    CHECK_FALSE(normalise_pin(std::string(1000, 'A')).has_value());
    CHECK(format_pin("AB12CD34") == "AB12-CD34");
    // Every generated PIN survives being read back in its shown form, in lower case.
    for (int i = 0; i < 200; ++i) {
        auto pin = generate_pin();
        std::string typed = format_pin(pin.str());
        for (auto& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        REQUIRE(normalise_pin(typed).has_value());
        CHECK(normalise_pin(typed)->str() == pin.str());
    }
}

TEST_CASE("JWE dir/A256GCM round trip, wrong key, tampering and malformed input fail") {
    std::string key = random_bytes(32);
    std::string jwe = jwe_encrypt(key, "hello record", "text/plain");
    auto parts = std::count(jwe.begin(), jwe.end(), '.');
    CHECK(parts == 4);
    CHECK(jwe.find("..") != std::string::npos);  // empty encrypted key for "dir"
    auto back = jwe_decrypt(key, jwe);
    REQUIRE(back.ok());
    CHECK(back.value().plaintext == "hello record");
    CHECK(back.value().content_type == "text/plain");
    CHECK(jwe_decrypt(random_bytes(32), jwe).error().code == ErrorCode::SHARE_DECRYPT_FAILED);
    std::string tampered = jwe;
    tampered[tampered.size() - 30] = tampered[tampered.size() - 30] == 'A' ? 'B' : 'A';
    CHECK(jwe_decrypt(key, tampered).error().code == ErrorCode::SHARE_DECRYPT_FAILED);
    CHECK(jwe_decrypt(key, "a.b.c").error().code == ErrorCode::SHARE_DECRYPT_FAILED);
    CHECK(jwe_decrypt(key, jwe + ".x").error().code == ErrorCode::SHARE_DECRYPT_FAILED);
}

TEST_CASE("KDF parameters are stored with each share and parsed strictly") {
    KdfParams p;
    auto back = KdfParams::decode(p.encode());
    REQUIRE(back.has_value());
    CHECK(back->m_cost_kib == p.m_cost_kib);
    CHECK(back->t_cost == p.t_cost);
    CHECK_FALSE(KdfParams::decode("argon2id$t=0$m=19456$p=1").has_value());
    CHECK_FALSE(KdfParams::decode("scrypt$N=1").has_value());
    CHECK(argon2id("PIN12345", "saltsaltsaltsalt", {1, 64, 1}).str().size() == 32);
}
