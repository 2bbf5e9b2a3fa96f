// Venue policies: an entry rule stated once, as data (JSON), answered per person.
//   {"name", "description", "max_card_age_days"?,
//    "accept_any_of": [
//      {"type":"immunization", "vaccines": "any" | [{"system","codes":[...],"series_doses"?}],
//       "min_doses": N | "primary_series", "min_days_since_last_dose": N},
//      {"type":"lab", "tests":[{"system","codes"}], "results":[{"system","codes"}], "max_age_hours": N}]}
// A person passes when any rule in accept_any_of passes (and the card is young enough).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/card/card.h"
#include "shcx/error.h"

namespace shcx::policy {

struct CodeSet {
    std::string system;
    std::vector<std::string> codes;
    int series_doses = 0;  // for primary_series with codes the CVX table does not know
};

struct Rule {
    enum class Type { Immunization, Lab } type = Type::Immunization;
    // immunization
    bool any_vaccine = false;
    std::vector<CodeSet> vaccines;
    bool primary_series = false;  // min_doses: "primary_series"
    int min_doses = 1;
    double min_days_since_last_dose = 0;
    // lab
    std::vector<CodeSet> tests, results;
    double max_age_hours = 0;
};

struct Policy {
    std::string name, description;
    std::optional<double> max_card_age_days;
    std::vector<Rule> accept_any_of;
};

// POLICY_INVALID naming the bad field, e.g. "accept_any_of[0].min_doses: ...".
Result<Policy> parse(std::string_view json, const std::string& source);

// Built-in policies (policies/*.json, compiled in).
std::vector<std::string> builtin_names();
inline constexpr size_t kMaxPolicyFileBytes = 1u << 20;
// A built-in name, else a file path; POLICY_INVALID / INPUT_UNREADABLE / INPUT_TOO_LARGE
// otherwise.
Result<Policy> load(const std::string& name_or_file);

struct PersonOutcome {
    std::string name, birth_date;
    bool pass = false;
    std::vector<std::string> reasons;  // why it passed (the rule met) or every reason it failed
};

// One outcome per person on the card, evaluated as of `at` (seconds).
std::vector<PersonOutcome> evaluate(const Policy& policy, const card::Card& card, double at);

// A policy's answer for one card: an outcome per person on it.
struct Answer {
    std::string policy;
    std::vector<PersonOutcome> people;
    bool pass() const;  // someone is on the card, and everyone passes
};

}  // namespace shcx::policy
