// shl/jwe: compact JWE dir + A256GCM. Round trips (with and without zip), every part
// tampered, every header rule, size caps and decompression bombs.
#include <doctest/doctest.h>

#include <vector>

#include "shcx/base64url.h"
#include "shcx/card/inflate.h"
#include "shcx/shl/jwe.h"
#include "support.h"

using namespace shcx;

namespace {

const std::string kKey(32, '\x11');
const std::string kOtherKey(32, '\x22');
const std::string kIv(12, '\x07');
const std::string kCard = R"({"verifiableCredential":["eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln"]})";

std::vector<std::string> split(const std::string& jwe) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t dot = jwe.find('.', start);
        parts.push_back(jwe.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) return parts;
        start = dot + 1;
    }
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? "." : "") + parts[i];
    return out;
}

// Flips one bit of the decoded part `index` and re-encodes it.
std::string flip(const std::string& jwe, size_t index, size_t byte = 0) {
    auto parts = split(jwe);
    auto raw = base64url::decode(parts[index]);
    REQUIRE(raw);
    REQUIRE(byte < raw->size());
    (*raw)[byte] ^= 0x01;
    parts[index] = base64url::encode(*raw);
    return join(parts);
}

std::string refusal(const std::string& jwe, const std::string& key = kKey) {
    auto r = shl::decrypt(jwe, key);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::SHL_DECRYPT_FAILED);
    return r.error().message;
}

const std::string kWrongKey = "the file does not decrypt with the link's key (another link's file, or modified)";

}  // namespace

TEST_CASE("shl: encrypt/decrypt round trip, with and without zip DEF") {
    for (bool deflate : {false, true}) {
        CAPTURE(deflate);
        std::string jwe = shl::encrypt(kCard, kKey, "application/smart-health-card", deflate);
        auto parts = split(jwe);
        REQUIRE(parts.size() == 5);
        CHECK(parts[1].empty());
        CHECK(base64url::decode(parts[2])->size() == 12);
        CHECK(base64url::decode(parts[4])->size() == 16);
        CHECK(*base64url::decode(parts[0]) ==
              std::string(R"({"alg":"dir","enc":"A256GCM","cty":"application/smart-health-card")") +
                  (deflate ? R"(,"zip":"DEF"})" : "}"));
        auto r = shl::decrypt(jwe, kKey);
        REQUIRE(r.ok());
        CHECK(r.value().plaintext.str() == kCard);
        CHECK(r.value().content_type == "application/smart-health-card");
        CHECK(r.value().deflated == deflate);
    }
    // A fresh IV every time: the same content never encrypts the same way twice.
    CHECK(shl::encrypt(kCard, kKey, "application/fhir+json") != shl::encrypt(kCard, kKey, "application/fhir+json"));
    // Empty content is still a JWE.
    auto empty = shl::decrypt(shl::encrypt("", kKey, "application/fhir+json"), kKey);
    REQUIRE(empty.ok());
    CHECK(empty.value().plaintext.str().empty());
}

TEST_CASE("shl: seal is deterministic for a given IV and uses the encoded header as AAD") {
    std::string header = R"({"alg":"dir","enc":"A256GCM","cty":"text/plain"})";
    std::string a = shl::seal(header, "hello", kKey, kIv), b = shl::seal(header, "hello", kKey, kIv);
    CHECK(a == b);
    CHECK(split(a)[0] == base64url::encode(header));
    CHECK(split(a)[2] == base64url::encode(kIv));
    CHECK(base64url::decode(split(a)[3])->size() == 5);
    CHECK_THROWS_AS(shl::seal(header, "x", kKey.substr(1), kIv), std::invalid_argument);
    CHECK_THROWS_AS(shl::seal(header, "x", kKey, kIv + "x"), std::invalid_argument);
    CHECK_THROWS_AS(shl::encrypt("x", "short", "text/plain"), std::invalid_argument);
}

TEST_CASE("shl: every part of the JWE is authenticated: one flipped bit anywhere fails") {
    std::string jwe = shl::encrypt(kCard, kKey, "application/smart-health-card");
    CHECK(refusal(jwe, kOtherKey) == kWrongKey);
    CHECK(refusal(flip(jwe, 2)) == kWrongKey);                    // IV
    CHECK(refusal(flip(jwe, 3)) == kWrongKey);                    // ciphertext, first byte
    CHECK(refusal(flip(jwe, 3, kCard.size() - 1)) == kWrongKey);  // ciphertext, last byte
    CHECK(refusal(flip(jwe, 4)) == kWrongKey);                    // tag
    CHECK(refusal(flip(jwe, 4, 15)) == kWrongKey);
    // The header is the AAD: the same header written differently no longer authenticates.
    auto parts = split(jwe);
    parts[0] = base64url::encode(R"({"enc":"A256GCM","alg":"dir","cty":"application/smart-health-card"})");
    CHECK(refusal(join(parts)) == kWrongKey);
    parts = split(jwe);
    parts[0] = base64url::encode(R"({"alg":"dir","enc":"A256GCM","cty":"application/fhir+json"})");
    CHECK(refusal(join(parts)) == kWrongKey);
    // An encrypted-key part where "dir" has none.
    parts = split(jwe);
    parts[1] = "AAAA";
    CHECK(refusal(join(parts)) == "a \"dir\" JWE has an empty encrypted-key part");
    CHECK(refusal(jwe, kKey.substr(0, 16)) == "the link's key is not 32 bytes");
}

