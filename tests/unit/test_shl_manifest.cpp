// shl/manifest against a real HTTP server on 127.0.0.1 (tests/shl_server): the manifest
// request, passcodes and remaining attempts, U links, embedded and location files, 404,
// expiry, size and time caps, redirects, and broken manifests and files.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "shcx/shl/content.h"
#include "shcx/shl/jwe.h"
#include "shcx/shl/manifest.h"
#include "shl_server.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;
using shcx::test::ShlServer;

namespace {

const std::string kCard = R"({"verifiableCredential":["eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln"]})";
const std::string kPatient =
    R"({"resourceType":"Patient","name":[{"given":["Ada"],"family":"Lovelace"}],"birthDate":"1815-12-10"})";
constexpr double kNow = 1.8e9;

shl::Link parse(const std::string& text) {
    auto l = shl::parse_link(text);
    REQUIRE(l.ok());
    return std::move(l.value());
}

shl::FetchOptions options(const SecretString* passcode = nullptr) {
    shl::FetchOptions o;
    o.recipient = "Example Clinic";
    o.passcode = passcode;
    o.now = kNow;
    return o;
}

Error failure(const Result<shl::Contents>& r) {
    REQUIRE_FALSE(r.ok());
    return r.error();
}

}  // namespace

TEST_CASE("shl: a manifest with an embedded and a location file: both read, request as the spec says") {
    ShlServer server;
    server.add_file("application/smart-health-card", kCard, true);
    server.add_file("application/fhir+json;fhirVersion=4.0.1", kPatient, false, true);
    auto r = shl::fetch(parse(server.link("", 2e9, "Ada's records")), options());
    REQUIRE(r.ok());
    const auto& c = r.value();
    CHECK(c.server == server.base_url());
    CHECK(c.listed == 2);
    CHECK(c.errors.empty());
    CHECK(c.warnings.empty());
    REQUIRE(c.files.size() == 2);
    CHECK(c.files[0].index == 1);
    CHECK(c.files[0].content_type == "application/smart-health-card");
    CHECK(c.files[0].source == "embedded");
    CHECK(c.files[0].content.str() == kCard);
    CHECK(c.files[1].index == 2);
    CHECK(c.files[1].content_type == "application/fhir+json");
    CHECK(c.files[1].source == "location");
    CHECK(c.files[1].content.str() == kPatient);
    CHECK(server.manifest_requests() == 1);
    CHECK(server.file_requests() == 1);
    auto body = json::parse(server.last_manifest_body());
    CHECK(body == json{{"recipient", "Example Clinic"}, {"embeddedLengthMax", 65536}});
}

TEST_CASE("shl: P: no passcode means no request, the right one opens, wrong ones say how many attempts remain") {
    ShlServer server;
    server.add_file("application/smart-health-card", kCard, true);
    server.set_passcode("open sesame", 3);
    shl::Link link = parse(server.link("P"));

    auto none = failure(shl::fetch(link, options()));
    CHECK(none.code == ErrorCode::SHL_PASSCODE_REQUIRED);
    CHECK(none.message == "the link is protected by a passcode (flag P); none was given");
    SecretString empty;
    CHECK(failure(shl::fetch(link, options(&empty))).code == ErrorCode::SHL_PASSCODE_REQUIRED);
    CHECK(server.manifest_requests() == 0);

    SecretString wrong("open says me");
    auto w1 = failure(shl::fetch(link, options(&wrong)));
    CHECK(w1.code == ErrorCode::SHL_PASSCODE_WRONG);
    CHECK(w1.message == "the passcode was not accepted; 2 attempts remaining");
    CHECK(json::parse(server.last_manifest_body())["passcode"] == "open says me");

    SecretString right("open sesame");
    auto ok = shl::fetch(link, options(&right));
    REQUIRE(ok.ok());
    CHECK(ok.value().files.size() == 1);
    CHECK(json::parse(server.last_manifest_body()) ==
          json{{"recipient", "Example Clinic"}, {"passcode", "open sesame"}, {"embeddedLengthMax", 65536}});

    CHECK(failure(shl::fetch(link, options(&wrong))).message == "the passcode was not accepted; 1 attempt remaining");
    CHECK(failure(shl::fetch(link, options(&wrong))).message ==
          "the passcode was not accepted; no attempts remaining: the server has disabled the link");
    auto gone = failure(shl::fetch(link, options(&right)));
    CHECK(gone.code == ErrorCode::SHL_NOT_FOUND);
    CHECK(server.manifest_requests() == 5);
}

