// Library-level conformance: every spec example, in every form it comes in, decodes to
// the payload of its example-0N-c-jws-payload-minified.json.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "shcx/card/decode.h"
#include "shcx/read/input.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;

namespace {
json expected_payload(const std::string& n) {
    return json::parse(test::read_file(test::spec_examples() / ("example-" + n + "-c-jws-payload-minified.json")));
}
input::NamedBytes source(const std::string& file) { return {file, test::read_file(test::spec_examples() / file)}; }
json decoded_payload(const std::vector<input::NamedBytes>& sources) {
    auto r = input::extract_cards(sources);
    REQUIRE(r.errors.empty());
    REQUIRE(r.cards.size() == 1);
    auto d = decode::decode_jws(r.cards[0].jws);
    REQUIRE(d.ok());
    CHECK(d.value().header_problems.empty());
    CHECK(d.value().card.problems.empty());
    return json::parse(d.value().card.payload_json);
}
}  // namespace

TEST_CASE("spec examples decode from JWS, file, numeric text and PNG" * doctest::test_suite("conformance")) {
    for (std::string n : {"00", "01", "03"}) {
        CAPTURE(n);
        auto want = expected_payload(n);
        CHECK(decoded_payload({source("example-" + n + "-d-jws.txt")}) == want);
        CHECK(decoded_payload({source("example-" + n + "-e-file.smart-health-card")}) == want);
        CHECK(decoded_payload({source("example-" + n + "-f-qr-code-numeric-value-0.txt")}) == want);
        CHECK(decoded_payload({source("example-" + n + "-g-qr-code-0.png")}) == want);
    }
}

TEST_CASE("example-02 (3 chunks) reassembles from PNGs and texts in every order" * doctest::test_suite("conformance")) {
    auto want = expected_payload("02");
    CHECK(decoded_payload({source("example-02-d-jws.txt")}) == want);
    CHECK(decoded_payload({source("example-02-e-file.smart-health-card")}) == want);
    std::vector<int> order{0, 1, 2};
    do {
        std::vector<input::NamedBytes> pngs, texts;
        for (int i : order) {
            pngs.push_back(source("example-02-g-qr-code-" + std::to_string(i) + ".png"));
            texts.push_back(source("example-02-f-qr-code-numeric-value-" + std::to_string(i) + ".txt"));
        }
        CHECK(decoded_payload(pngs) == want);
        CHECK(decoded_payload(texts) == want);
    } while (std::next_permutation(order.begin(), order.end()));
}
