// `shcx keygen` and `shcx issue` end to end, and the committed testdata cards: every one
// round-trips, and every QR image is read to the same text by an independent reader
// (zbarimg from Debian's zbar-tools).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "shcx/issue/qr_write.h"
#include "shcx/jose/jws.h"
#include "shcx/read/numeric.h"
#include "support.h"

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

const std::vector<std::string> kBundles = {"covid-three-doses", "lab-result", "two-people", "large-history"};
std::string key_path() { return (testdata_dir() / "issuer/key.jwk").string(); }
std::string bundle_path(const std::string& name) { return (testdata_dir() / "bundles" / (name + ".json")).string(); }

json decoded_doc(const std::vector<std::string>& inputs) {
    std::vector<std::string> args{"decode", "--json"};
    args.insert(args.end(), inputs.begin(), inputs.end());
    auto r = run_shcx(args);
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    auto doc = json::parse(r.out);
    REQUIRE(doc["results"].size() == 1);
    return doc["results"][0];
}

json bundle_of(const std::vector<std::string>& inputs) {
    return decoded_doc(inputs)["payload"]["vc"]["credentialSubject"]["fhirBundle"];
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (!l.empty()) out.push_back(l);
    return out;
}

bool have_zbarimg() { return run_program({"sh", "-c", "command -v zbarimg"}).code == 0; }

}  // namespace

