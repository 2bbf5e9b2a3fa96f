#include <doctest/doctest.h>

#include <set>

#include "shcx/card/cvx.h"

using namespace shcx;

TEST_CASE("CVX lookups: name, manufacturer and primary-series doses") {
    const auto* pfizer = cvx::find("208");
    REQUIRE(pfizer);
    CHECK(pfizer->name == "COVID-19 mRNA (Pfizer-BioNTech) 30 mcg/0.3 mL");
    CHECK(pfizer->manufacturer == "Pfizer-BioNTech");
    CHECK(pfizer->series_doses == 2);
    CHECK(cvx::find("212")->series_doses == 1);  // Janssen: one dose
    CHECK(cvx::find("219")->series_doses == 3);
    CHECK(cvx::find("213")->series_doses == 0);  // unspecified: not a series
    CHECK(cvx::find("999999") == nullptr);
    CHECK(cvx::find("") == nullptr);
    CHECK(cvx::find("2080") == nullptr);  // whole codes only
    CHECK(cvx::find("0208") == nullptr);
}

TEST_CASE("the table: every row complete, codes unique and numeric, comments skipped") {
    std::set<std::string> codes;
    REQUIRE(cvx::all().size() >= 30);
    for (const auto& e : cvx::all()) {
        CAPTURE(e.code);
        CHECK(codes.insert(e.code).second);
        CHECK(e.code.find_first_not_of("0123456789") == std::string::npos);
        CHECK_FALSE(e.name.empty());
        CHECK_FALSE(e.manufacturer.empty());
        CHECK(e.series_doses >= 0);
    }
}
