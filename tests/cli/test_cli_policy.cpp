// `shcx verify --policy`: built-in policies against generated cards, one answer per
// person, exit codes, --at, and malformed policy files.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support.h"

using namespace shcx::test;
using nlohmann::json;

namespace {

const std::string kIss = "https://issuer.shcx.example/demo";
const std::string kAt = "2026-11-21T12:00:00Z";

struct Dose {
    std::string cvx, date;
};
struct Test {
    std::string loinc, result_snomed, when;
};
struct Person {
    std::string family, given, birth;
    std::vector<Dose> doses;
    std::vector<Test> tests = {};
};

json bundle_of(const std::vector<Person>& people) {
    json entries = json::array();
    int n = 0;
    for (const auto& p : people) {
        int pid = n++;
        entries.push_back({{"fullUrl", "resource:" + std::to_string(pid)},
                           {"resource",
                            {{"resourceType", "Patient"},
                             {"name", {{{"family", p.family}, {"given", {p.given}}}}},
                             {"birthDate", p.birth}}}});
        for (const auto& d : p.doses)
            entries.push_back(
                {{"fullUrl", "resource:" + std::to_string(n++)},
                 {"resource",
                  {{"resourceType", "Immunization"},
                   {"status", "completed"},
                   {"vaccineCode", {{"coding", {{{"system", "http://hl7.org/fhir/sid/cvx"}, {"code", d.cvx}}}}}},
                   {"patient", {{"reference", "resource:" + std::to_string(pid)}}},
                   {"occurrenceDateTime", d.date}}}});
        for (const auto& t : p.tests)
            entries.push_back(
                {{"fullUrl", "resource:" + std::to_string(n++)},
                 {"resource",
                  {{"resourceType", "Observation"},
                   {"status", "final"},
                   {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", t.loinc}}}}}},
                   {"subject", {{"reference", "resource:" + std::to_string(pid)}}},
                   {"effectiveDateTime", t.when},
                   {"valueCodeableConcept",
                    {{"coding", {{{"system", "http://snomed.info/sct"}, {"code", t.result_snomed}}}}}}}}});
    }
    return {{"resourceType", "Bundle"}, {"type", "collection"}, {"entry", entries}};
}

// Issues a card for `people` and verifies it with the given policies.
struct Outcome {
    int code;
    json result;
    std::string text;
};
Outcome check(const std::vector<Person>& people, const std::vector<std::string>& policies, const std::string& at = kAt,
              const std::vector<std::string>& extra_issue = {}) {
    TempDir tmp;
    write_file(tmp / "bundle.json", bundle_of(people).dump());
    std::vector<std::string> issue{"issue", (tmp / "bundle.json").string(),
                                   "--key", (testdata_dir() / "issuer/key.jwk").string(),
                                   "--iss", kIss,
                                   "--nbf", "2026-01-01T00:00:00Z",
                                   "--out", (tmp / "card.shc").string()};
    issue.insert(issue.end(), extra_issue.begin(), extra_issue.end());
    REQUIRE(run_shcx(issue).code == 0);
    std::vector<std::string> args{"verify", (tmp / "card.shc").string(),
                                  "--jwks", kIss + "=" + (testdata_dir() / "issuer/jwks.json").string(),
                                  "--at",   at};
    for (const auto& p : policies) args.insert(args.end(), {"--policy", p});
    auto text = run_shcx(args);
    args.push_back("--json");
    auto r = run_shcx(args);
    CAPTURE(r.err);
    CHECK(r.code == text.code);
    return {r.code, json::parse(r.out)["results"][0], text.out};
}

json person_result(const Outcome& o, size_t policy, size_t person) {
    return o.result["policies"][policy]["results"][person];
}

const Person kTwoMrna{"Okafor", "Ada", "1984-03-12", {{"208", "2021-04-02"}, {"208", "2021-04-23"}}};

}  // namespace

TEST_CASE("covid19-primary-series: two doses of a two-dose vaccine, long ago: pass, exit 0") {
    auto o = check({kTwoMrna}, {"covid19-primary-series"});
    CHECK(o.code == 0);
    CHECK(o.result["status"] == "valid");
    REQUIRE(o.result["policies"].size() == 1);
    CHECK(o.result["policies"][0]["name"] == "covid19-primary-series");
    auto p = person_result(o, 0, 0);
    CHECK(p["person"] == json{{"name", "Ada Okafor"}, {"birthDate", "1984-03-12"}});
    CHECK(p["outcome"] == "pass");
    CHECK(p["reasons"][0] == "2 accepted doses (CVX 208), completed 2021-04-23, 2038 days ago");
    CHECK(contains(o.text, "  Policy covid19-primary-series:\n    PASS  Ada Okafor (1984-03-12): 2 accepted doses"));
}

TEST_CASE("covid19-primary-series: one dose of a single-dose vaccine passes, mixed mRNA products pass") {
    auto janssen = check({{"Lee", "Min", "1990-01-01", {{"212", "2021-07-01"}}}}, {"covid19-primary-series"});
    CHECK(janssen.code == 0);
    CHECK(person_result(janssen, 0, 0)["outcome"] == "pass");
    auto mixed = check({{"Lee", "Min", "1990-01-01", {{"207", "2021-07-01"}, {"208", "2021-08-01"}}}},
                       {"covid19-primary-series"});
    CHECK(mixed.code == 0);
}

TEST_CASE("covid19-primary-series: too few doses fails, exit 1") {
    auto o = check({{"Okafor", "Ada", "1984-03-12", {{"208", "2021-04-02"}}}}, {"covid19-primary-series"});
    CHECK(o.code == 1);
    CHECK(o.result["status"] == "valid");  // the card is fine; the person does not meet the policy
    auto p = person_result(o, 0, 0);
    CHECK(p["outcome"] == "fail");
    CHECK(p["reasons"] == json::array({"only 1 accepted dose; 2 needed"}));
    CHECK(contains(o.text, "FAIL  Ada Okafor (1984-03-12): only 1 accepted dose; 2 needed"));
}

TEST_CASE("covid19-primary-series: last dose too recent fails, --at moves the evaluation date") {
    Person recent{"Okafor", "Ada", "1984-03-12", {{"208", "2026-10-20"}, {"208", "2026-11-16"}}};
    auto o = check({recent}, {"covid19-primary-series"});
    CHECK(o.code == 1);
    CHECK(person_result(o, 0, 0)["reasons"][0] == "2 accepted doses, completed 2026-11-16, only 5 days ago (needs 14)");
    auto later = check({recent}, {"covid19-primary-series"}, "2026-12-01T00:00:00Z");
    CHECK(later.code == 0);
    CHECK(person_result(later, 0, 0)["outcome"] == "pass");
}

TEST_CASE("a vaccine the policy does not accept fails it, any-immunization still passes") {
    Person flu{"Berg", "Ola", "1970-05-05", {{"88", "2025-10-01"}}};
    auto o = check({flu}, {"covid19-primary-series", "any-immunization"});
    CHECK(o.code == 1);
    CHECK(person_result(o, 0, 0)["outcome"] == "fail");
    CHECK(person_result(o, 0, 0)["reasons"][0] == "no accepted immunization (not accepted: CVX 88)");
    CHECK(person_result(o, 1, 0)["outcome"] == "pass");
    CHECK(run_shcx({"verify", "--help"}).out.find("--policy") != std::string::npos);
}

TEST_CASE("two people on one card get different answers, exit 1 unless everyone passes") {
    Person child{"Okafor", "Tobi", "2015-06-01", {{"218", "2022-01-10"}}};
    auto o = check({kTwoMrna, child}, {"covid19-primary-series"});
    CHECK(o.code == 1);
    REQUIRE(o.result["policies"][0]["results"].size() == 2);
    CHECK(person_result(o, 0, 0)["person"]["name"] == "Ada Okafor");
    CHECK(person_result(o, 0, 0)["outcome"] == "pass");
    CHECK(person_result(o, 0, 1)["person"] == json{{"name", "Tobi Okafor"}, {"birthDate", "2015-06-01"}});
    CHECK(person_result(o, 0, 1)["outcome"] == "fail");
    CHECK(contains(o.text, "PASS  Ada Okafor (1984-03-12)"));
    CHECK(contains(o.text, "FAIL  Tobi Okafor (2015-06-01)"));
    auto any = check({kTwoMrna, child}, {"any-immunization"});
    CHECK(any.code == 0);
}

TEST_CASE("covid19-negative-test: a negative test within 72 hours passes, old or positive fails") {
    auto fresh = check({{"Lind", "Erik", "1990-11-30", {}, {{"94558-4", "260385009", "2026-11-20T08:00:00Z"}}}},
                       {"covid19-negative-test"});
    CHECK(fresh.code == 0);
    CHECK(person_result(fresh, 0, 0)["reasons"][0] == "negative LOINC 94558-4 taken 2026-11-20T08:00:00Z");
    auto old = check({{"Lind", "Erik", "1990-11-30", {}, {{"94558-4", "260385009", "2026-11-10T08:00:00Z"}}}},
                     {"covid19-negative-test"});
    CHECK(old.code == 1);
    CHECK(person_result(old, 0, 0)["reasons"][0] == "negative test of 2026-11-10T08:00:00Z is older than 72 hours");
    auto positive = check({{"Lind", "Erik", "1990-11-30", {}, {{"94500-6", "10828004", "2026-11-21T08:00:00Z"}}}},
                          {"covid19-negative-test"});
    CHECK(positive.code == 1);
    CHECK(person_result(positive, 0, 0)["reasons"][0] == "no negative result among the accepted tests");
}

TEST_CASE("a card that is not valid fails every policy, with the reason") {
    auto o = check({kTwoMrna}, {"covid19-primary-series"}, kAt, {"--exp", "2026-06-01T00:00:00Z"});
    CHECK(o.code == 1);
    CHECK(o.result["status"] == "expired");
    CHECK(person_result(o, 0, 0)["outcome"] == "fail");
    CHECK(person_result(o, 0, 0)["reasons"][0] == "the card is not valid (expired)");
}

TEST_CASE("policy files: custom rules, maximum card age, malformed files name the bad field") {
    TempDir tmp;
    write_file(tmp / "strict.json", R"({"name":"strict","max_card_age_days":30,
        "accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":1}]})");
    auto o = check({kTwoMrna}, {(tmp / "strict.json").string()});
    CHECK(o.code == 1);
    CHECK(person_result(o, 0, 0)["reasons"][0] == "the card was issued 324 days ago (at most 30)");

    struct Bad {
        std::string json, field;
    } bad[] = {
        {R"({"accept_any_of":[]})", "name"},
        {R"({"name":"x","accept_any_of":[]})", "accept_any_of"},
        {R"({"name":"x","accept_any_of":[{"type":"vaccine"}]})", "accept_any_of[0].type"},
        {R"({"name":"x","accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":"two"}]})",
         "accept_any_of[0].min_doses"},
        {R"({"name":"x","accept_any_of":[{"type":"immunization","vaccines":[{"codes":["207"]}],"min_doses":1}]})",
         "accept_any_of[0].vaccines[0].system"},
        {R"({"name":"x","accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":1,"min_days_since_last_dose":-1}]})",
         "accept_any_of[0].min_days_since_last_dose"},
        {R"({"name":"x","accept_any_of":[{"type":"lab","tests":[{"system":"http://loinc.org","codes":["1"]}],"results":[{"system":"s","codes":["n"]}]}]})",
         "accept_any_of[0].max_age_hours"},
        {R"({"name":"x","max_card_age_days":"a year","accept_any_of":[{"type":"immunization","vaccines":"any","min_doses":1}]})",
         "max_card_age_days"},
        {R"(not json)", "(document)"},
    };
    for (const auto& b : bad) {
        CAPTURE(b.field);
        write_file(tmp / "bad.json", b.json);
        auto r = run_shcx(
            {"verify", (testdata_dir() / "cards/lab-result.txt").string(), "--policy", (tmp / "bad.json").string()});
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "POLICY_INVALID: " + (tmp / "bad.json").string() + ": " + b.field + ":"));
    }
    auto unknown =
        run_shcx({"verify", (testdata_dir() / "cards/lab-result.txt").string(), "--policy", "no-such-policy"});
    CHECK(unknown.code == 2);
    CHECK(contains(unknown.err, "covid19-primary-series"));  // names the built-ins
}
