#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "shcx/trust/trust.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;

namespace {
std::string vci_file(const std::string& f) { return test::read_file(test::vectors_dir() / "vci" / f); }
}  // namespace

TEST_CASE("CRL parsing: X and X.T entries, ctr as number or string") {
    auto crl = trust::parse_crl(R"({"kid":"k1","method":"rid","ctr":"3","rids":["abc","def.1664492124"]})", "t");
    REQUIRE(crl.ok());
    CHECK(crl.value().ctr == 3);
    REQUIRE(crl.value().entries.size() == 2);
    CHECK(crl.value().entries[0].rid == "abc");
    CHECK_FALSE(crl.value().entries[0].before.has_value());
    CHECK(crl.value().entries[1].rid == "def");
    CHECK(crl.value().entries[1].before.value() == 1664492124.0);
}

TEST_CASE("bad CRLs are CRL_INVALID") {
    for (const char* bad : {R"({"method":"rid","ctr":1,"rids":[]})",                     // no kid
                            R"({"kid":"k","method":"hash","ctr":1,"rids":[]})",          // unknown method
                            R"({"kid":"k","method":"rid","ctr":"x","rids":[]})",         // ctr not an integer
                            R"({"kid":"k","method":"rid","ctr":1})",                     // no rids
                            R"({"kid":"k","method":"rid","ctr":1,"rids":["a","a"]})",    // duplicate rid
                            R"({"kid":"k","method":"rid","ctr":1,"rids":["a","a.5"]})",  // duplicate rid (with time)
                            R"({"kid":"k","method":"rid","ctr":1,"rids":["aaaaaaaaaaaaaaaaaaaaaaaaa"]})",  // 25 chars
                            R"({"kid":"k","method":"rid","ctr":1,"rids":["a+b"]})",    // not base64url
                            R"({"kid":"k","method":"rid","ctr":1,"rids":["a.12x"]})",  // bad timestamp
                            R"({"kid":"k","method":"rid","ctr":1,"rids":["a."]})",     // empty timestamp
                            R"({"kid":"k","method":"rid","ctr":1,"rids":[5]})",        // not a string
                            R"(not json)"}) {
        CAPTURE(bad);
        CHECK(trust::parse_crl(bad, "t").error().code == ErrorCode::CRL_INVALID);
    }
}

TEST_CASE("the real VCI snapshot loads with its quirks" * doctest::test_suite("conformance")) {
    auto snap = trust::parse_vci_snapshot(vci_file("vci_snapshot.json"), "vci");
    REQUIRE(snap.ok());
    CHECK(snap.value().time == "2026-08-22T04:43:50Z");
    CHECK(snap.value().issuers.size() == 651);
    CHECK(snap.value().crls.size() == 6);  // 3 issuers: 3 + 2 + 1 keys with CRLs
    CHECK(snap.value().warnings.empty());
    trust::TrustStore store;
    store.add_snapshot(std::move(snap.value()));
    // ctr and crlVersion stored as the string "1".
    auto nt = store.find("https://www.hss.gov.nt.ca/covax", "8C-9TNgyGuOqc-3FXyNRq6m5U9S1wyhCS1TvpgjzkoU");
    REQUIRE(nt.keys.size() == 1);
    CHECK(nt.keys[0]->crl_version == 1L);
    CHECK(store.find_crl("https://www.hss.gov.nt.ca/covax", "8C-9TNgyGuOqc-3FXyNRq6m5U9S1wyhCS1TvpgjzkoU")->ctr == 1);
    auto qc = store.find_crl("https://covid19.quebec.ca/PreuveVaccinaleApi/issuer",
                             "sZ5ca2a73SgPl7aC9v4PyA4cR5zk9A6BhHX8I2CVNwM");
    REQUIRE(qc);
    CHECK(qc->ctr == 69);
    CHECK(qc->entries.size() == 771);
}

TEST_CASE("trust binds (iss, kid): a kid shared by many issuers is not trusted under another iss" *
          doctest::test_suite("conformance")) {
    auto snap = trust::parse_vci_snapshot(vci_file("vci_snapshot.json"), "vci").value();
    trust::TrustStore store;
    store.add_snapshot(std::move(snap));
    const std::string ca = "https://myvaccinerecord.cdph.ca.gov/creds";
    auto found = store.find(ca, "7JvktUpf1_9NPwdM-70FJT3YdyTiSe2IvmVxxgDSRb0");
    REQUIRE(found.issuer);
    CHECK(found.issuer->name == "State of California");
    REQUIRE(found.keys.size() == 1);
    CHECK(jose::check_issuer_key(*found.keys[0]).empty());
    // The same kid under another trusted issuer: issuer known, key not.
    auto other = store.find("https://healthcardcert.lawallet.com", "7JvktUpf1_9NPwdM-70FJT3YdyTiSe2IvmVxxgDSRb0");
    CHECK(other.issuer != nullptr);
    CHECK(other.keys.empty());
    // A kid listed under 161 issuers is still bound to each of them only.
    auto shared = store.find("https://example.org/not-an-issuer", "MhFC5Nju-gakQX0lGUbkOrPzkeWSNb-iW0pHNiYERio");
    CHECK(shared.issuer == nullptr);
    CHECK(shared.keys.empty());
}

TEST_CASE("repeated kids are kept") {
    std::string jwks = R"({"keys":[{"kty":"EC","kid":"a","x":"1","y":"2"},{"kty":"EC","kid":"a","x":"3","y":"4"}]})";
    auto issuer = trust::issuer_from_jwks(jwks, "https://i.example", "t").value();
    trust::TrustStore store;
    store.add_issuer(issuer);
    CHECK(store.find("https://i.example", "a").keys.size() == 2);
}
