// lib/shcx/verify/policy: parsing (errors name the field), built-ins, evaluation per person.
#include <doctest/doctest.h>

#include "shcx/timeutil.h"
#include "shcx/verify/policy.h"
#include "support.h"

using namespace shcx;

namespace {
const std::string kCvx = "http://hl7.org/fhir/sid/cvx";
double at(const char* when) { return timeutil::parse_time(when).value(); }

card::Immunization dose(const std::string& code, const std::string& date, const std::string& status = "completed") {
    card::Immunization im;
    im.vaccine = {kCvx, code, ""};
    im.date = date;
    im.status = status;
    return im;
}
card::Card card_of(std::vector<card::Person> people, std::optional<double> nbf = std::nullopt) {
    card::Card c;
    c.people = std::move(people);
    c.nbf = nbf;
    return c;
}
card::Person person(const std::string& name, std::vector<card::Immunization> doses) {
    card::Person p;
    p.name = name;
    p.birth_date = "1980-01-01";
    p.immunizations = std::move(doses);
    return p;
}
policy::Policy builtin(const std::string& name) { return policy::load(name).value(); }
}  // namespace

TEST_CASE("the built-in policies load by name") {
    auto names = policy::builtin_names();
    CHECK(names == std::vector<std::string>{"any-immunization", "covid19-negative-test", "covid19-primary-series"});
    for (const auto& n : names) {
        CAPTURE(n);
        auto p = policy::load(n);
        REQUIRE(p.ok());
        CHECK(p.value().name == n);
        CHECK_FALSE(p.value().accept_any_of.empty());
    }
    auto missing = policy::load("/nonexistent/policy.json");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == ErrorCode::INPUT_UNREADABLE);
    CHECK(test::contains(missing.error().message, "covid19-primary-series"));  // lists the built-ins
}

TEST_CASE("a policy file is read from disk, with its own name") {
    test::TempDir dir;
    test::write_file(dir / "venue.json",
                     R"({"name":"venue","accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":3}]})");
    auto p = policy::load((dir / "venue.json").string());
    REQUIRE(p.ok());
    CHECK(p.value().name == "venue");
    CHECK(p.value().accept_any_of[0].min_doses == 3);
    CHECK(p.value().accept_any_of[0].any_vaccine);
    test::write_file(dir / "big.json", std::string(policy::kMaxPolicyFileBytes + 1, ' '));
    CHECK(policy::load((dir / "big.json").string()).error().code == ErrorCode::INPUT_TOO_LARGE);
}

TEST_CASE("POLICY_INVALID names the bad field") {
    struct Case {
        const char* json;
        const char* field;
    } cases[] = {
        {"[]", "(document)"},
        {R"({"accept_any_of":[]})", "name"},
        {R"({"name":"p"})", "accept_any_of"},
        {R"({"name":"p","max_card_age_days":0,"accept_any_of":[{}]})", "max_card_age_days"},
        {R"({"name":"p","accept_any_of":[{"type":"vibes"}]})", "accept_any_of[0].type"},
        {R"({"name":"p","accept_any_of":[{"type":"immunization","min_doses":1}]})", "accept_any_of[0].vaccines"},
        {R"({"name":"p","accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":0}]})",
         "accept_any_of[0].min_doses"},
        {R"({"name":"p","accept_any_of":[{"type":"immunization","vaccines":[{"system":"s","codes":[]}],"min_doses":1}]})",
         "accept_any_of[0].vaccines[0].codes"},
        {R"({"name":"p","accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":1,"min_days_since_last_dose":-1}]})",
         "accept_any_of[0].min_days_since_last_dose"},
        {R"({"name":"p","accept_any_of":[{"type":"lab","tests":[{"system":"s","codes":["1"]}],"max_age_hours":1}]})",
         "accept_any_of[0].results"},
        {R"({"name":"p","accept_any_of":[{"type":"lab","tests":[{"system":"s","codes":["1"]}],"results":[{"system":"s","codes":["2"]}]}]})",
         "accept_any_of[0].max_age_hours"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.json);
        auto p = policy::parse(c.json, "my.json");
        REQUIRE_FALSE(p.ok());
        CHECK(p.error().code == ErrorCode::POLICY_INVALID);
        CHECK(test::contains(p.error().message, std::string("my.json: ") + c.field + ":"));
    }
}