TEST_CASE("keygen writes a 0600 private JWK whose kid is its RFC 7638 thumbprint") {
    TempDir tmp;
    auto key = tmp / "k.jwk", jwks = tmp / "jwks.json";
    auto r = run_shcx({"keygen", "--out", key.string(), "--jwks-out", jwks.string()});
    REQUIRE(r.code == 0);
    struct stat st {};
    REQUIRE(stat(key.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto priv = json::parse(read_file(key));
    CHECK(priv["kty"] == "EC");
    CHECK(priv["crv"] == "P-256");
    CHECK(priv["alg"] == "ES256");
    CHECK(priv["use"] == "sig");
    CHECK(priv.contains("d"));
    std::string kid = priv["kid"];
    CHECK(kid == jose::ec_thumbprint("P-256", priv["x"].get<std::string>(), priv["y"].get<std::string>()));
    CHECK(r.out == kid + "\n");
    auto pub = json::parse(read_file(jwks));
    REQUIRE(pub["keys"].size() == 1);
    CHECK_FALSE(pub["keys"][0].contains("d"));
    CHECK(jose::check_issuer_key(jose::parse_jwk(pub["keys"][0].dump()).value()).empty());

    auto again = run_shcx({"keygen", "--out", key.string()});
    CHECK(again.code == 2);
    CHECK(contains(again.err, "already exists"));
    CHECK(json::parse(read_file(key)) == priv);  // untouched
    CHECK(run_shcx({"keygen", "--out", key.string(), "--force"}).code == 0);
    CHECK(json::parse(read_file(key))["d"] != priv["d"]);
}

TEST_CASE("keygen without --out prints the private JWK") {
    auto r = run_shcx({"keygen"});
    REQUIRE(r.code == 0);
    CHECK(jose::PrivateKey::from_jwk_json(r.out).ok());
}

TEST_CASE("issue -> decode round trip for every testdata bundle, in every output form") {
    TempDir tmp;
    for (const auto& name : kBundles) {
        CAPTURE(name);
        auto base = (tmp / name).string();
        auto r = run_shcx({"issue",     bundle_path(name),
                           "--key",     key_path(),
                           "--iss",     "https://issuer.example/x",
                           "--nbf",     "2026-02-01T00:00:00Z",
                           "--exp",     "2027-02-01T00:00:00Z",
                           "--rid",     "rid-" + name.substr(0, 5),
                           "--out",     base + ".smart-health-card",
                           "--numeric", base + ".txt",
                           "--qr",      base + ".png",
                           "--qr",      base + ".svg"});
        REQUIRE(r.code == 0);
        CHECK(r.out.empty());
        auto want = json::parse(read_file(bundle_path(name)));
        CHECK(bundle_of({base + ".smart-health-card"}) == want);
        CHECK(bundle_of({base + ".txt"}) == want);
        auto texts = lines_of(read_file(base + ".txt"));
        if (texts.size() == 1) {
            CHECK(bundle_of({base + ".png"}) == want);
            CHECK(read_file(base + ".svg").rfind("<svg", 0) == 0);
        } else {
            std::vector<std::string> pngs;
            for (size_t i = texts.size(); i >= 1; --i) pngs.push_back(base + "-" + std::to_string(i) + ".png");
            CHECK(bundle_of(pngs) == want);
        }
        auto card = decoded_doc({base + ".smart-health-card"});
        CHECK(card["card"]["nbf"] == "2026-02-01T00:00:00Z");
        CHECK(card["card"]["exp"] == "2027-02-01T00:00:00Z");
        CHECK(card["card"]["rid"] == "rid-" + name.substr(0, 5));
        CHECK(card["issuer"]["iss"] == "https://issuer.example/x");
        CHECK(card["payload"]["nbf"] == 1769904000);
        CHECK(card["warnings"].empty());
    }
}

TEST_CASE("the large card is chunked into QR codes of version at most 22") {
    TempDir tmp;
    auto r = run_shcx({"issue", bundle_path("large-history"), "--key", key_path(), "--iss", "https://issuer.example",
                       "--numeric", (tmp / "big.txt").string()});
    REQUIRE(r.code == 0);
    auto texts = lines_of(read_file(tmp / "big.txt"));
    REQUIRE(texts.size() == 2);
    CHECK(texts[0].rfind("shc:/1/2/", 0) == 0);
    CHECK(texts[1].rfind("shc:/2/2/", 0) == 0);
    for (const auto& t : texts) {
        auto sym = qr_write::encode(t);
        REQUIRE(sym.ok());
        CHECK(sym.value().version <= 22);
        CHECK(numeric::parse_qr_text(t).value().jws_part.size() <= numeric::kMaxChunkJws);
    }
}

TEST_CASE("committed testdata cards decode from every form to their source bundles") {
    auto cards = testdata_dir() / "cards";
    for (const auto& name : kBundles) {
        CAPTURE(name);
        auto want = json::parse(read_file(bundle_path(name)));
        auto base = (cards / name).string();
        CHECK(bundle_of({base + ".smart-health-card"}) == want);
        CHECK(bundle_of({base + ".txt"}) == want);
        if (fs::exists(base + ".png")) {
            CHECK(bundle_of({base + ".png"}) == want);
        } else {
            CHECK(bundle_of({base + "-2.png", base + "-1.png"}) == want);
            CHECK(bundle_of({base + "-sheet.png"}) == want);  // both chunks in one image
        }
    }
}

TEST_CASE("an independent QR reader (zbarimg) reads every testdata QR image to the same text") {
    REQUIRE_MESSAGE(have_zbarimg(), "zbarimg missing: install zbar-tools (scripts/install-deps.sh does)");
    auto cards = testdata_dir() / "cards";
    int images = 0;
    for (const auto& name : kBundles) {
        auto texts = lines_of(read_file(cards / (name + ".txt")));
        std::vector<std::pair<fs::path, std::vector<std::string>>> expected;
        if (texts.size() == 1) {
            expected.push_back({cards / (name + ".png"), texts});
        } else {
            for (size_t i = 0; i < texts.size(); ++i)
                expected.push_back({cards / (name + "-" + std::to_string(i + 1) + ".png"), {texts[i]}});
            expected.push_back({cards / (name + "-sheet.png"), texts});
        }
        for (const auto& entry : expected) {  // no structured binding: clang 14's CAPTURE cannot take one
            const auto& png = entry.first;
            const auto& want = entry.second;
            CAPTURE(png);
            auto r = run_program({"zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", png.string()});
            CHECK(r.code == 0);
            auto got = lines_of(r.out);
            std::sort(got.begin(), got.end());
            auto sorted_want = want;
            std::sort(sorted_want.begin(), sorted_want.end());
            CHECK(got == sorted_want);
            ++images;
        }
    }
    CHECK(images == 6);
}

TEST_CASE("issue refuses bad arguments with exit 2 and writes nothing") {
    TempDir tmp;
    auto out = (tmp / "x.smart-health-card").string();
    write_file(tmp / "notbundle.json", R"({"resourceType":"Patient"})");
    write_file(tmp / "badkey.jwk", R"({"kty":"EC","crv":"P-256"})");
    struct Case {
        std::vector<std::string> args;
        std::string message;
    } cases[] = {
        {{"issue", bundle_path("lab-result"), "--key", key_path(), "--iss", "https://issuer.example/", "--out", out},
         "--iss: ISSUER_URL_INVALID: iss must be an https:// URL"},
        {{"issue", bundle_path("lab-result"), "--key", key_path(), "--iss", "http://issuer.example", "--out", out},
         "--iss: ISSUER_URL_INVALID: iss must be an https:// URL"},
        {{"issue", bundle_path("lab-result"), "--key", key_path(), "--iss", "https://i.example", "--rid",
          std::string(25, 'a'), "--out", out},
         "--rid: RID_INVALID: rid must be"},
        {{"issue", (tmp / "notbundle.json").string(), "--key", key_path(), "--iss", "https://i.example", "--out", out},
         "notbundle.json: CARD_SCHEMA_INVALID: not a FHIR Bundle"},
        {{"issue", bundle_path("lab-result"), "--key", (tmp / "badkey.jwk").string(), "--iss", "https://i.example",
          "--out", out},
         "badkey.jwk"},
        {{"issue", bundle_path("lab-result"), "--key", key_path(), "--iss", "https://i.example", "--nbf", "soon",
          "--out", out},
         "--nbf: USAGE: not an RFC 3339 time"},
        {{"issue", bundle_path("lab-result"), "--iss", "https://i.example"}, "--key is required"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.message);
        auto r = run_shcx(c.args);
        CHECK(r.code == 2);
        CHECK(contains(r.err, c.message));
        CHECK_FALSE(fs::exists(out));
    }
}
