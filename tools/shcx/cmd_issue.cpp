// shcx issue: sign a FHIR bundle as a SMART Health Card (lib/shcx/issue) and write it as
// a .smart-health-card file, shc:/ numeric text and QR images. For test cards and demos.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>

#include "cli_common.h"
#include "shcx/fsutil.h"
#include "shcx/issue/issue.h"
#include "shcx/timeutil.h"

namespace shcx::cli {
namespace {

struct IssueOptions {
    std::string bundle, key, iss, rid, nbf, exp;
    std::string out, qr_sheet, numeric;
    std::vector<std::string> qr;  // repeatable: e.g. card.png and card.svg of the same signature
    std::string fhir_version = "4.0.1";
    std::vector<std::string> extra_types;
};

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int fail(const Error& e, std::string_view context) {
    print_error(e, context);
    return kFailure;
}

// --nbf / --exp: RFC 3339 or epoch seconds.
std::optional<double> time_option(const std::string& text, const char* option, int& rc) {
    auto t = timeutil::parse_time(text);
    if (!t) rc = fail(make_error(ErrorCode::USAGE, "not an RFC 3339 time or seconds since the epoch: " + text), option);
    return t;
}

// Which option or file a claims error is about.
std::string context_of(ErrorCode code, const IssueOptions& opt) {
    switch (code) {
        case ErrorCode::ISSUER_URL_INVALID: return "--iss";
        case ErrorCode::RID_INVALID: return "--rid";
        default: return opt.bundle;
    }
}

int run_issue(const IssueOptions& opt) {
    auto bundle = read_input(opt.bundle);
    if (!bundle) return fail(bundle.error(), opt.bundle);
    auto key_text = read_input(opt.key, 64u << 10);
    if (!key_text) return fail(key_text.error(), opt.key);
    SecretString key_json(std::move(key_text.value()));
    auto key = jose::PrivateKey::from_jwk_json(key_json.str());
    if (!key) return fail(key.error(), opt.key);

    issue::Claims claims;
    claims.iss = opt.iss;
    claims.rid = opt.rid;
    claims.fhir_version = opt.fhir_version;
    claims.extra_types = opt.extra_types;
    claims.nbf = timeutil::now();
    int rc = kOk;
    if (!opt.nbf.empty())
        if (auto t = time_option(opt.nbf, "--nbf", rc)) claims.nbf = *t;
    if (!opt.exp.empty()) claims.exp = time_option(opt.exp, "--exp", rc);
    if (rc != kOk) return rc;

    auto card = issue::issue(bundle.value(), claims, key.value());
    if (!card) return fail(card.error(), context_of(card.error().code, opt));
    const auto& texts = card.value().qr_texts;

    std::vector<qr_write::Symbol> symbols;
    if (!opt.qr.empty() || !opt.qr_sheet.empty()) {
        auto s = issue::qr_symbols(texts);
        if (!s) return fail(s.error(), "--qr");
        symbols = std::move(s.value());
    }
    auto render = [](const std::string& path, const std::vector<qr_write::Symbol>& syms) {
        return ends_with(path, ".svg") ? qr_write::render_svg(syms) : qr_write::render_png(syms);
    };
    std::vector<std::pair<std::string, std::string>> files;  // path, content
    if (!opt.out.empty()) files.push_back({opt.out, issue::health_card_file(card.value().jws)});
    if (!opt.numeric.empty()) {
        std::string lines;
        for (const auto& t : texts) lines += t + "\n";
        files.push_back({opt.numeric, lines});
    }
    for (const auto& qr : opt.qr) {
        if (symbols.size() == 1 || qr == kStdoutPath) {
            files.push_back({qr, render(qr, symbols)});
        } else {
            for (size_t i = 0; i < symbols.size(); ++i)
                files.push_back({fsutil::numbered_path(qr, int(i) + 1), render(qr, {symbols[i]})});
        }
    }
    if (!opt.qr_sheet.empty()) files.push_back({opt.qr_sheet, render(opt.qr_sheet, symbols)});
    // "-" is standard output, for one output at most (a card of several QR chunks cannot go
    // there as one --qr image: use --qr-sheet -).
    if (std::count_if(files.begin(), files.end(), [](const auto& f) { return f.first == kStdoutPath; }) > 1)
        return fail(make_error(ErrorCode::USAGE, "only one output can be - (standard output)"), {});
    for (const auto& qr : opt.qr)
        if (qr == kStdoutPath && symbols.size() > 1)
            return fail(
                make_error(ErrorCode::USAGE, "the card needs " + std::to_string(symbols.size()) +
                                                 " QR codes: write them to files, or all to one with --qr-sheet -"),
                "--qr");
    for (const auto& [path, content] : files)
        if (auto err = write_output(path, content)) return fail(*err, {});
    if (files.empty()) std::cout << card.value().jws << "\n";
    return kOk;
}

}  // namespace

void setup_issue(CLI::App& app, int& exit_code) {
    auto opt = std::make_shared<IssueOptions>();
    auto* cmd = app.add_subcommand("issue", "Sign a FHIR bundle as a SMART Health Card (test and demo issuer)");
    cmd->add_option("BUNDLE", opt->bundle, "FHIR Bundle JSON file; - for stdin")->required();
    cmd->add_option("--key", opt->key, "Private JWK from `shcx keygen`")->required();
    cmd->add_option("--iss", opt->iss, "Issuer URL (https://, no trailing slash)")->required();
    cmd->add_option("--rid", opt->rid, "Revocation identifier (vc.rid), up to 24 base64url characters");
    cmd->add_option("--nbf", opt->nbf, "Issuance time (RFC 3339 or epoch seconds); default now");
    cmd->add_option("--exp", opt->exp, "Expiry time (RFC 3339 or epoch seconds); default none");
    cmd->add_option("--type", opt->extra_types, "Extra vc.type URI (repeatable)")->allow_extra_args(false);
    cmd->add_option("--fhir-version", opt->fhir_version, "credentialSubject.fhirVersion")->capture_default_str();
    cmd->add_option("--out", opt->out, "Write a .smart-health-card file (- for standard output)");
    cmd->add_option("--numeric", opt->numeric,
                    "Write the shc:/ QR text(s), one line per chunk (- for standard output)");
    cmd->add_option("--qr", opt->qr,
                    "Write the QR code as PNG or SVG (by extension; repeatable); FILE-N per chunk; - for a PNG on "
                    "standard output")
        ->allow_extra_args(false);
    cmd->add_option("--qr-sheet", opt->qr_sheet,
                    "Write all chunks' QR codes side by side in one image (- for PNG on standard output)");
    cmd->callback([opt, &exit_code] { exit_code = run_issue(*opt); });
}

}  // namespace shcx::cli
