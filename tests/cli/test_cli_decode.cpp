// `shcx decode` end to end: every input form, exit codes, and one exact error code per
// kind of bad input.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "shcx/card/inflate.h"
#include "shcx/jose/jws.h"
#include "shcx/read/image.h"
#include "support.h"

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

std::string ex(const std::string& file) { return (spec_examples() / file).string(); }

json expected_payload(const std::string& n) {
    return json::parse(read_file(spec_examples() / ("example-" + n + "-c-jws-payload-minified.json")));
}

// Runs decode --json on the inputs and returns the one card's payload.
json payload_of(const std::vector<std::string>& inputs, const std::string& stdin_data = "") {
    std::vector<std::string> args{"decode", "--json"};
    args.insert(args.end(), inputs.begin(), inputs.end());
    auto r = run_shcx(args, stdin_data);
    CAPTURE(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.empty());
    auto doc = json::parse(r.out);
    CHECK(doc["signature_checked"] == false);
    REQUIRE(doc["results"].size() == 1);
    CHECK(doc["errors"].empty());
    return doc["results"][0]["payload"];
}

// The one error line decode printed, for a single bad input.
void expect_failure(const std::vector<std::string>& inputs, const std::string& code,
                    const std::string& stdin_data = "") {
    std::vector<std::string> args{"decode"};
    args.insert(args.end(), inputs.begin(), inputs.end());
    auto r = run_shcx(args, stdin_data);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("shcx: error: ", 0) == 0);
    CHECK(contains(r.err, ": " + code + ": "));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

// The spec files have no final newline; as lines of one text they need one.
std::string example02_line(int i) {
    return read_file(spec_examples() / ("example-02-f-qr-code-numeric-value-" + std::to_string(i) + ".txt")) + "\n";
}

std::string card(const std::string& name) { return (testdata_dir() / "cards" / name).string(); }

// Line i (from 0) of a testdata shc:/ text file, with its newline.
std::string card_line(const std::string& name, int i) {
    std::string text = read_file(card(name));
    size_t start = 0;
    for (; i > 0; --i) start = text.find('\n', start) + 1;
    return text.substr(start, text.find('\n', start) + 1 - start);
}

jose::PrivateKey test_key() {
    return jose::PrivateKey::from_jwk_json(read_file(testdata_dir() / "issuer/key.jwk")).value();
}

const std::string kHeader = R"({"zip":"DEF","alg":"ES256","kid":"x"})";

}  // namespace

TEST_CASE("spec examples 00, 01, 03 decode from JWS, file, numeric text and PNG" * doctest::test_suite("conformance")) {
    for (std::string n : {"00", "01", "03"}) {
        CAPTURE(n);
        auto want = expected_payload(n);
        CHECK(payload_of({ex("example-" + n + "-d-jws.txt")}) == want);
        CHECK(payload_of({ex("example-" + n + "-e-file.smart-health-card")}) == want);
        CHECK(payload_of({ex("example-" + n + "-f-qr-code-numeric-value-0.txt")}) == want);
        CHECK(payload_of({ex("example-" + n + "-g-qr-code-0.png")}) == want);
    }
}

TEST_CASE("example-02 decodes from its three PNGs in every order" * doctest::test_suite("conformance")) {
    auto want = expected_payload("02");
    std::vector<int> order{0, 1, 2};
    do {
        std::vector<std::string> files;
        for (int i : order) files.push_back(ex("example-02-g-qr-code-" + std::to_string(i) + ".png"));
        CAPTURE(files[0]);
        CHECK(payload_of(files) == want);
    } while (std::next_permutation(order.begin(), order.end()));
    CHECK(payload_of({ex("example-02-d-jws.txt")}) == want);
    CHECK(payload_of({ex("example-02-e-file.smart-health-card")}) == want);
}

// The spec publishes its QR codes as SVG only; scripts/fetch-vectors.sh renders them to
// PNG with scripts/render-qr-svg.py. Each rendering must read as the spec's own payload.
TEST_CASE("the spec's QR SVGs rendered by scripts/render-qr-svg.py decode to the spec payloads" *
          doctest::test_suite("conformance")) {
    TempDir tmp;
    auto render = [&](const std::string& n, int k) {
        std::string name = "example-" + n + "-g-qr-code-" + std::to_string(k);
        auto png = (tmp / (name + ".png")).string();
        auto r = run_program(
            {"python3", (testdata_dir().parent_path() / "scripts/render-qr-svg.py").string(), ex(name + ".svg"), png});
        CAPTURE(r.err);
        REQUIRE(r.code == 0);
        return png;
    };
    for (std::string n : {"00", "01", "03"}) {
        CAPTURE(n);
        CHECK(payload_of({render(n, 0)}) == expected_payload(n));
    }
    CHECK(payload_of({render("02", 2), render("02", 0), render("02", 1)}) == expected_payload("02"));
}

TEST_CASE("example-02 chunk texts arrive on stdin in any order" * doctest::test_suite("conformance")) {
    auto want = expected_payload("02");
    CHECK(payload_of({"-"}, example02_line(2) + example02_line(0) + example02_line(1)) == want);
    CHECK(payload_of({ex("example-02-f-qr-code-numeric-value-1.txt"), "-"}, example02_line(0) + example02_line(2)) ==
          want);
}

