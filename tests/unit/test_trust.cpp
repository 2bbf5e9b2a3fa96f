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

namespace {
// An IssuerSource over a fixed list, counting what is asked of it.
class ListSource : public trust::IssuerSource {
public:
    explicit ListSource(std::vector<trust::Issuer> issuers) : m_issuers(std::move(issuers)) {}
    size_t size() const override { return m_issuers.size(); }
    bool contains(std::string_view iss) const override { return at(iss) != nullptr; }
    const trust::Issuer* find(std::string_view iss) const override {
        ++finds;
        return at(iss);
    }
    std::vector<trust::Issuer> all() const override {
        ++alls;
        return m_issuers;
    }
    mutable int finds = 0, alls = 0;

private:
    const trust::Issuer* at(std::string_view iss) const {
        for (const auto& i : m_issuers)
            if (i.iss == iss) return &i;
        return nullptr;
    }
    std::vector<trust::Issuer> m_issuers;
};

trust::Issuer issuer(const std::string& iss, const std::string& name, std::vector<std::string> kids) {
    trust::Issuer i;
    i.iss = iss;
    i.name = name;
    i.source = "vci";
    for (const auto& kid : kids) {
        jose::Jwk k;
        k.kid = kid;
        i.keys.push_back(k);
    }
    return i;
}
}  // namespace

TEST_CASE("a trust store with an issuer source looks issuers up in it, and builds them all only when asked") {
    auto source = std::make_shared<ListSource>(std::vector<trust::Issuer>{
        issuer("https://a.example", "A", {"a1", "a2"}), issuer("https://b.example", "B", {"b1"})});
    trust::TrustStore store;
    store.add_issuers(source);
    CHECK_FALSE(store.empty());
    auto m = store.find("https://a.example", "a2");
    REQUIRE(m.issuer != nullptr);
    CHECK(m.issuer->name == "A");
    REQUIRE(m.keys.size() == 1);
    CHECK(m.keys[0]->kid == "a2");
    CHECK(store.find("https://a.example", "b1").keys.empty());  // trust binds (iss, kid)
    CHECK(store.find("https://c.example", "a1").issuer == nullptr);
    CHECK(store.find("", "a1").issuer == nullptr);  // the empty iss is never looked up in a source
    CHECK(source->alls == 0);

    // Issuers added later come after the source's, and an unrelated one leaves it lazy.
    store.add_issuer(issuer("https://c.example", "C", {"c1"}));
    CHECK(store.find("https://c.example", "c1").keys.size() == 1);
    CHECK(source->alls == 0);
    const auto& all = store.issuers();
    REQUIRE(all.size() == 3);
    CHECK(all[0].iss == "https://a.example");
    CHECK(all[1].iss == "https://b.example");
    CHECK(all[2].iss == "https://c.example");
    CHECK(&store.issuers() == &all);  // built once
    CHECK(source->alls == 1);

    SUBCASE("an issuer with a source's iss is merged into it, as add_issuer merges") {
        store.add_issuer(issuer("https://b.example", "local B", {"b2"}));
        auto b = store.find("https://b.example", "b2");
        REQUIRE(b.issuer != nullptr);
        CHECK(b.issuer->name == "B");
        CHECK(b.issuer->keys.size() == 2);
        REQUIRE(store.issuers().size() == 3);
        CHECK(store.issuers()[1].iss == "https://b.example");
        CHECK(store.issuers()[2].iss == "https://c.example");
    }
    SUBCASE("keys vouched for under any iss still match a source's issuer after its own keys") {
        trust::Issuer any = issuer("", "", {"w1"});
        any.source = "--jwks w.json";
        store.add_issuer(any);
        auto w = store.find("https://a.example", "w1");
        REQUIRE(w.issuer != nullptr);
        CHECK(w.issuer->source == "--jwks w.json");
        CHECK(store.find("https://a.example", "a1").issuer->name == "A");
    }
    SUBCASE("a second source is built in full after what is there") {
        store.add_issuers(std::make_shared<ListSource>(std::vector<trust::Issuer>{
            issuer("https://a.example", "", {"a3"}), issuer("https://d.example", "D", {"d1"})}));
        CHECK(store.find("https://a.example", "a3").keys.size() == 1);
        CHECK(store.find("https://a.example", "a1").keys.size() == 1);
        CHECK(store.find("https://d.example", "d1").issuer->name == "D");
        CHECK(store.issuers().size() == 4);
    }
}

TEST_CASE("a trust store with an empty issuer source is empty") {
    trust::TrustStore store;
    store.add_issuers(std::make_shared<ListSource>(std::vector<trust::Issuer>{}));
    CHECK(store.empty());
    CHECK(store.issuers().empty());
    store.add_issuers(nullptr);
    CHECK(store.empty());
}
