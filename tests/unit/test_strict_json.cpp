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
#include "shcx/detail/json_view.h"
#include "shcx/jose/jwk.h"
#include "shcx/jose/jws.h"
#include "shcx/share/api.h"
#include "shcx/share/service.h"
#include "shcx/share/store.h"
#include "shcx/trust/trust.h"
#include "shcx/verify/policy.h"
#include "shcx/verify/verify.h"
#include "support.h"

using namespace shcx;
using namespace std::string_literals;

namespace {

std::string why(std::string_view text) {
    auto p = detail::parse_json_checked(text);
    return p.value ? "" : p.error;
}

// The value's text with every node's nlohmann type: tells 5 (unsigned) from 5 (signed).
std::string typed(const detail::Json& j) {
    std::string out = std::to_string(static_cast<int>(j.type())) + ":";
    if (j.is_object())
        for (const auto& [k, v] : j.items()) out += "{" + k + "=" + typed(v) + "}";
    else if (j.is_array())
        for (const auto& v : j) out += "[" + typed(v) + "]";
    else out += j.dump();
    return out;
}

bool ascii_only(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

TEST_CASE("nlohmann on its own reads past these: the reason for the checks") {
    auto j = nlohmann::json::parse("{\"a\":1}\0{\"b\":2}"s, nullptr, false);
    CHECK_FALSE(j.is_discarded());                                           // it stops at the NUL
    CHECK(nlohmann::json::parse(R"({"iss":"a","iss":"b"})")["iss"] == "b");  // last one wins
}

TEST_CASE("strict JSON: each rejection, with its reason") {
    CHECK(why("{\"a\":1}\0{\"b\":2}"s) == "NUL byte at offset 7");
    CHECK(why("{\"a\":\"x\0y\"}"s) == "NUL byte at offset 7");
    CHECK(why(R"({"a":1} {"b":2})").rfind("at byte 9: ", 0) == 0);
    CHECK(why(R"({"a":1})"
              "\n\t ") == "");  // whitespace after the value is JSON
    CHECK(why(R"({"a":1,"a":1})") == "duplicate member \"a\"");
    CHECK(why(R"({"x":{"k":1,"y":2,"k":3}})") == "duplicate member \"k\"");
    CHECK(why(R"([{"a":1},{"a":2}])") == "");    // the same name in sibling objects
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
    CHECK(payload.error().message ==
          "payload is not valid JSON: NUL byte at offset " + std::to_string(test::demo_payload().dump().size()));
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
    auto pol = policy::parse(
        R"({"name":"a","name":"b","accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":1}]})", "p");
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
    std::string dup_iss =
        R"({"iss":"https://evil.example","iss":")" + test::kDemoIss + "\"," + good.substr(good.find("\"nbf\""));
    for (const auto& bad : {good + "\0"s + other, good + " " + other, dup_iss}) {
        auto r = run(test::sign_text(bad));
        CHECK(verify::status_name(r.status) == "malformed");
        REQUIRE_FALSE(r.errors.empty());
        CHECK(r.errors[0].code == ErrorCode::PAYLOAD_JSON_INVALID);
    }
    // The header: NUL then another header; kid twice.
    for (const auto& bad_header :
         {test::demo_header() + "\0{\"alg\":\"none\"}"s,
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

// The fast path (simdjson validates, the DOM is built from its tape) must accept only what
// nlohmann's exact path accepts, and build the same value: member order, number kinds
// (unsigned, signed, float) and strings byte for byte.
TEST_CASE("fast and exact parsing agree on every text: same value or both refused") {
    std::vector<std::string> texts = {
        R"({"a":1,"b":-1,"c":1.5,"d":1e2,"e":-0,"f":0.0,"g":18446744073709551615,"h":-9223372036854775808})",
        R"({"z":1,"a":2,"m":{"y":[1,2,{"x":null}],"b":true,"c":false}})",
        R"(["\u00e9\ud83d\ude00","\"\\\/\b\f\n\r\t","é😀",""])",
        R"({"big":1e400,"neg":-1e400,"tiny":1e-400,"huge":123456789012345678901234567890})",
        R"({"a":1,"a":2})",
        R"({"k":{"a":1,"a":2}})",
        R"(["\ud800"])",
        R"(["\udc00"])",
        R"(["\ud800\u0041"])",
        "[\"\xc3\x28\"]",
        "[\"\xed\xa0\x80\"]",
        "[\"\xf4\x90\x80\x80\"]",
        "[\"a\x01\"]",
        "{\"a\":1}\0"s,
        R"({"a":1} x)",
        R"([1,])",
        R"({"a":1,})",
        "[01]",
        "[1.]",
        "[.5]",
        "[+1]",
        "[-]",
        "[1e]",
        "[tru]",
        "nul",
        " \t\n[1]\n ",
        "1",
        "\"s\"",
        "true",
        "null",
        "[]",
        "{}",
        "",
        " ",
        "[",
        "]",
        "{\"a\"}",
        "[\"\\x\"]",
        "[\"\\u12\"]",
        std::string(64, '[') + std::string(64, ']'),
        std::string(65, '[') + std::string(65, ']'),
        "{\"a\":" + std::string(63, '[') + std::string(63, ']') + "}",
        "{\"a\":" + std::string(64, '[') + std::string(64, ']') + "}"};
    // An object with many members (the hash-set path) and a duplicate at its end.
    std::string many = "{", many_dup;
    for (int i = 0; i < 100; ++i) many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    many_dup = many + ",\"k7\":1}";
    many += "}";
    texts.push_back(many);
    texts.push_back(many_dup);
    // Every file of the test data that is JSON.
    for (const auto& entry : test::fs::recursive_directory_iterator(test::testdata_dir()))
        if (entry.is_regular_file() && entry.path().extension() == ".json")
            texts.push_back(test::read_file(entry.path()));
    for (const auto& t : texts) {
        auto fast = detail::parse_json_checked(t);
        auto exact = detail::parse_json_exact(t);
        INFO("text: " << t.substr(0, 200));
        REQUIRE(fast.value.has_value() == exact.value.has_value());
        if (!fast.value) {
            CHECK(fast.error == exact.error);
            continue;
        }
        CHECK(typed(*fast.value) == typed(*exact.value));
    }
    // The per-card view (no DOM) accepts and refuses the same texts, with the same reason,
    // and serialises what it read as the exact parser's value serialises.
    for (const auto& t : texts) {
        auto exact = detail::parse_json_exact(t);
        detail::ParsedView view(t, detail::kMaxJsonDepth);
        INFO("text: " << t.substr(0, 200));
        REQUIRE(view.error().has_value() == !exact.value.has_value());
        if (view.error()) CHECK(*view.error() == exact.error);
        else CHECK(view.root().dump() == exact.value->dump());
    }
    CHECK(detail::parse_json_checked(R"({"n":5,"m":-5,"f":5.0})").value->at("n").is_number_unsigned());
    CHECK(detail::parse_json_checked(R"({"n":5,"m":-5,"f":5.0})").value->at("m").is_number_integer());
    CHECK_FALSE(detail::parse_json_checked(R"({"n":5,"m":-5,"f":5.0})").value->at("m").is_number_unsigned());
    CHECK(detail::parse_json_checked(R"({"n":5,"m":-5,"f":5.0})").value->at("f").is_number_float());
}