TEST_CASE("spec example bundles issued with the same claims decode to the spec payloads" *
          doctest::test_suite("conformance")) {
    TempDir tmp;
    for (std::string n : {"00", "01", "02", "03"}) {
        CAPTURE(n);
        auto want = expected_payload(n);
        std::vector<std::string> args{"issue", ex("example-" + n + "-a-fhirBundle.json"),
                                      "--key", (testdata_dir() / "issuer/key.jwk").string(),
                                      "--iss", want["iss"],
                                      "--nbf", want["nbf"].dump(),
                                      "--out", (tmp / (n + ".shc")).string()};
        if (want.contains("exp")) args.insert(args.end(), {"--exp", want["exp"].dump()});
        if (want["vc"].contains("rid")) args.insert(args.end(), {"--rid", want["vc"]["rid"]});
        auto r = run_shcx(args);
        REQUIRE(r.code == 0);
        CHECK(payload_of({(tmp / (n + ".shc")).string()}) == want);
    }
}

TEST_CASE("FHIR $health-cards-issue Parameters responses are read") {
    TempDir tmp;
    std::string file = card("covid-three-doses.smart-health-card");
    std::string jws = json::parse(read_file(file))["verifiableCredential"][0];
    json params = {{"resourceType", "Parameters"},
                   {"parameter", {{{"name", "verifiableCredential"}, {"valueString", jws}}}}};
    write_file(tmp / "response.json", params.dump(2));
    CHECK(payload_of({(tmp / "response.json").string()}) == payload_of({file}));
}

TEST_CASE("human output of the chunked example names the patient and entries, and says no signature was checked" *
          doctest::test_suite("conformance")) {
    auto r = run_shcx({"decode", ex("example-02-g-qr-code-2.png"), ex("example-02-g-qr-code-0.png"),
                       ex("example-02-g-qr-code-1.png")});
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(contains(r.out, "Card 1 of 1"));
    CHECK(contains(r.out, "(QR image, 3 chunks)"));
    CHECK(contains(r.out, "Signature: NOT CHECKED"));
    CHECK(contains(r.out, "Issuer:   https://spec.smarthealth.cards/examples/issuer\n"));
    CHECK(contains(r.out, "Issued:   2024-05-07T18:49:23Z\n"));
    CHECK(contains(r.out, "Person: Martha DeLarosa, born 1972-05-01\n"));
    CHECK(contains(r.out, "Condition 2015  SNOMED 198436008"));
    CHECK(contains(r.out, "AllergyIntolerance 2010  SNOMED 373270004"));
}

TEST_CASE("human output lists immunizations with CVX names, lots and performers" * doctest::test_suite("conformance")) {
    auto r = run_shcx({"decode", ex("example-00-e-file.smart-health-card")});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "Person: John B. Anyperson, born 1951-01-20\n"));
    CHECK(contains(r.out, "Immunizations (3):\n"));
    CHECK(contains(
        r.out, "1. 2021-01-01  CVX 207 COVID-19 mRNA (Moderna) 100 mcg/0.5 mL, lot 0000001, ABC General Hospital\n"));
    CHECK(contains(r.out, "RID:      MKyCxh7p6uQ\n"));
    CHECK(contains(r.out, "Expires:  never\n"));
}

TEST_CASE("--fhir-out writes the card's bundle") {
    TempDir tmp;
    auto out = tmp / "bundle.json";
    auto r = run_shcx({"decode", card("lab-result.smart-health-card"), "--fhir-out", out.string()});
    CHECK(r.code == 0);
    CHECK(json::parse(read_file(out)) == json::parse(read_file(testdata_dir() / "bundles/lab-result.json")));
}