TEST_CASE("shl: the compact form: five parts, base64url, 96-bit IV, 128-bit tag") {
    std::string jwe = shl::encrypt(kCard, kKey, "application/smart-health-card");
    auto parts = split(jwe);
    CHECK(refusal(parts[0] + ".." + parts[2] + "." + parts[3]) ==
          "not a compact JWE: it needs five parts separated by '.'");
    CHECK(refusal(jwe + ".x") == "not a compact JWE: more than five parts (a JWS or JSON serialisation?)");
    CHECK(refusal("{\"protected\":\"x\"}") == "not a compact JWE: it needs five parts separated by '.'");
    auto with_part = [&](size_t i, const std::string& value) {
        auto p = split(jwe);
        p[i] = value;
        return join(p);
    };
    CHECK(refusal(with_part(0, "e30=")) == "the JWE protected header is not base64url");
    CHECK(refusal(with_part(0, base64url::encode("[1]"))) == "the JWE protected header is not a JSON object");
    CHECK(refusal(with_part(0, std::string(4097, 'A'))) == "the JWE protected header is longer than 4096 characters");
    CHECK(refusal(with_part(2, base64url::encode(std::string(16, 'i')))) == "the JWE IV is not 96 bits of base64url");
    CHECK(refusal(with_part(2, "***")) == "the JWE IV is not 96 bits of base64url");
    CHECK(refusal(with_part(4, base64url::encode(std::string(12, 't')))) == "the JWE tag is not 128 bits of base64url");
    CHECK(refusal(with_part(3, "a+b")) == "the JWE ciphertext is not base64url");
}

TEST_CASE("shl: header rules: alg dir, enc A256GCM, a cty, zip DEF or nothing, no crit") {
    auto sealed = [](const std::string& header) { return shl::seal(header, "{}", kKey, kIv); };
    CHECK(refusal(sealed(R"({"alg":"A256KW","enc":"A256GCM","cty":"application/fhir+json"})")) ==
          "JWE alg must be \"dir\" (the link's key), not \"A256KW\"");
    CHECK(refusal(sealed(R"({"enc":"A256GCM","cty":"application/fhir+json"})")) ==
          "JWE alg must be \"dir\" (the link's key), not absent");
    CHECK(refusal(sealed(R"({"alg":"dir","enc":"A128GCM","cty":"application/fhir+json"})")) ==
          "JWE enc must be \"A256GCM\", not \"A128GCM\"");
    CHECK(refusal(sealed(R"({"alg":"dir","enc":"A256CBC-HS512","cty":"application/fhir+json"})")) ==
          "JWE enc must be \"A256GCM\", not \"A256CBC-HS512\"");
    CHECK(refusal(sealed(R"({"alg":"dir","cty":"application/fhir+json"})")) ==
          "JWE enc must be \"A256GCM\", not absent");
    CHECK(refusal(sealed(R"({"alg":"dir","enc":"A256GCM","cty":"application/fhir+json","crit":["x"],"x":1})")) ==
          "the JWE header has crit: no extension is understood");
    CHECK(refusal(sealed(R"({"alg":"dir","enc":"A256GCM"})")) == "the JWE header has no cty naming its content");
    CHECK(refusal(sealed(R"({"alg":"dir","enc":"A256GCM","cty":""})")) ==
          "the JWE header has no cty naming its content");
    CHECK(refusal(sealed(R"({"alg":"dir","enc":"A256GCM","cty":"application/fhir+json","zip":"GZIP"})")) ==
          "JWE zip must be \"DEF\" when present");
    CHECK(refusal(sealed(R"({"alg":"dir","enc":"A256GCM","cty":"application/fhir+json","zip":true})")) ==
          "JWE zip must be \"DEF\" when present");
    // Members the spec does not name are ignored.
    auto extra =
        shl::decrypt(sealed(R"({"alg":"dir","enc":"A256GCM","cty":"application/fhir+json","kid":"k1"})"), kKey);
    REQUIRE(extra.ok());
    CHECK(extra.value().plaintext.str() == "{}");
}

