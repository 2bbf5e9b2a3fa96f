// Strict JSON everywhere (detail/json.h): a NUL byte, content after the value, invalid
// UTF-8, lone surrogates and duplicate member names are refused by the one parser, and
// each reader reports it with its own code. nlohmann alone reads "{..}\0{..}" as the
// first object and a duplicate member as its last value; these tests fail without the
// checks.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "card_maker.h"
#include "shcx/card/card.h"
#include "shcx/detail/json.h"
#include "shcx/jose/jwk.h"
#include "shcx/jose/jws.h"
#include "shcx/verify/policy.h"
#include "shcx/share/api.h"
#include "shcx/share/service.h"
#include "shcx/share/store.h"
#include "shcx/trust/trust.h"
#include "shcx/verify/verify.h"
#include "support.h"

using namespace shcx;
using namespace std::string_literals;

namespace {

std::string why(std::string_view text) {
    auto p = detail::parse_json_checked(text);
    return p.value ? "" : p.error;
}

bool ascii_only(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

TEST_CASE("nlohmann on its own reads past these: the reason for the checks") {
    auto j = nlohmann::json::parse("{\"a\":1}\0{\"b\":2}"s, nullptr, false);
    CHECK_FALSE(j.is_discarded());  // it stops at the NUL
    CHECK(nlohmann::json::parse(R"({"iss":"a","iss":"b"})")["iss"] == "b");  // last one wins
}

TEST_CASE("strict JSON: each rejection, with its reason") {
    CHECK(why("{\"a\":1}\0{\"b\":2}"s) == "NUL byte at offset 7");
    CHECK(why("{\"a\":\"x\0y\"}"s) == "NUL byte at offset 7");
    CHECK(why(R"({"a":1} {"b":2})").rfind("at byte 9: ", 0) == 0);
    CHECK(why(R"({"a":1})" "\n\t ") == "");  // whitespace after the value is JSON
    CHECK(why(R"({"a":1,"a":1})") == "duplicate member \"a\"");
    CHECK(why(R"({"x":{"k":1,"y":2,"k":3}})") == "duplicate member \"k\"");
    CHECK(why(R"([{"a":1},{"a":2}])") == "");   // the same name in sibling objects
    CHECK(why(R"({"a":{"a":{"a":1}}})") == "");  // and nested ones
    // Invalid UTF-8 (a stray continuation byte, an overlong '/', a truncated sequence),
    // a raw control character, lone surrogates; a proper pair is fine.
    for (std::string bad : {"{\"a\":\"\x80\"}"s, "{\"a\":\"\xC0\xAF\"}"s, "{\"a\":\"\xE2\x82\"}"s, "{\"a\":\"\x01\"}"s,
                            R"({"a":"\ud800"})"s, R"({"a":"\udc00"})"s, R"({"a":"\ud800\u0041"})"s, "{\"\xff\":1}"s}) {
        CAPTURE(bad);
        std::string reason = why(bad);
        CHECK_FALSE(reason.empty());
        CHECK(ascii_only(reason));  // never echoes the bad bytes
    }
    CHECK(why(R"({"a":"\ud83d\ude00"})") == "");
    CHECK(why("{\"a\":\"\xF0\x9F\x98\x80\"}") == "");
    // Many members: past the linear check the set takes over, and still finds a repeat.
    std::string many = "{";
    for (int i = 0; i < 200; ++i) many += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    CHECK(why(many + "\"end\":0}") == "");
    CHECK(why(many + "\"k7\":0}") == "duplicate member \"k7\"");
    CHECK(why("") != "");
}

TEST_CASE("each reader reports strict-JSON failures with its existing code") {
    const std::string nul_tail = "\0{\"x\":1}"s;
    // Card payload and JWS header.
    auto payload = card::parse_payload(test::demo_payload().dump() + nul_tail);
    REQUIRE_FALSE(payload.ok());
    CHECK(payload.error().code == ErrorCode::PAYLOAD_JSON_INVALID);
    CHECK(payload.error().message == "payload is not valid JSON: NUL byte at offset " +
                                         std::to_string(test::demo_payload().dump().size()));
    auto header = jose::check_shc_header(R"({"zip":"DEF","alg":"none","alg":"ES256","kid":"k"})");
    REQUIRE_FALSE(header.ok());
    CHECK(header.error().code == ErrorCode::JWS_HEADER_INVALID);
    CHECK(header.error().message == "JWS header is not valid JSON: duplicate member \"alg\"");
    // Keys, revocation lists, snapshots, policies.
    auto jwks = jose::parse_jwks(test::read_file(test::testdata_dir() / "issuer/jwks.json") + nul_tail);
    CHECK(jwks.error().code == ErrorCode::KEY_INVALID);
    auto crl = trust::parse_crl(R"({"kid":"k","method":"rid","ctr":1,"ctr":2,"rids":[]})", "t");
    CHECK(crl.error().code == ErrorCode::CRL_INVALID);
    CHECK(crl.error().message == "t: CRL is not valid JSON: duplicate member \"ctr\"");
    auto snap = trust::parse_vci_snapshot(R"({"issuerInfo":[]} {"issuerInfo":[]})", "s");
    CHECK(snap.error().code == ErrorCode::SNAPSHOT_INVALID);
    auto pol = policy::parse(R"({"name":"a","name":"b","accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":1}]})", "p");
    CHECK(pol.error().code == ErrorCode::POLICY_INVALID);
}

TEST_CASE("the real VCI snapshot, the spec's keys and CRL, and every built-in policy pass the strict rules" *
          doctest::test_suite("conformance")) {
    auto snap = trust::parse_vci_snapshot(test::read_file(test::vectors_dir() / "vci/vci_snapshot.json"), "vci");
    REQUIRE(snap.ok());
    CHECK(snap.value().issuers.size() == 651);
    CHECK(jose::parse_jwks(test::read_file(test::spec_examples() / "issuer/.well-known/jwks.json")).ok());
    CHECK(trust::parse_crl(test::read_file(test::spec_examples() /
                                           "issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"),
                           "spec")
              .ok());
    for (const auto& name : policy::builtin_names()) CHECK(policy::load(name).ok());
}

TEST_CASE("signed cards whose payload or header other parsers would read differently are not valid") {
    auto trust = test::demo_trust();
    auto run = [&](const std::string& jws) {
        input::FoundCard found;
        found.jws = jws;
        found.origins = {"test"};
        return verify::verify_card(found, trust, verify::Options{1795300000});
    };
    std::string good = test::demo_payload().dump();
    REQUIRE(run(test::sign_text(good)).status == verify::Status::Valid);
    // A NUL and a second payload after it; trailing JSON; the same iss twice (the second
    // one a forgery target).
    std::string other = test::demo_payload(1600000000).dump();
    std::string dup_iss = R"({"iss":"https://evil.example","iss":")" + test::kDemoIss + "\"," + good.substr(good.find("\"nbf\""));
    for (const auto& bad : {good + "\0"s + other, good + " " + other, dup_iss}) {
        auto r = run(test::sign_text(bad));
        CHECK(verify::status_name(r.status) == "malformed");
        REQUIRE_FALSE(r.errors.empty());
        CHECK(r.errors[0].code == ErrorCode::PAYLOAD_JSON_INVALID);
    }
    // The header: NUL then another header; kid twice.
    for (const auto& bad_header : {test::demo_header() + "\0{\"alg\":\"none\"}"s,
                                   R"({"zip":"DEF","alg":"ES256","kid":"other","kid":")" + test::demo_key().kid() + "\"}"}) {
        auto r = run(test::sign_text(good, bad_header));
        CHECK(verify::status_name(r.status) == "malformed");
        REQUIRE_FALSE(r.errors.empty());
        CHECK(r.errors[0].code == ErrorCode::JWS_HEADER_INVALID);
    }
}

TEST_CASE("share API: a reveal body naming the challenge twice is refused like a wrong PIN") {
    struct Clock final : share::Clock {
        double now() const override { return 1800000000.0; }
    } clock;
    test::TempDir dir;
    auto store = share::open_sqlite_store((dir / "s.db").string()).value();
    share::ServiceConfig config;
    config.pepper = std::string(32, 'p');
    config.kdf = {1, 64, 1};
    share::Service service(*store, clock, config);
    share::Api api(service, clock, "https://share.example", 100);
    auto reveal = [&](const std::string& sid, const std::string& body) {
        share::HttpRequest req;
        req.method = "POST";
        req.path = "/s/" + sid;
        req.content_type = "application/json";
        req.body = body;
        req.remote_addr = "127.0.0.1";
        return api.handle(req).status;
    };
    auto c = service.create(service.local_user(), "record", 3, 3600).value();
    std::string pin = c.pin.str();
    CHECK(reveal(c.sid, R"({"challenge":"WRONG000","challenge":")" + pin + "\"}") == 403);
    CHECK(reveal(c.sid, R"({"challenge":")" + pin + "\"}\0{}"s) == 403);
    CHECK(reveal(c.sid, R"({"challenge":")" + pin + "\"}") == 200);
}
