// shcx verify: decide whether each card is valid (verification.md), say why not, and
// exit 0 / 1 / 2. Reads the trust store but never writes anything.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "render.h"
#include "shcx/card.h"
#include "shcx/parallel.h"
#include "shcx/policy.h"
#include "shcx/timeutil.h"
#include "shcx/trust_store.h"
#include "shcx/verify.h"

namespace shcx::cli {
namespace {

constexpr double kMaxClockSkew = 86400;  // a day: past that it is not skew but a wrong clock

struct VerifyOptions {
    std::vector<std::string> inputs;
    bool json = false;
    std::string trust_file, store, at;
    std::vector<std::string> jwks, crls, x5c_anchors, policies;
    int jobs = 1;
    bool allow_expired = false;
    bool strict = false;
    double clock_skew = verify::kDefaultClockSkew;
};

// Builds the trust store: --trust FILE replaces the installed store; --jwks adds keys.
Result<trust::TrustStore> build_trust(const VerifyOptions& opt, double now, std::vector<Error>& warnings) {
    trust::TrustStore store;
    if (!opt.trust_file.empty()) {
        auto text = input::read_input_file(opt.trust_file, 64u << 20);
        if (!text) return Error{text.error().code, opt.trust_file + ": " + text.error().message};
        auto snap = trust::parse_vci_snapshot(text.value(), opt.trust_file);
        if (!snap) return snap.error();
        warnings.insert(warnings.end(), snap.value().warnings.begin(), snap.value().warnings.end());
        store.add_snapshot(std::move(snap.value()));
    } else {
        auto loaded = trust_store::load(opt.store.empty() ? trust_store::default_dir() : opt.store, now);
        if (!loaded) return loaded.error();
        warnings.insert(warnings.end(), loaded.value().warnings.begin(), loaded.value().warnings.end());
        store = std::move(loaded.value().trust);
    }
    for (const auto& spec : opt.jwks) {
        // ISS=FILE binds the keys to ISS; a bare FILE vouches for them under any iss. A
        // URL before '=' is an ISS, and it must be a valid one: "http://x=keys.json" is a
        // mistake to report, not a file name.
        std::string iss, file = spec;
        auto eq = spec.find('='), scheme = spec.find("://");
        if (eq != std::string::npos && scheme != std::string::npos && scheme < eq) {
            iss = spec.substr(0, eq);
            file = spec.substr(eq + 1);
            if (!card::issuer_url_is_valid(iss))
                return make_error(ErrorCode::USAGE, "--jwks " + spec + ": the issuer must be an https:// URL without a "
                                                                       "trailing slash, got \"" + iss + "\"");
        }
        auto text = input::read_input_file(file, 4u << 20);
        if (!text) return Error{text.error().code, file + ": " + text.error().message};
        auto issuer = trust::issuer_from_jwks(text.value(), iss, "--jwks " + file);
        if (!issuer) return issuer.error();
        store.add_issuer(std::move(issuer.value()));
    }
    for (const auto& file : opt.crls) {
        auto text = input::read_input_file(file, 8u << 20);
        if (!text) return Error{text.error().code, file + ": " + text.error().message};
        auto crl = trust::parse_crl(text.value(), file);
        if (!crl) return crl.error();
        store.add_crl("", std::move(crl.value()));
    }
    return store;
}

// Per-person policy answers for one card. A card that is not valid fails every policy
// for every person on it: a policy is only as good as the card it reads.
struct PolicyAnswer {
    std::string policy;
    std::vector<policy::PersonOutcome> people;
};

std::vector<PolicyAnswer> evaluate_policies(const std::vector<policy::Policy>& policies, const verify::Report& r,
                                            double at) {
    std::vector<PolicyAnswer> out;
    for (const auto& p : policies) {
        PolicyAnswer a{p.name, {}};
        if (r.status == verify::Status::Valid && r.card) {
            a.people = policy::evaluate(p, r.card->card, at);
        } else if (r.card) {
            for (const auto& person : r.card->card.people)
                a.people.push_back({person.name, person.birth_date, false,
                                    {"the card is not valid (" + std::string(verify::status_name(r.status)) + ")"}});
        }
        out.push_back(std::move(a));
    }
    return out;
}

bool all_pass(const std::vector<PolicyAnswer>& answers) {
    for (const auto& a : answers) {
        if (a.people.empty()) return false;  // nobody on the card can pass
        for (const auto& p : a.people)
            if (!p.pass) return false;
    }
    return true;
}

render::Json policies_json(const std::vector<PolicyAnswer>& answers) {
    render::Json arr = render::Json::array();
    for (const auto& a : answers) {
        render::Json results = render::Json::array();
        for (const auto& p : a.people)
            results.push_back({{"person", {{"name", p.name}, {"birthDate", p.birth_date}}},
                               {"outcome", p.pass ? "pass" : "fail"},
                               {"reasons", p.reasons}});
        arr.push_back({{"name", a.policy}, {"results", results}});
    }
    return arr;
}

void print_policies_text(const std::vector<PolicyAnswer>& answers) {
    for (const auto& a : answers) {
        std::cout << "  Policy " << a.policy << ":\n";
        if (a.people.empty()) std::cout << "    FAIL  nobody on the card\n";
        for (const auto& p : a.people) {
            std::cout << "    " << (p.pass ? "PASS" : "FAIL") << "  " << (p.name.empty() ? "(no name)" : p.name) << " ("
                      << (p.birth_date.empty() ? "birth date unknown" : p.birth_date) << ")";
            for (size_t i = 0; i < p.reasons.size(); ++i) std::cout << (i ? "; " : ": ") << p.reasons[i];
            std::cout << "\n";
        }
    }
}

render::Json report_json(const verify::Report& r) {
    render::Json j;
    j["input"] = r.origins.empty() ? "" : r.origins.front();
    if (r.origins.size() > 1) j["inputs"] = r.origins;
    j["status"] = std::string(verify::status_name(r.status));
    j["issuer"] = {{"iss", r.iss}, {"name", r.issuer_name}, {"trusted", r.trusted}};
    j["kid"] = r.kid;
    if (r.card) {
        auto fields = render::card_fields_json(*r.card);
        for (const char* k : {"nbf", "exp", "rid", "types"}) j[k] = fields[k];
        j["revocation"] = std::string(verify::revocation_name(r.revocation));
        j["people"] = fields["people"];
    } else {
        j["nbf"] = j["exp"] = j["rid"] = nullptr;
        j["types"] = render::Json::array();
        j["revocation"] = std::string(verify::revocation_name(r.revocation));
        j["people"] = render::Json::array();
    }
    j["errors"] = render::errors_json(r.errors);
    j["warnings"] = render::errors_json(r.warnings);
    return j;
}

std::string revocation_text(verify::Revocation r) {
    switch (r) {
        case verify::Revocation::NotRevoked: return "not revoked";
        case verify::Revocation::Revoked: return "REVOKED";
        case verify::Revocation::NoCrl: return "no revocation list published";
        case verify::Revocation::Unknown: return "unknown";
    }
    return "unknown";
}

void print_report_text(const verify::Report& r) {
    bool valid = r.status == verify::Status::Valid;
    std::cout << (valid ? "VALID" : "NOT VALID (" + std::string(verify::status_name(r.status)) + ")") << "  ";
    for (size_t i = 0; i < r.origins.size(); ++i) std::cout << (i ? ", " : "") << r.origins[i];
    std::cout << "\n";
    for (const auto& e : r.errors) std::cout << "  Reason:     " << code_name(e.code) << ": " << e.message << "\n";
    if (!r.iss.empty()) {
        std::cout << "  Issuer:     " << (r.issuer_name.empty() ? "" : r.issuer_name + " ") << "<" << r.iss << ">"
                  << (r.trusted ? " (trusted, " + r.trust_source + ")" : " (NOT trusted)") << "\n";
    }
    if (r.card) {
        const auto& c = r.card->card;
        std::cout << "  Issued:     " << render::date_or(c.nbf, "(no nbf)") << "   Expires: " << render::date_or(c.exp, "never")
                  << "\n";
        if (r.trusted) std::cout << "  Revocation: " << revocation_text(r.revocation) << "\n";
        if (!valid) std::cout << "  Content below is NOT verified:\n";
        std::cout << render::people_text(c.people, 2);
    }
    for (const auto& w : r.warnings) std::cout << "  Warning:    " << code_name(w.code) << ": " << w.message << "\n";
}

int run_verify(const VerifyOptions& opt) {
    double now = timeutil::now();
    double at = now;
    if (!opt.at.empty()) {
        auto t = timeutil::parse_time(opt.at);
        if (!t) {
            print_error(make_error(ErrorCode::USAGE, "--at: not an RFC 3339 time on the calendar, or seconds since the epoch: " +
                                                         opt.at));
            return kFailure;
        }
        at = *t;
    }
    if (!std::isfinite(opt.clock_skew) || opt.clock_skew < 0 || opt.clock_skew > kMaxClockSkew) {
        print_error(make_error(ErrorCode::USAGE, "--clock-skew must be 0 to " + std::to_string(long(kMaxClockSkew)) + " seconds"));
        return kFailure;
    }
    if (opt.jobs < 1) {
        print_error("--jobs must be at least 1");
        return kFailure;
    }
    std::vector<policy::Policy> policies;
    for (const auto& name : opt.policies) {
        auto p = policy::load(name);
        if (!p) {
            print_error(p.error());
            return kFailure;
        }
        policies.push_back(std::move(p.value()));
    }
    std::vector<Error> trust_warnings;
    auto trust = build_trust(opt, at, trust_warnings);
    if (!trust) {
        print_error(trust.error());
        return kFailure;
    }
    for (const auto& w : trust_warnings) print_warning(std::string(code_name(w.code)) + ": " + w.message);
    if (trust.value().empty())
        print_warning("no trusted issuers: run `shcx trust sync` (or `shcx trust add`), or pass --trust / --jwks");

    auto loaded = load_inputs(opt.inputs);
    // Loose chunks that leave a choice are joined by what verifies under this trust.
    auto extraction = input::extract_cards(loaded.sources, opt.jobs, {verify::signature_proof(trust.value())});
    std::vector<input::InputError> input_errors = std::move(loaded.errors);
    for (auto& e : extraction.errors) input_errors.push_back(std::move(e));

    verify::Options vopt;
    vopt.at = at;
    vopt.allow_expired = opt.allow_expired;
    vopt.clock_skew = opt.clock_skew;
    vopt.producer_rules = opt.strict;
    for (const auto& f : opt.x5c_anchors) {
        auto pem = input::read_input_file(f, 1u << 20);
        if (!pem) {
            print_error(pem.error(), f);
            return kFailure;
        }
        vopt.x5c_anchors.push_back(std::move(pem.value()));
    }
    std::vector<verify::Report> reports(extraction.cards.size());
    parallel_for(extraction.cards.size(), opt.jobs,
                 [&](size_t i) { reports[i] = verify::verify_card(extraction.cards[i], trust.value(), vopt); });
    for (const auto& e : input_errors) reports.push_back(verify::input_failure(e));
    std::vector<std::vector<PolicyAnswer>> answers;
    for (const auto& r : reports) answers.push_back(evaluate_policies(policies, r, at));

    int rc = kOk;
    size_t warned = 0;
    for (size_t i = 0; i < reports.size(); ++i) {
        if (reports[i].status != verify::Status::Valid || (!policies.empty() && !all_pass(answers[i]))) rc = kNegative;
        warned += !reports[i].warnings.empty();
    }
    if (opt.strict && warned) rc = std::max(rc, int(kNegative));
    if (!input_errors.empty()) rc = kFailure;
    for (const auto& e : input_errors) print_error(e.error, e.input);

    if (opt.json) {
        render::Json doc;
        doc["results"] = render::Json::array();
        for (size_t i = 0; i < reports.size(); ++i) {
            auto j = report_json(reports[i]);
            if (!policies.empty()) j["policies"] = policies_json(answers[i]);
            doc["results"].push_back(std::move(j));
        }
        std::cout << doc.dump(2) << "\n";
        return rc;
    }
    size_t valid = 0;
    for (size_t i = 0; i < reports.size(); ++i) {
        if (i) std::cout << "\n";
        print_report_text(reports[i]);
        print_policies_text(answers[i]);
        valid += reports[i].status == verify::Status::Valid;
    }
    if (reports.size() > 1)
        std::cout << "\n" << reports.size() << " cards: " << valid << " valid, " << reports.size() - valid << " not valid\n";
    if (opt.strict && warned)
        std::cout << "\nStrict: " << warned << " card" << (warned == 1 ? "" : "s") << " with warnings (--strict fails on any warning)\n";
    return rc;
}

}  // namespace

void setup_verify(CLI::App& app, int& exit_code) {
    auto opt = std::make_shared<VerifyOptions>();
    auto* cmd = app.add_subcommand("verify", "Verify cards: signature, issuer trust, revocation, validity window");
    cmd->add_option("INPUT", opt->inputs, "Image, text or JSON file; - for stdin")->required();
    cmd->add_flag("--json", opt->json, "Print one JSON document {\"results\":[...]}");
    cmd->add_option("--trust", opt->trust_file, "Trust only this file (VCI snapshot format) instead of the store");
    cmd->add_option("--store", opt->store, "Trust store directory (default $SHCX_TRUST or ~/.local/share/shcx/trust)");
    cmd->add_option("--jwks", opt->jwks, "Also trust the keys of this JWKS: FILE (any iss) or ISS=FILE (repeatable)")->allow_extra_args(false);
    cmd->add_option("--crl", opt->crls, "Also use this revocation list (repeatable)")->allow_extra_args(false);
    cmd->add_option("--x5c-anchor", opt->x5c_anchors, "PEM anchor(s) for x5c chains; makes x5c problems errors")->allow_extra_args(false);
    cmd->add_option("--at", opt->at, "Verify as of TIME (RFC 3339 or epoch seconds) instead of now");
    cmd->add_option("--jobs", opt->jobs, "Verify inputs in parallel on N threads (output keeps input order)");
    cmd->add_option("--policy", opt->policies,
                    "Entry policy: a built-in name (covid19-primary-series, any-immunization, covid19-negative-test) "
                    "or a JSON file (repeatable); exit 0 only if every person passes every policy")
        ->allow_extra_args(false);
    cmd->add_flag("--allow-expired", opt->allow_expired, "Accept cards past their exp (reported as a warning)");
    cmd->add_option("--clock-skew", opt->clock_skew,
                    "Accept a card whose nbf is up to SECONDS after the verification time (reported as a warning)")
        ->capture_default_str();
    cmd->add_flag("--strict", opt->strict,
                  "For producers: also check the producer rules (QR version and segments, chunking, minified "
                  "payload, FHIR data minimisation) and exit 1 on any warning");
    cmd->callback([opt, &exit_code] { exit_code = run_verify(*opt); });
}

}  // namespace shcx::cli
