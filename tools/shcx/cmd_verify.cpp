// shcx verify: decide whether each card is valid (docs/verification.md), say why not, and
// exit 0 / 1 / 2. Reads the trust store but never writes anything.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_common.h"
#include "render.h"
#include "shcx/card/card.h"
#include "shcx/card/decode.h"
#include "shcx/parallel.h"
#include "shcx/share/client.h"
#include "shcx/timeutil.h"
#include "shcx/trust/load.h"
#include "shcx/verify/policy.h"
#include "shcx/verify/verify.h"
#include "shl_read.h"

namespace shcx::cli {
namespace {

constexpr double kMaxClockSkew = 86400;  // a day: past that it is not skew but a wrong clock

struct VerifyOptions {
    std::vector<std::string> inputs;
    bool json = false, ndjson = false, quiet = false;
    std::string fhir_out;
    std::string trust_file, store, at;
    std::string max_trust_age;  // empty: trust_store::kDefaultMaxTrustAgeSeconds
    std::vector<std::string> jwks, crls, x5c_anchors, policies;
    int jobs = 1;
    bool allow_expired = false;
    shl_read::Options shl;
    bool strict = false;
    double clock_skew = verify::kDefaultClockSkew;
};

// The trust a run uses, as the options state it. --jwks ISS=FILE binds the keys to ISS;
// a bare FILE vouches for them under any iss. A URL before '=' is an ISS, and it must be a
// valid one: "http://x=keys.json" is a mistake to report (USAGE), not a file name.
Result<trust_store::Sources> trust_sources(const VerifyOptions& opt) {
    trust_store::Sources s;
    s.snapshot_file = opt.trust_file;
    if (opt.trust_file.empty()) s.store = trust_store_dir(opt.store);
    for (const auto& spec : opt.jwks) {
        trust_store::Sources::Jwks j{"", spec};
        auto eq = spec.find('='), scheme = spec.find("://");
        if (eq != std::string::npos && scheme != std::string::npos && scheme < eq) {
            j = {spec.substr(0, eq), spec.substr(eq + 1)};
            if (!card::issuer_url_is_valid(j.iss))
                return make_error(ErrorCode::USAGE, "--jwks " + spec +
                                                        ": the issuer must be an https:// URL without a "
                                                        "trailing slash, got \"" +
                                                        j.iss + "\"");
        }
        s.jwks.push_back(std::move(j));
    }
    s.crl_files = opt.crls;
    return s;
}

render::Json policies_json(const std::vector<policy::Answer>& answers) {
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

void print_policies_text(std::ostream& out, const std::vector<policy::Answer>& answers) {
    for (const auto& a : answers) {
        out << "  Policy " << a.policy << ":\n";
        if (a.people.empty()) out << "    FAIL  nobody on the card\n";
        for (const auto& p : a.people) {
            out << "    " << (p.pass ? "PASS" : "FAIL") << "  " << (p.name.empty() ? "(no name)" : p.name) << " ("
                << (p.birth_date.empty() ? "birth date unknown" : p.birth_date) << ")";
            for (size_t i = 0; i < p.reasons.size(); ++i) out << (i ? "; " : ": ") << p.reasons[i];
            out << "\n";
        }
    }
}

// One result (docs/json/verify.schema.json): decode's fields (render::card_result_json)
// plus the verdict. `found` is the card the report is about, null for an input failure.
render::Json report_json(const verify::Report& r, const input::FoundCard* found, bool with_policies) {
    render::Json j = {{"input", r.origins.empty() ? "" : r.origins.front()},
                      {"status", std::string(verify::status_name(r.status))}};
    j.update(render::card_result_json(r.origins, r.kind, found ? found->chunks : 0, r.card ? &*r.card : nullptr));
    j["issuer"] = {{"iss", r.iss}, {"name", r.issuer_name}, {"trusted", r.trusted}, {"source", r.trust_source}};
    j["revocation"] = std::string(verify::revocation_name(r.revocation));
    j["errors"] = render::errors_json(r.errors);
    j["warnings"] = render::errors_json(r.warnings);
    if (with_policies) j["policies"] = policies_json(r.policies);
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

void print_report_text(std::ostream& out, const verify::Report& r) {
    bool valid = r.status == verify::Status::Valid;
    out << coloured(valid ? "VALID" : "NOT VALID (" + std::string(verify::status_name(r.status)) + ")", valid) << "  ";
    for (size_t i = 0; i < r.origins.size(); ++i) out << (i ? ", " : "") << r.origins[i];
    out << "\n";
    for (const auto& e : r.errors) out << "  Reason:     " << code_name(e.code) << ": " << e.message << "\n";
    if (!r.iss.empty()) {
        out << "  Issuer:     " << (r.issuer_name.empty() ? "" : r.issuer_name + " ") << "<" << r.iss << ">"
            << (r.trusted ? " (trusted, " + r.trust_source + ")" : " (NOT trusted)") << "\n";
    }
    if (r.card) {
        const auto& c = r.card->card;
        out << "  Issued:     " << render::date_or(c.nbf, "(no nbf)")
            << "   Expires: " << render::date_or(c.exp, "never") << "\n";
        if (r.trusted) out << "  Revocation: " << revocation_text(r.revocation) << "\n";
        if (!valid) out << "  Content below is NOT verified:\n";
        out << render::people_text(c.people, 2);
    }
    for (const auto& w : r.warnings) out << "  Warning:    " << code_name(w.code) << ": " << w.message << "\n";
}

// What is kept of a report once it is printed: the exit status and the closing table.
struct Verdict {
    verify::Status status = verify::Status::Malformed;
    bool accepted = false, warned = false;
    std::string origin, issuer;
};

// `for_table`: keep the input and issuer too (only a terminal gets the table).
Verdict verdict_of(const verify::Report& r, bool for_table) {
    Verdict v{r.status, r.accepted(), !r.warnings.empty(), {}, {}};
    if (for_table) {
        v.origin = r.origins.empty() ? "" : r.origins.front();
        v.issuer = r.issuer_name.empty() ? r.iss : r.issuer_name;
    }
    return v;
}

int run_verify(VerifyOptions& opt) {
    double now = timeutil::now();
    double at = now;
    if (!opt.at.empty()) {
        auto t = timeutil::parse_time(opt.at);
        if (!t) {
            return usage_error("not an RFC 3339 time on the calendar, or seconds since the epoch: " + opt.at, "--at");
        }
        at = *t;
    }
    if (!std::isfinite(opt.clock_skew) || opt.clock_skew < 0 || opt.clock_skew > kMaxClockSkew) {
        return usage_error("must be 0 to " + std::to_string(long(kMaxClockSkew)) + " seconds", "--clock-skew");
    }
    if (opt.fhir_out == kStdoutPath && (opt.json || opt.ndjson))
        return usage_error("--fhir-out - and --json/--ndjson would both write to standard output");
    if (opt.jobs < 1) {
        return usage_error("must be at least 1", "--jobs");
    }
    // Anything that stops verify before it reads a card is "could not process" (exit 2),
    // whatever the code: verify's answers are about cards.
    verify::Options vopt;
    vopt.at = at;
    vopt.allow_expired = opt.allow_expired;
    vopt.clock_skew = opt.clock_skew;
    vopt.producer_rules = opt.strict;
    for (const auto& name : opt.policies) {
        auto p = policy::load(name);
        if (!p) {
            print_error(p.error());
            return kFailure;
        }
        vopt.policies.push_back(std::move(p.value()));
    }
    auto sources = trust_sources(opt);
    if (!sources) {
        print_error(sources.error());
        return kFailure;
    }
    double max_trust_age = trust_store::kDefaultMaxTrustAgeSeconds;
    if (!opt.max_trust_age.empty()) {
        auto parsed = share::parse_duration(opt.max_trust_age);
        if (!parsed || *parsed <= 0) {
            print_error(make_error(ErrorCode::USAGE, "--max-trust-age must be a duration such as 90d, 12h or 30m"));
            return kFailure;
        }
        max_trust_age = *parsed;
    }
    auto loaded = trust_store::assemble(sources.value(), at);
    if (!loaded) {
        print_error(loaded.error());
        return kFailure;
    }
    const trust::TrustStore& trust = loaded.value().trust;
    for (const auto& w : loaded.value().warnings) print_warning(std::string(code_name(w.code)) + ": " + w.message);
    // A stale snapshot still verifies (the exit status is the cards'), but says so: a
    // failing sync job must not go unnoticed. Measured against the clock, not --at.
    if (const auto& meta = loaded.value().meta)
        if (auto stale = trust_store::check_age(*meta, timeutil::now(), max_trust_age))
            print_warning(std::string(code_name(stale->code)) + ": " + stale->message);
    if (trust.empty())
        print_warning("no trusted issuers: run `shcx trust sync` (or `shcx trust add`), or pass --trust / --jwks");

    for (const auto& f : opt.x5c_anchors) {
        auto pem = read_input(f, 1u << 20);
        if (!pem) {
            print_error(pem.error(), f);
            return kFailure;
        }
        vopt.x5c_anchors.push_back(std::move(pem.value()));
    }

    auto inputs = load_inputs(opt.inputs, opt.jobs);
    // Loose chunks that leave a choice are joined by what verifies under this trust.
    auto extraction =
        input::extract_cards(inputs.sources, opt.jobs, {verify::signature_proof(trust), decode::jws_decodes});
    std::vector<input::InputError> input_errors = std::move(inputs.errors);
    // The cards hold their own copies: the file bytes go back to the heap before the
    // reports are made, which then reuse that memory instead of faulting in new pages.
    std::vector<input::NamedBytes>().swap(inputs.sources);
    for (auto& e : extraction.errors) input_errors.push_back(std::move(e));
    // SMART Health Links are opened here; their cards join the others (docs/shl.md).
    auto linked = shl_read::open_links(extraction, input_errors, opt.shl, opt.jobs);

    bool with_policies = !vopt.policies.empty();
    bool text_only = !opt.json && !opt.ndjson && opt.fhir_out.empty();
    // Input errors are all known now: said first, whatever the cards' verdicts.
    for (const auto& e : input_errors) print_error(e.error, e.input);
    if (text_only && !opt.quiet) shl_read::print_links_text(linked);

    // Text, --quiet and --ndjson output say each result as soon as it and every result
    // before it are ready. The worker that verified a card renders its result and frees the
    // report and the card itself, so the printer writes and frees one string per card and
    // no other memory crosses threads: a run over many cards holds one Verdict per card,
    // not every card (docs/performance.md). --json and --fhir-out need every report at the end.
    bool streamed = text_only || opt.ndjson;
    bool table = text_only && !opt.quiet && stdout_is_terminal();
    size_t n_cards = extraction.cards.size();
    std::vector<verify::Report> reports(n_cards);
    std::vector<Verdict> verdicts(n_cards);
    auto found_of = [&](size_t i) { return i < extraction.cards.size() ? &extraction.cards[i] : nullptr; };
    auto render_result = [&](size_t i) {
        std::ostringstream out;
        if (opt.ndjson) {
            out << report_json(reports[i], found_of(i), with_policies).dump() << "\n";
        } else if (!opt.quiet) {
            if (i) out << "\n";
            print_report_text(out, reports[i]);
            print_policies_text(out, reports[i].policies);
        }
        return std::move(out).str();
    };
    auto write_result = [&](const std::string& text) {
        std::cout << text;
        if (opt.ndjson) std::cout << std::flush;  // a reader of the stream sees each line at once
    };
    auto say = [&](size_t i) { write_result(render_result(i)); };
    std::vector<std::string> rendered(streamed ? n_cards : 0);
    std::mutex print_mutex;
    std::unique_ptr<std::atomic<bool>[]> done(new std::atomic<bool>[n_cards]());
    size_t printed = 0;
    auto print_ready = [&] {
        for (; printed < n_cards && done[printed].load(std::memory_order_acquire); ++printed) {
            write_result(rendered[printed]);
            std::string().swap(rendered[printed]);
        }
    };
    parallel_for(n_cards, opt.jobs, [&](size_t i) {
        reports[i] = verify::verify_card(extraction.cards[i], trust, vopt);
        verdicts[i] = verdict_of(reports[i], table);
        if (!streamed) return;
        rendered[i] = render_result(i);
        reports[i] = verify::Report();
        extraction.cards[i] = input::FoundCard();
        done[i].store(true, std::memory_order_release);
        // Whoever finds the printer free prints what is ready; the others go on verifying
        // rather than wait for it. What is left when the last of them stops is printed below.
        std::unique_lock<std::mutex> lock(print_mutex, std::try_to_lock);
        if (lock.owns_lock()) print_ready();
    });
    if (streamed) print_ready();
    for (const auto& e : input_errors) {
        reports.push_back(verify::input_failure(e, vopt));
        verdicts.push_back(verdict_of(reports.back(), table));
    }

    int rc = kOk;
    size_t warned = 0;
    for (const auto& v : verdicts) {
        if (!v.accepted) rc = kNegative;
        warned += v.warned;
    }
    if (opt.strict && warned) rc = std::max(rc, int(kNegative));
    if (!linked.resources.empty() && rc == kOk) rc = kNegative;  // unsigned content is never "valid"
    if (!input_errors.empty()) rc = kFailure;

    // --fhir-out: the bundles of the cards that verified, nothing unverified.
    std::vector<std::string> bundles;
    if (!opt.fhir_out.empty())
        for (const auto& r : reports)
            if (r.status == verify::Status::Valid && r.card)
                if (auto b = card::fhir_bundle_json(r.card->card.payload_json)) bundles.push_back(*b);
    if (!opt.fhir_out.empty()) {
        if (auto err = write_bundles(opt.fhir_out, bundles)) {
            print_error(*err);
            rc = kFailure;
        }
    }
    if (opt.quiet || opt.fhir_out == kStdoutPath) return rc;

    if (opt.ndjson) {
        for (size_t i = printed; i < reports.size(); ++i) say(i);
        for (const auto& r : linked.resources) {
            render::Json j = {{"input", r.input}, {"status", "unsigned"}};
            j.update(shl_read::resource_json(r));
            write_result(j.dump() + "\n");
        }
        return rc;
    }
    if (opt.json) {
        render::Json doc;
        doc["signature_checked"] = true;
        doc["results"] = render::Json::array();
        for (size_t i = 0; i < reports.size(); ++i)
            doc["results"].push_back(report_json(reports[i], found_of(i), with_policies));
        for (const auto& r : linked.resources) {
            render::Json j = {{"input", r.input}, {"status", "unsigned"}};
            j.update(shl_read::resource_json(r));
            doc["results"].push_back(std::move(j));
        }
        doc["errors"] = render::input_errors_json(input_errors);
        if (!linked.links.empty()) doc["links"] = shl_read::links_json(linked);
        std::cout << doc.dump(2) << "\n";
        return rc;
    }
    if (!text_only) {  // --fhir-out FILE with text: nothing was streamed
        for (size_t i = 0; i < n_cards; ++i) say(i);
    }
    for (size_t i = n_cards; i < reports.size(); ++i) say(i);  // the input failures
    size_t valid = 0;
    for (const auto& v : verdicts) valid += v.status == verify::Status::Valid;
    for (size_t i = 0; i < linked.resources.size(); ++i) {
        if (i || !reports.empty()) std::cout << "\n";
        shl_read::print_resource_text(linked.resources[i], "UNSIGNED");
    }
    if (verdicts.size() > 1) {
        if (table) {  // a table to scan; the piped form stays one line
            std::vector<std::vector<std::string>> rows;
            for (const auto& v : verdicts) {
                bool ok = v.status == verify::Status::Valid;
                std::string status = ok ? "VALID" : "NOT VALID";
                rows.push_back(
                    {coloured(status, ok), ok ? "" : std::string(verify::status_name(v.status)), v.origin, v.issuer});
            }
            std::cout << "\n" << columns({"STATUS", "REASON", "INPUT", "ISSUER"}, rows);
        }
        std::cout << "\n"
                  << verdicts.size() << " cards: " << valid << " valid, " << verdicts.size() - valid << " not valid\n";
    }
    if (opt.strict && warned)
        std::cout << "\nStrict: " << warned << " card" << (warned == 1 ? "" : "s")
                  << " with warnings (--strict fails on any warning)\n";
    return rc;
}

}  // namespace

void setup_verify(CLI::App& app, int& exit_code) {
    auto opt = std::make_shared<VerifyOptions>();
    auto* cmd = app.add_subcommand("verify", "Verify cards: signature, issuer trust, revocation, validity window");
    cmd->add_option("INPUT", opt->inputs, "Image, text or JSON file, or a SMART Health Link; - for stdin")->required();
    add_output_modes(cmd, opt->json, opt->ndjson, opt->quiet,
                     "Print one JSON document {\"results\":[...]} (docs/json/verify.schema.json)",
                     "Print one JSON result per line, each as soon as it is ready, in input order");
    cmd->add_option("--fhir-out", opt->fhir_out,
                    "Write the FHIR bundle of each VALID card to FILE (FILE-N for several; - for standard output)");
    cmd->add_option("--trust", opt->trust_file, "Trust only this file (VCI snapshot format) instead of the store");
    cmd->add_option("--store", opt->store, "Trust store directory (default $SHCX_TRUST or ~/.local/share/shcx/trust)");
    cmd->add_option("--jwks", opt->jwks, "Also trust the keys of this JWKS: FILE (any iss) or ISS=FILE (repeatable)")
        ->allow_extra_args(false)
        ->type_name("FILE|ISS=FILE");
    cmd->add_option("--crl", opt->crls, "Also use this revocation list (repeatable)")->allow_extra_args(false);
    cmd->add_option("--x5c-anchor", opt->x5c_anchors, "PEM anchor(s) for x5c chains; makes x5c problems errors")
        ->allow_extra_args(false);
    cmd->add_option("--max-trust-age", opt->max_trust_age,
                    "Warn (TRUST_SNAPSHOT_STALE) when the store's snapshot is older than DURATION (default 90d)");
    cmd->add_option("--at", opt->at, "Verify as of TIME (RFC 3339 or epoch seconds) instead of now");
    cmd->add_option("--jobs", opt->jobs, "Verify inputs in parallel on N threads (output keeps input order)");
    cmd->add_option("--policy", opt->policies,
                    "Entry policy: a built-in name (covid19-primary-series, any-immunization, covid19-negative-test) "
                    "or a JSON file (repeatable); exit 0 only if every person passes every policy")
        ->allow_extra_args(false);
    cmd->add_flag("--allow-expired", opt->allow_expired, "Accept cards past their exp (reported as a warning)");
    shl_read::add_options(cmd, opt->shl);
    cmd->add_option("--clock-skew", opt->clock_skew,
                    "Accept a card whose nbf is up to SECONDS after the verification time (reported as a warning)")
        ->capture_default_str();
    cmd->add_flag("--strict", opt->strict,
                  "For producers: also check the producer rules (QR version and segments, chunking, minified "
                  "payload, FHIR data minimisation) and exit 1 on any warning");
    cmd->callback([opt, &exit_code] { exit_code = run_verify(*opt); });
}

}  // namespace shcx::cli
