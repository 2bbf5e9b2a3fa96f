// shcx decode: read any card form and show what it says. Never checks the signature
// (and says so): use `shcx verify` for that.
#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "render.h"
#include "shcx/card/decode.h"
#include "shl_read.h"

namespace shcx::cli {
namespace {

struct DecodeOptions {
    std::vector<std::string> inputs;
    bool json = false, ndjson = false, quiet = false;
    std::string fhir_out;
    shl_read::Options shl;
};

int run_decode(DecodeOptions& opt) {
    if (opt.fhir_out == kStdoutPath && (opt.json || opt.ndjson))
        return usage_error("--fhir-out - and --json/--ndjson would both write to standard output");
    auto loaded = load_inputs(opt.inputs);
    auto extraction = input::extract_cards(loaded.sources, 1, {decode::jws_decodes});
    std::vector<input::InputError> errors = std::move(loaded.errors);
    for (auto& e : extraction.errors) errors.push_back(std::move(e));
    // SMART Health Links are opened here; their cards join the others (docs/shl.md).
    auto linked = shl_read::open_links(extraction, errors, opt.shl);

    struct Decoded {
        const input::FoundCard* found;
        decode::DecodedCard card;
    };
    std::vector<Decoded> cards;
    for (const auto& found : extraction.cards) {
        auto d = decode::decode_jws(found.jws);
        if (!d) {
            errors.push_back({found.origins.front(), d.error()});
            continue;
        }
        cards.push_back({&found, std::move(d.value())});
    }

    for (const auto& e : errors) print_error(e.error, e.input);

    int rc = errors.empty() ? kOk : kFailure;
    if (!opt.fhir_out.empty()) {
        std::vector<std::string> bundles;
        for (const auto& d : cards) {
            auto bundle = card::fhir_bundle_json(d.card.card.payload_json);
            if (!bundle) {
                print_error(make_error(ErrorCode::CARD_SCHEMA_INVALID, "the card has no FHIR bundle to write"),
                            d.found->origins.front());
                rc = kFailure;
                continue;
            }
            bundles.push_back(std::move(*bundle));
        }
        if (auto err = write_bundles(opt.fhir_out, bundles)) {
            print_error(*err);
            rc = kFailure;
        }
    }
    if (opt.quiet || opt.fhir_out == kStdoutPath) return rc;

    auto all_warnings = [](const Decoded& d) {
        std::vector<Error> w = d.found->warnings;
        w.insert(w.end(), d.card.header_problems.begin(), d.card.header_problems.end());
        w.insert(w.end(), d.card.card.problems.begin(), d.card.card.problems.end());
        w.insert(w.end(), d.card.card.warnings.begin(), d.card.card.warnings.end());
        return w;
    };
    // One result (docs/json/decode.schema.json): the fields verify's results share.
    auto result_json = [&](const Decoded& d) {
        auto c = render::card_result_json(d.found->origins, d.found->kind, d.found->chunks, &d.card);
        c["warnings"] = render::errors_json(all_warnings(d));
        return c;
    };

    if (opt.ndjson) {
        for (const auto& d : cards) std::cout << result_json(d).dump() << "\n";
        return rc;
    }
    if (opt.json) {
        render::Json doc;
        doc["signature_checked"] = false;
        doc["results"] = render::Json::array();
        for (const auto& d : cards) doc["results"].push_back(result_json(d));
        if (!linked.links.empty()) doc["links"] = shl_read::links_json(linked);
        if (!linked.resources.empty()) {
            doc["resources"] = render::Json::array();
            for (const auto& r : linked.resources) doc["resources"].push_back(shl_read::resource_json(r));
        }
        doc["errors"] = render::input_errors_json(errors);
        std::cout << doc.dump(2) << "\n";
        return rc;
    }

    shl_read::print_links_text(linked);
    for (size_t i = 0; i < cards.size(); ++i) {
        const auto& d = cards[i];
        if (i) std::cout << "\n";
        std::cout << "Card " << i + 1 << " of " << cards.size() << " " << render::origin_text(*d.found) << "\n";
        std::cout << "  Signature: NOT CHECKED (decode only reads the card; run `shcx verify` to check it)\n";
        std::cout << render::card_text(d.card, 2);
        for (const auto& w : all_warnings(d))
            std::cout << "  Warning: " << code_name(w.code) << ": " << w.message << "\n";
    }
    for (size_t i = 0; i < linked.resources.size(); ++i) {
        if (i || !cards.empty()) std::cout << "\n";
        shl_read::print_resource_text(linked.resources[i], "Resource " + std::to_string(i + 1) + " of " +
                                                               std::to_string(linked.resources.size()));
    }
    return rc;
}

}  // namespace

void setup_decode(CLI::App& app, int& exit_code) {
    auto opt = std::make_shared<DecodeOptions>();
    auto* cmd =
        app.add_subcommand("decode", "Read cards from QR images, shc:/ text, JWS or files (no signature check)");
    cmd->add_option("INPUT", opt->inputs, "Image, text or JSON file, or a SMART Health Link; - for stdin")->required();
    add_output_modes(cmd, opt->json, opt->ndjson, opt->quiet, "Print one JSON document (docs/json/decode.schema.json)",
                     "Print one JSON result per line, in input order");
    cmd->add_option("--fhir-out", opt->fhir_out,
                    "Write the FHIR bundle to FILE (FILE-N for several cards; - for standard output)");
    shl_read::add_options(cmd, opt->shl);
    cmd->callback([opt, &exit_code] { exit_code = run_decode(*opt); });
}

}  // namespace shcx::cli