TEST_CASE("shl: a passcode is sent only for P links, escaped as JSON, a 401 without P asks for one") {
    ShlServer server;
    server.add_file("application/smart-health-card", kCard, true);
    SecretString odd("quote\" back\\ tab\t");
    REQUIRE(shl::fetch(parse(server.link()), options(&odd)).ok());
    CHECK_FALSE(json::parse(server.last_manifest_body()).contains("passcode"));

    server.set_passcode("quote\" back\\ tab\t", 5);
    REQUIRE(shl::fetch(parse(server.link("P")), options(&odd)).ok());
    CHECK(json::parse(server.last_manifest_body())["passcode"] == "quote\" back\\ tab\t");

    auto e = failure(shl::fetch(parse(server.link()), options()));
    CHECK(e.code == ErrorCode::SHL_PASSCODE_REQUIRED);
    CHECK(e.message == "the server asks for a passcode (HTTP 401) although the link has no P flag");
}

TEST_CASE("shl: U: one GET with ?recipient=, no manifest, 404 is SHL_NOT_FOUND") {
    ShlServer server;
    server.add_file("application/smart-health-card", kCard, false, true);
    auto r = shl::fetch(parse(server.link("U")), options());
    REQUIRE(r.ok());
    CHECK(server.manifest_requests() == 0);
    CHECK(server.file_requests() == 1);
    CHECK(server.last_recipient_query() == "Example Clinic");
    CHECK(r.value().listed == 1);
    REQUIRE(r.value().files.size() == 1);
    CHECK(r.value().files[0].source == "direct");
    CHECK(r.value().files[0].content_type == "application/smart-health-card");
    CHECK(r.value().files[0].content.str() == kCard);

    server.set_mode(ShlServer::Mode::Gone);
    auto e = failure(shl::fetch(parse(server.link("U")), options()));
    CHECK(e.code == ErrorCode::SHL_NOT_FOUND);
    CHECK(e.message == "the link is no longer active (HTTP 404 from " + server.base_url() + ")");
}

TEST_CASE("shl: 404, expiry and server errors end the whole link") {
    ShlServer server;
    server.add_file("application/smart-health-card", kCard, true);

    auto expired = failure(shl::fetch(parse(server.link("", 1.7e9)), options()));
    CHECK(expired.code == ErrorCode::SHL_EXPIRED);
    CHECK(server.manifest_requests() == 0);

    server.set_mode(ShlServer::Mode::Gone);
    auto gone = failure(shl::fetch(parse(server.link()), options()));
    CHECK(gone.code == ErrorCode::SHL_NOT_FOUND);
    CHECK(gone.message ==
          "the link is no longer active: expired, used up or revoked (HTTP 404 from " + server.base_url() + ")");

    server.set_mode(ShlServer::Mode::ManifestError500);
    auto e500 = failure(shl::fetch(parse(server.link()), options()));
    CHECK(e500.code == ErrorCode::SHL_FETCH_FAILED);
    CHECK(e500.message == "the manifest: HTTP 500 from " + server.base_url());
}

