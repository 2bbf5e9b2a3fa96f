// TIME arguments (RFC 3339 or seconds since the epoch) and UTC formatting.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shcx::timeutil {

// "2024-05-07T18:49:23Z", "2024-05-07T18:49:23.5+02:00", "2024-05-07" (midnight UTC),
// or "1715107763" / "1715107763.677". nullopt for anything else, including dates that are
// not on the calendar ("2026-02-31", "2025-02-29").
std::optional<double> parse_time(std::string_view text);

// "2024-05-07T18:49:23Z" (fractional seconds dropped).
std::string format_utc(double seconds);

double now();

}  // namespace shcx::timeutil
