// Verifier conformance fixes, each with its exact status and code: clock-skew leeway,
// rid.T revocation per the spec, invalid trusted keys, broken CRLs inside a snapshot,
// exp before nbf, header messages, calendar dates, shc:/1/1/ and shc: text.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "card_maker.h"
#include "shcx/card/decode.h"
#include "shcx/jose/es256.h"
#include "shcx/jose/jws.h"
#include "shcx/read/input.h"
#include "shcx/read/numeric.h"
#include "shcx/timeutil.h"
#include "shcx/trust/trust.h"
#include "shcx/verify/verify.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;

namespace {

constexpr double kAt = 1795300000;  // 2026-11-21

verify::Report run(const std::string& jws, const trust::TrustStore& trust, verify::Options opt = {}) {
    if (opt.at == 0) opt.at = kAt;
    input::FoundCard found;
    found.jws = jws;
    found.origins = {"test"};
    return verify::verify_card(found, trust, opt);
}

std::vector<std::string> code_names(const std::vector<Error>& v) {
    std::vector<std::string> out;
    for (const auto& e : v) out.emplace_back(code_name(e.code));
    return out;
}

trust::Crl crl(const std::string& rids_json) {
    return trust::parse_crl(
               R"({"kid":")" + test::demo_key().kid() + R"(","method":"rid","ctr":1,"rids":)" + rids_json + "}",
               "test CRL")
        .value();
}

}  // namespace

TEST_CASE("clock skew: nbf 59 s ahead is valid with CLOCK_SKEW_APPLIED, 61 s ahead is NOT_YET_VALID") {
    auto trust = test::demo_trust();
    auto ahead59 = run(test::sign_json(test::demo_payload(kAt + 59)), trust);
    CHECK(verify::status_name(ahead59.status) == "valid");
    CHECK(code_names(ahead59.warnings) == std::vector<std::string>{"CLOCK_SKEW_APPLIED"});
    CHECK(ahead59.warnings[0].message ==
          "nbf is 59 s after the verification time; accepted within the 60 s clock-skew leeway");

    auto ahead61 = run(test::sign_json(test::demo_payload(kAt + 61)), trust);
    CHECK(verify::status_name(ahead61.status) == "not_yet_valid");
    CHECK(code_names(ahead61.errors) == std::vector<std::string>{"NOT_YET_VALID"});
    CHECK(ahead61.warnings.empty());

    // A fractional nbf, as `shcx issue` writes, a fraction of a second ahead.
    auto fraction = run(test::sign_json(test::demo_payload(kAt + 0.4)), trust);
    CHECK(verify::status_name(fraction.status) == "valid");
    CHECK(fraction.warnings[0].message ==
          "nbf is 0.4 s after the verification time; accepted within the 60 s clock-skew leeway");

    // No leeway: even a second is too early. A card issued before `at` needs none.
    verify::Options strict;
    strict.clock_skew = 0;
    CHECK(verify::status_name(run(test::sign_json(test::demo_payload(kAt + 1)), trust, strict).status) ==
          "not_yet_valid");
    auto past = run(test::sign_json(test::demo_payload(kAt - 1)), trust, strict);
    CHECK(verify::status_name(past.status) == "valid");
    CHECK(past.warnings.empty());
}

TEST_CASE("rid.T revokes every card with that rid whose nbf is before T, whatever the verification time") {
    std::string jws = test::sign_json(test::demo_payload(test::kDemoNbf));
    long nbf = static_cast<long>(test::kDemoNbf);
    for (double at : {test::kDemoNbf + 10, kAt, kAt + 86400.0 * 365 * 5}) {
        CAPTURE(at);
        verify::Options opt;
        opt.at = at;
        auto before = test::demo_trust();
        before.add_crl(test::kDemoIss, crl(R"(["rid1.)" + std::to_string(nbf + 1) + R"("])"));  // T after nbf
        auto r = run(jws, before, opt);
        CHECK(verify::status_name(r.status) == "revoked");
        CHECK(code_names(r.errors) == std::vector<std::string>{"REVOKED"});
        // T far in the future (after `at`): still revoked, the card was issued before T.
        auto future = test::demo_trust();
        future.add_crl(test::kDemoIss,
                       crl(R"(["rid1.)" + std::to_string(static_cast<long>(at) + 86400 * 30) + R"("])"));
        CHECK(verify::status_name(run(jws, future, opt).status) == "revoked");
        // T at or before nbf: a card issued at or after T is not revoked.
        for (long t : {nbf, nbf - 1}) {
            auto after = test::demo_trust();
            after.add_crl(test::kDemoIss, crl(R"(["rid1.)" + std::to_string(t) + R"("])"));
            auto ok = run(jws, after, opt);
            CHECK(verify::status_name(ok.status) == "valid");
            CHECK(verify::revocation_name(ok.revocation) == "not_revoked");
        }
    }
}