TEST_CASE("shl: caps: manifest 1 MiB, file 16 MiB, file count, all files together") {
    ShlServer server;
    server.add_file("application/smart-health-card", kCard, false);

    server.set_mode(ShlServer::Mode::ManifestTooLarge);
    auto big_manifest = failure(shl::fetch(parse(server.link()), options()));
    CHECK(big_manifest.code == ErrorCode::SHL_TOO_LARGE);
    CHECK(big_manifest.message == "the manifest: larger than 1048576 bytes");

    server.set_mode(ShlServer::Mode::FileTooLarge);
    auto big_file = shl::fetch(parse(server.link()), options());
    REQUIRE(big_file.ok());
    CHECK(big_file.value().files.empty());
    REQUIRE(big_file.value().errors.size() == 1);
    CHECK(big_file.value().errors[0].error.code == ErrorCode::SHL_TOO_LARGE);
    CHECK(big_file.value().errors[0].error.message == "file 1: larger than 16777216 bytes");

    server.set_mode(ShlServer::Mode::Normal);
    server.add_file("application/smart-health-card", kCard, true);
    server.add_file("application/smart-health-card", kCard, true);
    auto opt = options();
    opt.max_files = 2;
    auto many = failure(shl::fetch(parse(server.link()), opt));
    CHECK(many.code == ErrorCode::SHL_TOO_LARGE);
    CHECK(many.message == "the manifest lists 3 files; at most 2 are read");

    opt = options();
    opt.max_total_bytes = kCard.size() * 2;
    auto total = shl::fetch(parse(server.link()), opt);
    REQUIRE(total.ok());
    CHECK(total.value().files.size() == 2);
    REQUIRE(total.value().errors.size() == 1);
    CHECK(total.value().errors[0].index == 3);
    CHECK(total.value().errors[0].error.code == ErrorCode::SHL_TOO_LARGE);
    CHECK(total.value().errors[0].error.message ==
          "file 3: the link's files together exceed " + std::to_string(kCard.size() * 2) + " bytes");
}

TEST_CASE("shl: time caps: a slow server hits the request timeout, and the link has a budget of its own") {
    ShlServer server;
    server.add_file("application/smart-health-card", kCard, true);
    server.set_mode(ShlServer::Mode::Slow);
    auto opt = options();
    opt.request_timeout_s = 1;
    auto slow = failure(shl::fetch(parse(server.link()), opt));
    CHECK(slow.code == ErrorCode::SHL_FETCH_FAILED);
    CHECK(test::contains(slow.message, "the manifest: " + server.base_url() + ": Timeout was reached"));

    opt = options();
    opt.link_timeout_s = 0;
    auto budget = failure(shl::fetch(parse(server.link()), opt));
    CHECK(budget.code == ErrorCode::SHL_FETCH_FAILED);
    CHECK(budget.message == "the manifest: the link's time limit of 0 s is used up");
}

TEST_CASE("shl: nothing listening: SHL_FETCH_FAILED naming only the origin") {
    std::string url;
    {
        ShlServer gone;
        url = gone.manifest_url();
    }
    auto link = parse(shl::encode_link({url, std::string(32, 'k'), std::nullopt, "", ""}));
    auto e = failure(shl::fetch(link, options()));
    CHECK(e.code == ErrorCode::SHL_FETCH_FAILED);
    CHECK(e.message.rfind("the manifest: http://127.0.0.1:", 0) == 0);
    CHECK_FALSE(test::contains(e.message, "/m/"));  // the manifest path is a capability
}

TEST_CASE("shl: redirects: the manifest is never redirected, files only within their origin") {
    ShlServer server;
    server.add_file("application/smart-health-card", kCard, false);

    server.set_mode(ShlServer::Mode::RedirectManifest);
    auto m = failure(shl::fetch(parse(server.link()), options()));
    CHECK(m.code == ErrorCode::SHL_FETCH_FAILED);
    CHECK(m.message == "the manifest: HTTP 307 from " + server.base_url() + ": a manifest request is not redirected");

    server.set_mode(ShlServer::Mode::RedirectFilesSameOrigin);
    auto same = shl::fetch(parse(server.link()), options());
    REQUIRE(same.ok());
    REQUIRE(same.value().files.size() == 1);
    CHECK(same.value().files[0].content.str() == kCard);

    server.set_mode(ShlServer::Mode::RedirectFilesOtherOrigin);
    auto other = shl::fetch(parse(server.link()), options());
    REQUIRE(other.ok());
    CHECK(other.value().files.empty());
    REQUIRE(other.value().errors.size() == 1);
    CHECK(other.value().errors[0].error.code == ErrorCode::SHL_FETCH_FAILED);
    std::string port = server.base_url().substr(server.base_url().rfind(':') + 1);
    CHECK(other.value().errors[0].error.message ==
          "file 1: redirect from " + server.base_url() + " to another origin (http://localhost:" + port + ") refused");
}

