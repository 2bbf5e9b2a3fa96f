// The error table (lib/shcx/error_codes.def): names, severity, exit class, and that every
// code is documented in a man page's ERROR CODES section.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "shcx/error.h"
#include "support.h"

using namespace shcx;

namespace {

struct Documented {
    std::set<std::string> pages;
    std::set<std::string> subsections;  // ".SS" titles it is listed under
};

// Code names listed on the .B lines of every ERROR CODES section in man/*.1.
std::map<std::string, Documented> documented_codes() {
    std::map<std::string, Documented> out;
    const std::regex code_name("\\b[A-Z][A-Z0-9_]{3,}\\b");
    for (const auto& entry : test::fs::directory_iterator(test::fs::path(SHCX_SOURCE_DIR) / "man")) {
        if (entry.path().extension() != ".1") continue;
        std::istringstream page(test::read_file(entry.path()));
        std::string line, subsection;
        bool in_section = false;
        while (std::getline(page, line)) {
            if (line.rfind(".SH ", 0) == 0) {
                in_section = line == ".SH ERROR CODES";
                subsection.clear();
            } else if (in_section && line.rfind(".SS ", 0) == 0) {
                subsection = line.substr(4);
            } else if (in_section && line.rfind(".B ", 0) == 0) {
                for (std::sregex_iterator it(line.begin(), line.end(), code_name), end; it != end; ++it) {
                    auto& d = out[it->str()];
                    d.pages.insert(entry.path().filename().string());
                    d.subsections.insert(subsection);
                }
            }
        }
    }
    return out;
}

}  // namespace

TEST_CASE("the table: names are unique, info() finds each code, enum order is kept") {
    std::set<std::string_view> names;
    size_t i = 0;
    for (const auto& c : all_codes()) {
        CAPTURE(c.name);
        CHECK(static_cast<size_t>(c.code) == i++);
        CHECK(names.insert(c.name).second);
        CHECK(&info(c.code) == &c);
        CHECK(code_name(c.code) == c.name);
        CHECK_FALSE(c.meaning.empty());
        CHECK(c.meaning.find('\n') == std::string_view::npos);
    }
    CHECK(all_codes().size() == static_cast<size_t>(ErrorCode::INTERNAL) + 1);
    CHECK(code_name(ErrorCode::QR_CHUNK_MISSING) == "QR_CHUNK_MISSING");
}

TEST_CASE("severity and exit class as the CLI relies on them") {
    CHECK(severity(ErrorCode::TRAILING_CHARACTERS) == Severity::Warning);
    CHECK(severity(ErrorCode::CRL_STALE) == Severity::Warning);
    CHECK(severity(ErrorCode::REVOKED) == Severity::Error);
    CHECK(exit_class(ErrorCode::INPUT_UNRECOGNIZED) == ExitClass::Failure);
    CHECK(exit_class(ErrorCode::JWS_SIGNATURE_INVALID) == ExitClass::Negative);
    CHECK(exit_class(ErrorCode::SNAPSHOT_SIGNATURE_INVALID) == ExitClass::Negative);  // trust sync exits 1
    CHECK(exit_class(ErrorCode::NETWORK_ERROR) == ExitClass::Failure);
    CHECK(exit_class(ErrorCode::SHARE_WRONG_PIN) == ExitClass::Negative);
    // A warning never decides an outcome, an error always does.
    for (const auto& c : all_codes()) {
        CAPTURE(c.name);
        CHECK((c.severity == Severity::Warning) == (c.exit == ExitClass::None));
    }
}

TEST_CASE("every code is documented in a man page's ERROR CODES section") {
    auto docs = documented_codes();
    REQUIRE_FALSE(docs.empty());
    for (const auto& c : all_codes()) {
        CAPTURE(c.name);
        CHECK(docs.count(std::string(c.name)) == 1);
    }
}

TEST_CASE("the man pages list no code that does not exist, and warnings under Warnings") {
    std::set<std::string> known;
    for (const auto& c : all_codes()) known.insert(std::string(c.name));
    auto docs = documented_codes();
    for (const auto& entry : docs) {  // not a structured binding: CAPTURE's lambda cannot take one in clang 14
        const std::string& name = entry.first;
        CAPTURE(name);
        CHECK(known.count(name) == 1);
    }
    // shcx-verify(1) has a "Warnings" subsection: exactly the warning-severity codes.
    for (const auto& c : all_codes()) {
        CAPTURE(c.name);
        const auto& doc = docs[std::string(c.name)];
        bool under_warnings = false;
        for (const auto& s : doc.subsections) under_warnings |= s.rfind("Warnings", 0) == 0;
        CHECK(under_warnings == (c.severity == Severity::Warning));
    }
}
