#include "shcx/timeutil.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>

namespace shcx::timeutil {
namespace {
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Days in a month of the proleptic Gregorian calendar (RFC 3339 §5.7).
int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}
}  // namespace

std::optional<double> parse_time(std::string_view s) {
    if (s.empty()) return std::nullopt;
    // Seconds since the epoch.
    if (s.find('-') == std::string_view::npos || s.find('-') == 0) {
        double v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
        return v;
    }
    std::tm tm{};
    int year, mon, day;
    if (!digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mon) || s[7] != '-' ||
        !digits(s, 8, 2, day))
        return std::nullopt;
    // A real calendar date: 2026-02-31 is not "March 3rd".
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon)) return std::nullopt;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    double frac = 0;
    long offset = 0;
    if (s.size() > 10) {
        int hh, mm, ss;
        if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hh) || s.size() < 19 || s[13] != ':' ||
            !digits(s, 14, 2, mm) || s[16] != ':' || !digits(s, 17, 2, ss))
            return std::nullopt;
        if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
        tm.tm_hour = hh;
        tm.tm_min = mm;
        tm.tm_sec = ss;
        size_t pos = 19;
        if (pos < s.size() && s[pos] == '.') {
            size_t start = ++pos;
            double scale = 0.1;
            while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
                frac += (s[pos] - '0') * scale;
                scale /= 10;
                ++pos;
            }
            if (pos == start) return std::nullopt;
        }
        if (pos >= s.size()) return std::nullopt;  // RFC 3339 requires an offset
        if (s[pos] == 'Z' || s[pos] == 'z') {
            ++pos;
        } else if (s[pos] == '+' || s[pos] == '-') {
            int oh, om;
            if (!digits(s, pos + 1, 2, oh) || s.size() < pos + 6 || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om))
                return std::nullopt;
            offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
            pos += 6;
        } else {
            return std::nullopt;
        }
        if (pos != s.size()) return std::nullopt;
    }
    time_t t = timegm(&tm);
    return static_cast<double>(t) - static_cast<double>(offset) + frac;
}

std::string format_utc(double seconds) {
    // Beyond about 30 million years gmtime cannot say, and converting a larger double to
    // time_t is undefined: a card's nbf of 1e308 must still print something.
    if (!std::isfinite(seconds) || std::fabs(seconds) > 1e15) return "invalid-time";
    time_t t = static_cast<time_t>(std::floor(seconds));
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) return "invalid-time";
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

double now() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace shcx::timeutil