TEST_CASE("a trusted key that breaks the key rules gives status invalid_key, not unknown_key") {
    auto jwk = json::parse(test::demo_key().to_jwk_json(false).value().str());
    struct Case {
        const char* what;
        json key;
        const char* code;
    };
    auto bad_use = jwk, with_d = json::parse(test::demo_key().to_jwk_json(true).value().str()), bad_alg = jwk;
    bad_use["use"] = "enc";
    bad_alg["alg"] = "ES384";
    for (const auto& c : {Case{"use enc", bad_use, "KEY_INVALID"}, Case{"private d", with_d, "KEY_INVALID"},
                          Case{"alg ES384", bad_alg, "KEY_INVALID"}}) {
        CAPTURE(c.what);
        trust::TrustStore store;
        store.add_issuer(trust::issuer_from_jwks(json{{"keys", {c.key}}}.dump(), test::kDemoIss, "t").value());
        auto r = run(test::sign_json(test::demo_payload()), store);
        CHECK(verify::status_name(r.status) == "invalid_key");
        CHECK(code_names(r.errors) == std::vector<std::string>{c.code});
    }
    // kid that is not the thumbprint (the card names the same kid).
    auto wrong = jwk;
    wrong["kid"] = "not-the-thumbprint";
    trust::TrustStore store;
    store.add_issuer(trust::issuer_from_jwks(json{{"keys", {wrong}}}.dump(), test::kDemoIss, "t").value());
    auto header = R"({"zip":"DEF","alg":"ES256","kid":"not-the-thumbprint"})";
    auto r = run(test::sign_text(test::demo_payload().dump(), header), store);
    CHECK(verify::status_name(r.status) == "invalid_key");
    CHECK(code_names(r.errors) == std::vector<std::string>{"KEY_KID_MISMATCH"});
    // An unknown kid is still unknown_key.
    trust::TrustStore other;
    other.add_issuer(
        trust::issuer_from_jwks(
            json{{"keys", {json::parse(jose::PrivateKey::generate().value().to_jwk_json(false).value().str())}}}.dump(),
            test::kDemoIss, "t")
            .value());
    CHECK(verify::status_name(run(test::sign_json(test::demo_payload()), other).status) == "unknown_key");
}

TEST_CASE("a broken CRL inside a snapshot is reported as CRL_INVALID, not CRL_UNAVAILABLE") {
    auto jwk = json::parse(test::demo_key().to_jwk_json(false).value().str());
    jwk["crlVersion"] = 1;
    auto snapshot_with = [&](const json& crl_entry) {
        json snap = {{"issuerInfo", {{{"issuer", {{"iss", test::kDemoIss}}}, {"keys", {jwk}}, {"crls", {crl_entry}}}}}};
        return trust::parse_vci_snapshot(snap.dump(), "snapshot").value();
    };
    json broken = {{"kid", test::demo_key().kid()}, {"method", "rid"}, {"ctr", 1}, {"rids", {"rid1", "rid1"}}};
    auto snap = snapshot_with(broken);
    CHECK(code_names(snap.warnings) == std::vector<std::string>{"CRL_INVALID"});
    REQUIRE(snap.invalid_crls.size() == 1);
    CHECK(snap.invalid_crls[0].kid == test::demo_key().kid());
    trust::TrustStore store;
    store.add_snapshot(std::move(snap));
    auto r = run(test::sign_json(test::demo_payload()), store);
    CHECK(verify::status_name(r.status) == "valid");
    CHECK(verify::revocation_name(r.revocation) == "unknown");
    CHECK(code_names(r.warnings) == std::vector<std::string>{"CRL_INVALID"});
    CHECK(r.warnings[0].message.rfind("the revocation list published for key " + test::demo_key().kid() + " is invalid",
                                      0) == 0);

    // A good CRL in the same snapshot is used as before; no CRL at all is CRL_UNAVAILABLE.
    trust::TrustStore good;
    good.add_snapshot(
        snapshot_with({{"kid", test::demo_key().kid()}, {"method", "rid"}, {"ctr", 1}, {"rids", {"rid1"}}}));
    CHECK(verify::status_name(run(test::sign_json(test::demo_payload()), good).status) == "revoked");
    trust::TrustStore none;
    none.add_issuer(trust::issuer_from_jwks(json{{"keys", {jwk}}}.dump(), test::kDemoIss, "t").value());
    CHECK(code_names(run(test::sign_json(test::demo_payload()), none).warnings) ==
          std::vector<std::string>{"CRL_UNAVAILABLE"});
}

TEST_CASE("exp before nbf is named: EXP_BEFORE_NBF, status malformed") {
    auto p = test::demo_payload();
    p["exp"] = test::kDemoNbf - 3600;
    auto r = run(test::sign_json(p), test::demo_trust());
    CHECK(verify::status_name(r.status) == "malformed");
    REQUIRE_FALSE(r.errors.empty());
    CHECK(code_name(r.errors[0].code) == "EXP_BEFORE_NBF");
    CHECK(r.errors[0].message ==
          "exp (2026-01-15T09:00:00Z) is before nbf (2026-01-15T10:00:00Z): the card is never valid");
    p["exp"] = test::kDemoNbf;  // equal: valid for an instant, not an error
    CHECK(code_names(run(test::sign_json(p), test::demo_trust(), verify::Options{test::kDemoNbf}).errors).empty());
}