TEST_CASE("shl: manifests that break the spec") {
    ShlServer server;
    auto with_manifest = [&](const std::string& manifest) {
        server.set_manifest(manifest);
        return shl::fetch(parse(server.link()), options());
    };
    auto whole = [&](const std::string& manifest) {
        auto r = with_manifest(manifest);
        auto e = failure(r);
        CHECK(e.code == ErrorCode::SHL_INVALID);
        return e.message;
    };
    CHECK(whole("not json") == "the manifest is not a JSON object");
    CHECK(whole("[]") == "the manifest is not a JSON object");
    CHECK(whole("{}") == "the manifest has no files array");
    CHECK(whole(R"({"files":{}})") == "the manifest has no files array");
    CHECK(whole(R"({"files":[]})") == "the manifest lists no files");

    std::string good = shl::encrypt(kCard, server.key(), "application/smart-health-card");
    json entries = json::array({
        "just a string",
        {{"embedded", good}},
        {{"contentType", "application/smart-health-card"}},
        {{"contentType", "application/smart-health-card"}, {"embedded", 5}},
        {{"contentType", "application/smart-health-card"}, {"location", "https://user:pw@files.example.org/f"}},
        {{"contentType", "application/smart-health-card"}, {"location", "http://files.example.org/f"}},
        {{"contentType", "application/fhir+json"}, {"embedded", good}},
        {{"contentType", "application/smart-health-card"},
         {"embedded", shl::encrypt(kCard, std::string(32, 'z'), "application/smart-health-card")}},
        {{"contentType", "application/smart-health-card"}, {"location", server.base_url() + "/f/99"}},
        {{"contentType", "application/smart-api-access"}, {"location", server.base_url() + "/f/0"}},
        {{"contentType", "text/plain"}, {"embedded", good}},
        {{"contentType", "application/smart-health-card"}, {"embedded", good}, {"status", "finalized"}},
    });
    auto r = with_manifest(json{{"files", entries}, {"status", "can-change"}}.dump());
    REQUIRE(r.ok());
    const auto& c = r.value();
    CHECK(c.listed == 12);
    CHECK(c.manifest_status == "can-change");
    REQUIRE(c.files.size() == 1);
    CHECK(c.files[0].index == 12);
    std::vector<std::pair<ErrorCode, std::string>> expected = {
        {ErrorCode::SHL_INVALID, "file 1: the manifest entry is not an object"},
        {ErrorCode::SHL_INVALID, "file 2: contentType is missing"},
        {ErrorCode::SHL_INVALID, "file 3: neither embedded nor location is given"},
        {ErrorCode::SHL_INVALID, "file 4: embedded is not a string"},
        {ErrorCode::SHL_INVALID, "file 5: location: a user name or password in a URL is not allowed"},
        {ErrorCode::SHL_INVALID, "file 6: location: only https:// URLs are fetched (http:// only to this machine)"},
        {ErrorCode::SHL_INVALID,
         "file 7: the manifest says application/fhir+json but the file's cty says application/smart-health-card"},
        {ErrorCode::SHL_DECRYPT_FAILED,
         "file 8: the file does not decrypt with the link's key (another link's file, or modified)"},
        {ErrorCode::SHL_NOT_FOUND, "file 9: its location is gone (HTTP 404 from " + server.base_url() +
                                       "); locations are short-lived: open the link again"},
    };
    REQUIRE(c.errors.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        CHECK(c.errors[i].index == i + 1);
        CHECK(c.errors[i].error.code == expected[i].first);
        CHECK(c.errors[i].error.message == expected[i].second);
    }
    REQUIRE(c.warnings.size() == 2);
    CHECK(c.warnings[0].error.code == ErrorCode::SHL_CONTENT_SKIPPED);
    CHECK(c.warnings[0].error.message == "file 10: application/smart-api-access is not read by shcx");
    CHECK(c.warnings[1].error.message == "file 11: text/plain is not read by shcx");
    CHECK(server.file_requests() == 1);  // file 9 only: a skipped file is not even fetched
}

