// lib/shcx/trust/x5c with the spec example key that carries a three-certificate chain
// (leaf valid 2021-06-01 to 2022-06-01, SAN URI the example issuer).
#include <doctest/doctest.h>

#include "shcx/jose/jwk.h"
#include "shcx/trust/x5c.h"
#include "support.h"

using namespace shcx;

namespace {
const std::string kIss = "https://spec.smarthealth.cards/examples/issuer";
const double kJan2022 = 1640995200;  // inside the leaf's validity
const double kJan2023 = 1672531200;  // after it

std::vector<jose::Jwk> example_keys() {
    return jose::parse_jwks(test::read_file(test::spec_examples() / "issuer/.well-known/jwks.json")).value();
}
std::string pem(const std::string& b64) {
    std::string out = "-----BEGIN CERTIFICATE-----\n";
    for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
    return out + "-----END CERTIFICATE-----\n";
}
bool mentions(const std::vector<Error>& errors, const std::string& text) {
    for (const auto& e : errors)
        if (e.code == ErrorCode::X5C_INVALID && test::contains(e.message, text)) return true;
    return false;
}
}  // namespace

TEST_CASE("a key without x5c has nothing to check" * doctest::test_suite("conformance")) {
    auto keys = example_keys();
    REQUIRE(keys[0].x5c.empty());
    CHECK(x5c::check(keys[0], kIss, kJan2022, {}).empty());
}

TEST_CASE("the example chain: leaf checks without anchors, the whole chain with the root as anchor" *
          doctest::test_suite("conformance")) {
    auto key = example_keys()[1];
    REQUIRE(key.x5c.size() == 3);
    CHECK(x5c::check(key, kIss, kJan2022, {}).empty());
    CHECK(x5c::check(key, kIss, kJan2022, {pem(key.x5c[2])}).empty());
    CHECK(x5c::check(key, kIss, kJan2022, {pem(key.x5c[2]) + pem(key.x5c[1])}).empty());
}

TEST_CASE("each x5c rule fails on its own" * doctest::test_suite("conformance")) {
    auto keys = example_keys();
    auto key = keys[1];
    CHECK(mentions(x5c::check(key, "https://other.example", kJan2022, {}), "subjectAltName"));
    CHECK(mentions(x5c::check(key, kIss, kJan2023, {}), "not valid at"));
    auto other_key = key;
    other_key.x = keys[0].x;
    other_key.y = keys[0].y;
    CHECK(mentions(x5c::check(other_key, kIss, kJan2022, {}), "not the JWK's key"));
    auto vci_crt = test::read_file(test::vectors_dir() / "vci/vci_snapshot.crt");
    CHECK(mentions(x5c::check(key, kIss, kJan2022, {vci_crt}), "does not verify to a configured anchor"));
    auto broken = key;
    broken.x5c[0] = "AAAA" + broken.x5c[0].substr(4);
    auto errors = x5c::check(broken, kIss, kJan2022, {});
    REQUIRE(errors.size() == 1);
    CHECK(mentions(errors, "cannot be decoded"));
}