TEST_CASE("primary series: two doses of an mRNA vaccine or one Janssen, the last 14 days before") {
    auto p = builtin("covid19-primary-series");
    auto c = card_of({person("two", {dose("208", "2021-05-01"), dose("208", "2021-05-22")}),
                      person("one", {dose("212", "2021-05-22")}), person("short", {dose("208", "2021-05-22")}),
                      person("recent", {dose("207", "2021-05-01"), dose("207", "2021-06-01")}),
                      person("not done", {dose("208", "2021-05-01"), dose("208", "2021-05-22", "not-done")}),
                      person("other vaccine", {dose("88", "2021-05-01"), dose("88", "2021-05-22")})});
    auto out = policy::evaluate(p, c, at("2021-06-10T00:00:00Z"));
    REQUIRE(out.size() == 6);
    CHECK(out[0].pass);
    CHECK(out[0].reasons == std::vector<std::string>{"2 accepted doses (CVX 208), completed 2021-05-22, 19 days ago"});
    CHECK(out[1].pass);
    CHECK_FALSE(out[2].pass);
    CHECK(out[2].reasons == std::vector<std::string>{"only 1 accepted dose; 2 needed"});
    CHECK_FALSE(out[3].pass);
    CHECK(test::contains(out[3].reasons.at(0), "only 9 days ago (needs 14)"));
    CHECK_FALSE(out[4].pass);  // a dose not completed does not count
    CHECK_FALSE(out[5].pass);
    CHECK(out[5].reasons == std::vector<std::string>{"no accepted immunization (not accepted: CVX 88 CVX 88)"});
}

TEST_CASE("lab rule: a negative result code within max_age_hours, display text is never compared") {
    auto p = builtin("covid19-negative-test");
    auto lab = [](const std::string& date, const std::string& result_code) {
        card::Person person;
        person.name = "t";
        card::LabResult r;
        r.test = {"http://loinc.org", "94500-6", ""};
        r.date = date;
        r.value_system = "http://snomed.info/sct";
        r.value_code = result_code;
        r.value = "Negative";  // whatever the display says
        person.results.push_back(r);
        return person;
    };
    auto c = card_of({lab("2026-01-10T08:00:00Z", "260385009"), lab("2026-01-06T08:00:00Z", "260385009"),
                      lab("2026-01-10T08:00:00Z", "10828004")});
    auto out = policy::evaluate(p, c, at("2026-01-11T08:00:00Z"));
    REQUIRE(out.size() == 3);
    CHECK(out[0].pass);
    CHECK(out[0].reasons == std::vector<std::string>{"negative LOINC 94500-6 taken 2026-01-10T08:00:00Z"});
    CHECK_FALSE(out[1].pass);
    CHECK(test::contains(out[1].reasons.at(0), "older than 72 hours"));
    CHECK_FALSE(out[2].pass);
    CHECK(out[2].reasons == std::vector<std::string>{"no negative result among the accepted tests"});
}

TEST_CASE("max_card_age_days fails everyone on an old card, an Answer passes only with someone on it") {
    auto p =
        policy::parse(
            R"({"name":"fresh","max_card_age_days":30,"accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":1}]})",
            "t")
            .value();
    auto c = card_of({person("a", {dose("208", "2021-01-01")})}, at("2021-01-01T00:00:00Z"));
    CHECK(policy::evaluate(p, c, at("2021-01-20T00:00:00Z"))[0].pass);
    auto old = policy::evaluate(p, c, at("2021-03-01T00:00:00Z"));
    CHECK_FALSE(old[0].pass);
    CHECK(test::contains(old[0].reasons.at(0), "issued 59 days ago (at most 30)"));

    CHECK_FALSE(policy::Answer{"p", {}}.pass());
    CHECK(policy::Answer{"p", {{"a", "", true, {}}, {"b", "", true, {}}}}.pass());
    CHECK_FALSE(policy::Answer{"p", {{"a", "", true, {}}, {"b", "", false, {}}}}.pass());
}