TEST_CASE("bad inputs: exit 2 with exactly one error line naming the code") {
    TempDir tmp;
    auto file = [&](const std::string& name, const std::string& content) {
        write_file(tmp / name, content);
        return (tmp / name).string();
    };
    // A card in two chunks.
    std::string line1 = card_line("large-history.txt", 0), line2 = card_line("large-history.txt", 1);
    REQUIRE(line1.rfind("shc:/1/2/", 0) == 0);
    REQUIRE(line2.rfind("shc:/2/2/", 0) == 0);

    SUBCASE("odd digit count") { expect_failure({file("odd.txt", "shc:/567629095\n")}, "QR_NUMERIC_INVALID"); }
    SUBCASE("illegal digit pair") { expect_failure({file("pair.txt", "shc:/5676299952\n")}, "QR_NUMERIC_INVALID"); }
    SUBCASE("missing chunk") { expect_failure({file("m.txt", line2)}, "QR_CHUNK_MISSING"); }
    SUBCASE("two different chunk 2s, neither of which decodes") {
        // An exact copy counts once (test_chunk_groups.cpp); two different chunks for one
        // place are joined only if one of them makes a card that decodes.
        // 300 payload characters after "shc:/2/2/" overwritten: the DEFLATE stream breaks.
        const size_t at = 9 + 200, len = 600;
        REQUIRE(line2.size() > at + len);
        auto damaged = [&](const std::string& pair) {
            std::string fill;
            while (fill.size() < len) fill += pair;
            return line2.substr(0, at) + fill + line2.substr(at + len);
        };
        expect_failure({file("d.txt", line1 + damaged("52") + damaged("43"))}, "QR_CHUNK_DUPLICATE");
    }
    SUBCASE("chunk index out of range") {
        expect_failure({file("r.txt", "shc:/4/3/5676\n")}, "QR_CHUNK_INDEX_INVALID");
    }
    SUBCASE("a chunk count of 1 with index 2") {
        expect_failure({file("r.txt", "shc:/2/1/5676\n")}, "QR_CHUNK_INDEX_INVALID");
    }
    SUBCASE("image with no QR code") {
        image::Gray blank;
        blank.width = blank.height = 300;
        blank.pixels.assign(300 * 300, 255);
        expect_failure({file("blank.png", image::encode_png(blank))}, "QR_NOT_FOUND");
    }
    SUBCASE("truncated PNG") {
        std::string png = read_file(card("covid-three-doses.png"));
        expect_failure({file("trunc.png", png.substr(0, png.size() / 2))}, "IMAGE_INVALID");
    }
    SUBCASE("JWS with two parts") {
        expect_failure({file("two.jws", "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0\n")}, "JWS_MALFORMED");
    }
    SUBCASE("payload not raw-deflated (zlib wrapper)") {
        std::string payload = read_file(testdata_dir() / "bundles/covid-three-doses.json");
        uLongf len = compressBound(static_cast<uLong>(payload.size()));
        std::string z(len, '\0');
        compress2(reinterpret_cast<Bytef*>(z.data()), &len, reinterpret_cast<const Bytef*>(payload.data()),
                  static_cast<uLong>(payload.size()), 9);
        z.resize(len);
        expect_failure({file("zlib.jws", jose::sign_compact(test_key(), kHeader, z).value())}, "PAYLOAD_NOT_DEFLATED");
    }
    SUBCASE("payload not compressed at all") {
        expect_failure({file("plain.jws", jose::sign_compact(test_key(), kHeader, "{\"iss\":\"https://x\"}").value())},
                       "PAYLOAD_NOT_DEFLATED");
    }
    SUBCASE("inflation bomb is capped at 1 MiB") {
        std::string bomb = "{\"iss\":\"" + std::string(2u << 20, 'A') + "\"}";
        expect_failure(
            {file("bomb.jws", jose::sign_compact(test_key(), kHeader, inflate::deflate_raw(bomb).value()).value())},
            "PAYLOAD_TOO_LARGE");
    }
    SUBCASE("payload is not JSON") {
        expect_failure({file("nojson.jws",
                             jose::sign_compact(test_key(), kHeader, inflate::deflate_raw("hello").value()).value())},
                       "PAYLOAD_JSON_INVALID");
    }
    SUBCASE("empty file") { expect_failure({file("empty.txt", "")}, "INPUT_EMPTY"); }
    SUBCASE("empty stdin") { expect_failure({"-"}, "INPUT_EMPTY", ""); }
    SUBCASE("binary garbage") {
        std::string junk;
        for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) & 0xFF);
        expect_failure({file("junk.bin", junk)}, "INPUT_UNRECOGNIZED");
    }
    SUBCASE("missing file") { expect_failure({(tmp / "nope.png").string()}, "INPUT_UNREADABLE"); }
    SUBCASE("a directory with no card file") { expect_failure({tmp.path().string()}, "INPUT_EMPTY"); }
}

TEST_CASE("with several inputs the worst outcome decides, and good cards are still shown") {
    TempDir tmp;
    write_file(tmp / "empty.txt", "");
    auto r = run_shcx({"decode", card("covid-three-doses.txt"), (tmp / "empty.txt").string()});
    CHECK(r.code == 2);
    CHECK(contains(r.out, "Adaeze N. Okafor"));
    CHECK(contains(r.err, "INPUT_EMPTY"));
    auto j = run_shcx({"decode", "--json", card("covid-three-doses.txt"), (tmp / "empty.txt").string()});
    CHECK(j.code == 2);
    auto doc = json::parse(j.out);
    CHECK(doc["results"].size() == 1);
    REQUIRE(doc["errors"].size() == 1);
    CHECK(doc["errors"][0]["code"] == "INPUT_EMPTY");
}

TEST_CASE("usage errors exit 2, --help exits 0") {
    auto none = run_shcx({});
    CHECK(none.code == 2);
    CHECK(none.err.rfind("shcx: error: ", 0) == 0);
    CHECK(run_shcx({"decode"}).code == 2);
    CHECK(run_shcx({"decode", "--no-such-flag", "x"}).code == 2);
    CHECK(run_shcx({"frobnicate"}).code == 2);
    auto help = run_shcx({"decode", "--help"});
    CHECK(help.code == 0);
    CHECK(contains(help.out, "--fhir-out"));
}