TEST_CASE("JWS header messages name what is missing") {
    CHECK(jose::check_shc_header(R"({"zip":"DEF","kid":"k"})").error().message ==
          "JWS header has no alg; it must be ES256");
    CHECK(jose::check_shc_header(R"({"alg":"ES256","kid":"k"})").error().message ==
          "JWS header has no zip; it must be DEF");
    CHECK(jose::check_shc_header(R"({"alg":7,"zip":"DEF","kid":"k"})").error().message ==
          "JWS header alg is not a string; it must be ES256");
    CHECK(jose::check_shc_header(R"({"alg":"none","zip":"DEF","kid":"k"})").error().message ==
          "JWS header alg is \"none\"; it must be ES256");
    CHECK(jose::check_shc_header(R"({"alg":"ES256","zip":"DEF"})").error().message == "JWS header has no kid");
    CHECK(jose::check_shc_header(R"({"alg":"ES256","zip":"DEF","kid":""})").error().message ==
          "JWS header kid is empty or not a string");
}

TEST_CASE("times are on the calendar") {
    for (const char* bad : {"2026-02-31T00:00:00Z", "2026-02-29", "2025-02-29T12:00:00Z", "2100-02-29", "2026-04-31",
                            "2026-06-31T00:00:00Z", "2026-13-01", "2026-00-10", "2026-01-00"}) {
        CAPTURE(bad);
        CHECK_FALSE(timeutil::parse_time(bad));
    }
    CHECK(timeutil::parse_time("2024-02-29T00:00:00Z") == 1709164800.0);
    CHECK(timeutil::parse_time("2000-02-29") == 951782400.0);
    CHECK(timeutil::parse_time("2026-01-31") == 1769817600.0);
    CHECK(timeutil::parse_time("2026-12-31T23:59:59Z") == 1798761599.0);
    // Times no calendar can print (fuzz_card found -1e308 reaching a message).
    for (double t : {1e308, -1e308, 1e16, std::nan("")}) CHECK(timeutil::format_utc(t) == "invalid-time");
}

TEST_CASE(
    "shc:/1/1/ is a readable card with QR_CHUNK_HEADER_UNNEEDED, shc: text without the slash is QR_HEADER_INVALID") {
    std::string jws = test::sign_json(test::demo_payload());
    auto one = input::extract_cards({{"one.txt", "shc:/1/1/" + numeric::encode_digits(jws) + "\n"}});
    CHECK(one.errors.empty());
    REQUIRE(one.cards.size() == 1);
    CHECK(one.cards[0].jws == jws);
    CHECK(code_names(one.cards[0].warnings) == std::vector<std::string>{"QR_CHUNK_HEADER_UNNEEDED"});
    auto r = verify::verify_card(one.cards[0], test::demo_trust(), verify::Options{kAt});
    CHECK(verify::status_name(r.status) == "valid");
    CHECK(code_names(r.warnings) == std::vector<std::string>{"QR_CHUNK_HEADER_UNNEEDED"});

    for (std::string text : {"shc:5676" + numeric::encode_digits(jws), "SHC:/" + numeric::encode_digits(jws),
                             "shc:" + numeric::encode_digits(jws)}) {
        CAPTURE(text.substr(0, 8));
        auto x = input::extract_cards({{"t.txt", text}});
        CHECK(x.cards.empty());
        REQUIRE(x.errors.size() == 1);
        CHECK(code_name(x.errors[0].error.code) == "QR_HEADER_INVALID");
    }
}

TEST_CASE("verify's signature proof joins two multi-chunk cards of the same size") {
    // Two different large cards, chunk files interleaved, each chunk its own input.
    auto p1 = test::demo_payload(test::kDemoNbf, "large-history");
    auto p2 = test::demo_payload(test::kDemoNbf + 1, "large-history");  // differs from its first bytes on
    std::string a = test::sign_json(p1), b = test::sign_json(p2);
    auto ta = numeric::qr_texts_for_jws(a), tb = numeric::qr_texts_for_jws(b);
    REQUIRE(ta.size() == 2);
    REQUIRE(tb.size() == 2);
    std::vector<input::NamedBytes> sources{{"b1.txt", tb[0]}, {"a1.txt", ta[0]}, {"a2.txt", ta[1]}, {"b2.txt", tb[1]}};
    auto trust = test::demo_trust();
    auto x = input::extract_cards(sources, 1, {verify::signature_proof(trust), decode::jws_decodes});
    CHECK(x.errors.empty());
    REQUIRE(x.cards.size() == 2);
    CHECK(x.cards[0].jws == b);
    CHECK(x.cards[0].origins == std::vector<std::string>{"b1.txt", "b2.txt"});
    CHECK(x.cards[1].jws == a);
    // Without trust, "it decodes" is all that can be asked: still two cards, no error. (It
    // is a weaker proof: these two JWS differ after their first chunk only in the
    // signature, so b's first chunk decodes with either second chunk. A wrong pairing
    // cannot verify, so it costs nothing but a misleading "untrusted".)
    auto untrusted = input::extract_cards(sources, 1, {decode::jws_decodes});
    CHECK(untrusted.errors.empty());
    CHECK(untrusted.cards.size() == 2);
}