TEST_CASE("shl: zip DEF: the content must be one complete raw DEFLATE stream") {
    const std::string header = R"({"alg":"dir","enc":"A256GCM","cty":"application/fhir+json","zip":"DEF"})";
    const std::string expected = "zip is DEF but the content is not one complete raw DEFLATE stream";
    CHECK(refusal(shl::seal(header, "{\"not\":\"deflated\"}", kKey, kIv)) == expected);
    std::string deflated = inflate::deflate_raw(kCard).value();
    CHECK(refusal(shl::seal(header, deflated + "trailing", kKey, kIv)) == expected);
    CHECK(refusal(shl::seal(header, deflated.substr(0, deflated.size() / 2), kKey, kIv)) == expected);
    CHECK(refusal(shl::seal(header, "", kKey, kIv)) == expected);
    auto good = shl::decrypt(shl::seal(header, deflated, kKey, kIv), kKey);
    REQUIRE(good.ok());
    CHECK(good.value().plaintext.str() == kCard);
}

TEST_CASE("shl: size caps: exactly the cap passes, one byte more is SHL_TOO_LARGE, also after inflating") {
    std::string content(1000, 'x');
    auto at_cap = shl::decrypt(shl::encrypt(content, kKey, "application/fhir+json"), kKey, 1000);
    REQUIRE(at_cap.ok());
    CHECK(at_cap.value().plaintext.str().size() == 1000);
    auto over = shl::decrypt(shl::encrypt(content + "x", kKey, "application/fhir+json"), kKey, 1000);
    REQUIRE_FALSE(over.ok());
    CHECK(over.error().code == ErrorCode::SHL_TOO_LARGE);
    CHECK(over.error().message == "the file is larger than 1000 bytes");

    auto z_at_cap = shl::decrypt(shl::encrypt(content, kKey, "application/fhir+json", true), kKey, 1000);
    REQUIRE(z_at_cap.ok());
    CHECK(z_at_cap.value().plaintext.str() == content);
    auto z_over = shl::decrypt(shl::encrypt(content + "x", kKey, "application/fhir+json", true), kKey, 1000);
    REQUIRE_FALSE(z_over.ok());
    CHECK(z_over.error().code == ErrorCode::SHL_TOO_LARGE);
    CHECK(z_over.error().message == "the file inflates to more than 1000 bytes");

    // A bomb: 64 MiB of zeros deflate to about 64 KiB; the default cap stops it at 16 MiB.
    std::string bomb = shl::encrypt(std::string(64u << 20, '\0'), kKey, "application/fhir+json", true);
    CHECK(bomb.size() < (200u << 10));
    auto b = shl::decrypt(bomb, kKey);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code == ErrorCode::SHL_TOO_LARGE);
    CHECK(b.error().message == "the file inflates to more than 16777216 bytes");

    // Content that grows the inflate buffer several times still comes out whole.
    std::string big;
    for (int i = 0; big.size() < (3u << 20); ++i) big += std::to_string(i) + ",";
    auto grown = shl::decrypt(shl::encrypt(big, kKey, "application/fhir+json", true), kKey);
    REQUIRE(grown.ok());
    CHECK(grown.value().plaintext.str() == big);

    // A JWE far longer than any allowed content is refused before decoding.
    auto huge = shl::decrypt(std::string(2000, 'A'), kKey, 100);
    REQUIRE_FALSE(huge.ok());
    CHECK(huge.error().code == ErrorCode::SHL_DECRYPT_FAILED);  // 2000 < 100/3*4 + 64 KiB: parsed, then refused
    auto longer = shl::decrypt(std::string((64u << 10) + 200, 'A'), kKey, 100);
    REQUIRE_FALSE(longer.ok());
    CHECK(longer.error().code == ErrorCode::SHL_TOO_LARGE);
}

TEST_CASE("shl: inflate_raw_secret gives what inflate_raw gives, with the same codes") {
    std::string text;
    for (int i = 0; text.size() < 300000; ++i) text += "entry " + std::to_string(i) + "\n";
    std::string z = inflate::deflate_raw(text).value();
    std::string out = "stale";
    CHECK_FALSE(inflate::inflate_raw_secret(z, out, text.size()));
    CHECK(out == text);
    auto over = inflate::inflate_raw_secret(z, out, text.size() - 1);
    REQUIRE(over);
    CHECK(over->code == ErrorCode::PAYLOAD_TOO_LARGE);
    CHECK(out.empty());
    auto trailing = inflate::inflate_raw_secret(z + "x", out);
    REQUIRE(trailing);
    CHECK(trailing->code == ErrorCode::PAYLOAD_NOT_DEFLATED);
    CHECK(trailing->message == "1 bytes of trailing data after the DEFLATE stream");
    auto cut = inflate::inflate_raw_secret(z.substr(0, z.size() - 10), out, 1u << 20);
    REQUIRE(cut);
    CHECK(cut->code == ErrorCode::PAYLOAD_NOT_DEFLATED);
    CHECK(cut->message == "payload is not a complete raw DEFLATE stream");
    CHECK(out.empty());
}
