#include <doctest/doctest.h>

#include "shcx/trust/local_issuers.h"
#include "support.h"

using namespace shcx;

namespace {
std::string demo_jwks() { return test::read_file(test::testdata_dir() / "issuer/jwks.json"); }
const std::string kDemo = "https://issuer.shcx.example/demo";
}  // namespace

TEST_CASE("add, replace, read back and remove a local issuer") {
    test::TempDir dir;
    std::string store = (dir / "store").string();  // created on first add
    CHECK(trust_store::read_local_issuers(store).value().empty());
    REQUIRE_FALSE(trust_store::add_local_issuer(store, kDemo, "Demo", demo_jwks()).has_value());
    REQUIRE_FALSE(trust_store::add_local_issuer(store, "https://other.example", "", demo_jwks()).has_value());
    auto issuers = trust_store::read_local_issuers(store).value();
    REQUIRE(issuers.size() == 2);
    CHECK(issuers[0].iss == kDemo);
    CHECK(issuers[0].name == "Demo");
    CHECK(issuers[0].source == "local");
    CHECK(issuers[0].keys.size() == 1);
    // Adding the same iss again replaces it.
    REQUIRE_FALSE(trust_store::add_local_issuer(store, kDemo, "Renamed", demo_jwks()).has_value());
    issuers = trust_store::read_local_issuers(store).value();
    REQUIRE(issuers.size() == 2);
    CHECK(issuers[1].name == "Renamed");

    CHECK(trust_store::remove_local_issuer(store, kDemo).value() == true);
    CHECK(trust_store::remove_local_issuer(store, kDemo).value() == false);
    issuers = trust_store::read_local_issuers(store).value();
    REQUIRE(issuers.size() == 1);
    CHECK(issuers[0].iss == "https://other.example");
}

TEST_CASE("refused issuers leave the list as it was") {
    test::TempDir dir;
    std::string store = dir.path().string();
    REQUIRE_FALSE(trust_store::add_local_issuer(store, kDemo, "", demo_jwks()).has_value());
    auto before = test::read_file(dir / "local_issuers.json");
    CHECK(trust_store::add_local_issuer(store, "https://x.example/", "", demo_jwks())->code ==
          ErrorCode::ISSUER_URL_INVALID);
    CHECK(trust_store::add_local_issuer(store, "http://x.example", "", demo_jwks())->code ==
          ErrorCode::ISSUER_URL_INVALID);
    CHECK(trust_store::add_local_issuer(store, "https://x.example", "", R"({"keys":[]})")->code ==
          ErrorCode::KEY_INVALID);
    CHECK(trust_store::add_local_issuer(store, "https://x.example", "", "nonsense")->code == ErrorCode::KEY_INVALID);
    std::string bad_kid = demo_jwks();
    bad_kid[bad_kid.find("\"kid\":\"") + 7] = 'Z';  // the thumbprint no longer matches
    CHECK(trust_store::add_local_issuer(store, "https://x.example", "", bad_kid)->code == ErrorCode::KEY_KID_MISMATCH);
    CHECK(test::read_file(dir / "local_issuers.json") == before);
}

TEST_CASE("a damaged list is an error and is never overwritten") {
    test::TempDir dir;
    std::string store = dir.path().string();
    test::write_file(dir / "local_issuers.json", "{ not json");
    CHECK(trust_store::read_local_issuers(store).error().code == ErrorCode::IO_ERROR);
    CHECK(trust_store::add_local_issuer(store, kDemo, "", demo_jwks())->code == ErrorCode::IO_ERROR);
    CHECK(trust_store::remove_local_issuer(store, kDemo).error().code == ErrorCode::IO_ERROR);
    CHECK(test::read_file(dir / "local_issuers.json") == "{ not json");
}
