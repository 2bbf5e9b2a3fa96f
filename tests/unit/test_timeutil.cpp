#include <doctest/doctest.h>

#include "shcx/timeutil.h"

using namespace shcx;

TEST_CASE("TIME accepts RFC 3339 and epoch seconds") {
    CHECK(timeutil::parse_time("2024-05-07T18:49:23Z").value() == 1715107763.0);
    CHECK(timeutil::parse_time("2024-05-07T20:49:23+02:00").value() == 1715107763.0);
    CHECK(timeutil::parse_time("2024-05-07T18:49:23.5Z").value() == doctest::Approx(1715107763.5));
    CHECK(timeutil::parse_time("2024-05-07").value() == 1715040000.0);
    CHECK(timeutil::parse_time("1715107763").value() == 1715107763.0);
    CHECK(timeutil::parse_time("1715107763.677").value() == doctest::Approx(1715107763.677));
}

TEST_CASE("TIME rejects near misses") {
    for (const char* bad : {"", "yesterday", "2024-13-01", "2024-05-07T18:49:23", "2024-05-07T25:00:00Z",
                            "2024-05-07T18:49:23Zjunk", "17151077x", "2024/05/07"}) {
        CAPTURE(bad);
        CHECK_FALSE(timeutil::parse_time(bad).has_value());
    }
}

TEST_CASE("UTC formatting drops fractions") {
    CHECK(timeutil::format_utc(1715107763.677) == "2024-05-07T18:49:23Z");
    CHECK(timeutil::format_utc(0) == "1970-01-01T00:00:00Z");
}
