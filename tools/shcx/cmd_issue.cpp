// shcx issue: FHIR bundle -> minified payload -> raw DEFLATE -> ES256 JWS, written as a
// .smart-health-card file, shc:/ numeric text and QR images. For test cards and demos.
#include <CLI/CLI.hpp>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "shcx/card/card.h"
#include "shcx/detail/json.h"
#include "shcx/fsutil.h"
#include "shcx/card/inflate.h"
#include "shcx/jose/jose.h"
#include "shcx/read/numeric.h"
#include "shcx/issue/qr_write.h"
#include "shcx/timeutil.h"

namespace shcx::cli {
namespace {

using detail::Json;

struct IssueOptions {
    std::string bundle, key, iss, rid, nbf, exp;
    std::string out, qr_sheet, numeric;
    std::vector<std::string> qr;  // repeatable: e.g. card.png and card.svg of the same signature
    std::string fhir_version = "4.0.1";
    std::vector<std::string> extra_types;
};

Json numeric_date(double t) {
    if (t == std::floor(t) && std::fabs(t) < 9e15) return static_cast<long long>(t);
    return t;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int fail(const std::string& msg) {
    print_error(msg);
    return kFailure;
}

int run_issue(const IssueOptions& opt) {
    auto bundle_text = input::read_input_file(opt.bundle);
    if (!bundle_text) return fail(opt.bundle + ": " + bundle_text.error().message);
    auto bundle = detail::parse_json(bundle_text.value());
    if (!bundle || detail::string_member(*bundle, "resourceType") != "Bundle")
        return fail(opt.bundle + ": not a FHIR Bundle (JSON with \"resourceType\": \"Bundle\")");
    if (!card::issuer_url_is_valid(opt.iss))
        return fail("--iss must be an https:// URL without a trailing slash, got \"" + opt.iss + "\"");
    if (!opt.rid.empty() && !card::rid_is_valid(opt.rid))
        return fail("--rid must be 1 to 24 base64url characters");
    auto key_text = input::read_input_file(opt.key, 64 * 1024);
    if (!key_text) return fail(opt.key + ": " + key_text.error().message);
    SecretString key_json(std::move(key_text.value()));
    auto key = jose::PrivateKey::from_jwk_json(key_json.str());
    if (!key) return fail(opt.key + ": " + key.error().message);

    double nbf = timeutil::now();
    if (!opt.nbf.empty()) {
        auto t = timeutil::parse_time(opt.nbf);
        if (!t) return fail("--nbf: not an RFC 3339 time or seconds since the epoch: " + opt.nbf);
        nbf = *t;
    }
    std::optional<double> exp;
    if (!opt.exp.empty()) {
        exp = timeutil::parse_time(opt.exp);
        if (!exp) return fail("--exp: not an RFC 3339 time or seconds since the epoch: " + opt.exp);
    }

    // Member order follows the spec's examples: iss, nbf, exp, vc{type, credentialSubject, rid}.
    Json payload;
    payload["iss"] = opt.iss;
    payload["nbf"] = numeric_date(nbf);
    if (exp) payload["exp"] = numeric_date(*exp);
    Json types = Json::array({std::string(card::kHealthCardType)});
    for (const auto& t : opt.extra_types) types.push_back(t);
    payload["vc"]["type"] = types;
    payload["vc"]["credentialSubject"] = {{"fhirVersion", opt.fhir_version}, {"fhirBundle", *bundle}};
    if (!opt.rid.empty()) payload["vc"]["rid"] = opt.rid;

    std::string header = "{\"zip\":\"DEF\",\"alg\":\"ES256\",\"kid\":\"" + key.value().kid() + "\"}";
    std::string jws = jose::sign_compact(key.value(), header, inflate::deflate_raw(payload.dump()));

    auto texts = numeric::qr_texts_for_jws(jws);
    std::vector<qr_write::Symbol> symbols;
    if (!opt.qr.empty() || !opt.qr_sheet.empty()) {
        for (const auto& t : texts) {
            auto s = qr_write::encode(t);
            if (!s) return fail(std::string(code_name(s.error().code)) + ": " + s.error().message);
            symbols.push_back(std::move(s.value()));
        }
    }
    auto render = [&](const std::string& path, const std::vector<qr_write::Symbol>& syms) {
        return ends_with(path, ".svg") ? qr_write::render_svg(syms) : qr_write::render_png(syms);
    };
    std::vector<std::pair<std::string, std::string>> files;  // path, content
    if (!opt.out.empty()) files.push_back({opt.out, "{\"verifiableCredential\":[\"" + jws + "\"]}\n"});
    if (!opt.numeric.empty()) {
        std::string lines;
        for (const auto& t : texts) lines += t + "\n";
        files.push_back({opt.numeric, lines});
    }
    for (const auto& qr : opt.qr) {
        if (symbols.size() == 1) {
            files.push_back({qr, render(qr, symbols)});
        } else {
            for (size_t i = 0; i < symbols.size(); ++i)
                files.push_back({fsutil::numbered_path(qr, int(i) + 1), render(qr, {symbols[i]})});
        }
    }
    if (!opt.qr_sheet.empty()) files.push_back({opt.qr_sheet, render(opt.qr_sheet, symbols)});
    for (const auto& [path, content] : files)
        if (auto err = fsutil::write_file_atomic(path, content)) {
            print_error(*err);
            return kFailure;
        }
    if (files.empty()) std::cout << jws << "\n";
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
    cmd->add_option("--out", opt->out, "Write a .smart-health-card file");
    cmd->add_option("--numeric", opt->numeric, "Write the shc:/ QR text(s), one line per chunk");
    cmd->add_option("--qr", opt->qr, "Write the QR code as PNG or SVG (by extension; repeatable); FILE-N per chunk")->allow_extra_args(false);
    cmd->add_option("--qr-sheet", opt->qr_sheet, "Write all chunks' QR codes side by side in one image");
    cmd->callback([opt, &exit_code] { exit_code = run_issue(*opt); });
}

}  // namespace shcx::cli