TEST_CASE("shl: a U file whose cty shcx does not read is skipped with a warning") {
    ShlServer server;
    server.add_file("application/smart-api-access", R"({"access_token":"secret"})", false);
    auto r = shl::fetch(parse(server.link("U")), options());
    REQUIRE(r.ok());
    CHECK(r.value().files.empty());
    REQUIRE(r.value().warnings.size() == 1);
    CHECK(r.value().warnings[0].error.message == "file 1: application/smart-api-access is not read by shcx");
}

TEST_CASE("shl: media types compare without parameters and case") {
    CHECK(shl::media_type("application/fhir+json;fhirVersion=4.0.1") == "application/fhir+json");
    CHECK(shl::media_type(" Application/Smart-Health-Card ") == "application/smart-health-card");
}

TEST_CASE("shl: FHIR content is summarised: an IPS document, a single resource, and what is not FHIR") {
    json ips = {
        {"resourceType", "Bundle"},
        {"type", "document"},
        {"entry",
         {{{"fullUrl", "urn:uuid:c"},
           {"resource",
            {{"resourceType", "Composition"},
             {"title", "Patient Summary"},
             {"subject", {{"reference", "urn:uuid:p"}}}}}},
          {{"fullUrl", "urn:uuid:p"},
           {"resource",
            {{"resourceType", "Patient"},
             {"name", {{{"given", {"Ada"}}, {"family", "Lovelace"}}}},
             {"birthDate", "1815-12-10"}}}},
          {{"fullUrl", "urn:uuid:a1"},
           {"resource",
            {{"resourceType", "AllergyIntolerance"},
             {"patient", {{"reference", "urn:uuid:p"}}},
             {"code",
              {{"coding",
                {{{"system", "http://snomed.info/sct"}, {"code", "91936005"}, {"display", "Penicillin allergy"}}}}}}}}},
          {{"fullUrl", "urn:uuid:a2"},
           {"resource", {{"resourceType", "AllergyIntolerance"}, {"patient", {{"reference", "urn:uuid:p"}}}}}}}},
    };
    auto s = shl::summarize_fhir(ips.dump());
    REQUIRE(s.ok());
    CHECK(s.value().resource_type == "Bundle");
    CHECK(s.value().bundle_type == "document");
    CHECK(s.value().title == "Patient Summary");
    CHECK(s.value().resources == 4);
    using Count = std::pair<std::string, size_t>;
    CHECK(s.value().counts == std::vector<Count>{{"Composition", 1}, {"Patient", 1}, {"AllergyIntolerance", 2}});
    REQUIRE(s.value().people.size() == 1);
    CHECK(s.value().people[0].name == "Ada Lovelace");
    CHECK(s.value().people[0].other.size() == 3);

    auto single = shl::summarize_fhir(kPatient);
    REQUIRE(single.ok());
    CHECK(single.value().resource_type == "Patient");
    CHECK(single.value().resources == 1);
    REQUIRE(single.value().people.size() == 1);
    CHECK(single.value().people[0].birth_date == "1815-12-10");

    for (const char* bad : {"[1]", "{\"id\":1}", "not json", "{\"resourceType\":\"\"}"}) {
        auto r = shl::summarize_fhir(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == ErrorCode::SHL_INVALID);
    }
}
