// SMART Health Links in `decode` and `verify` (docs/shl.md): the options (--passcode,
// --passcode-file, --recipient), the passcode prompt, opening every link the inputs hold
// through the library, and showing what came out. The cards inside go back through the
// normal decode/verify paths as .smart-health-card inputs named INPUT#fileN; FHIR
// resources are summarised here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "render.h"
#include "shcx/read/input.h"
#include "shcx/shl/content.h"

namespace CLI {
class App;
}

namespace shcx::cli::shl_read {

struct Options {
    std::string passcode, passcode_file;
    std::string recipient = "shcx";
};
void add_options(CLI::App* cmd, Options& options);

struct OpenedLink {
    std::string input;  // where the link was found
    std::string label, flags, server, manifest_status;
    std::optional<int64_t> exp;
    size_t listed = 0, read = 0;
};

struct FhirResource {
    std::string input;  // INPUT#fileN
    std::string content_type;
    shl::FhirSummary summary;
};

struct Opened {
    std::vector<OpenedLink> links;
    std::vector<FhirResource> resources;
    std::vector<input::InputError> errors;    // whole links or single files that could not be read
    std::vector<input::InputError> warnings;  // SHL_CONTENT_SKIPPED
};

// Opens every link (network), then reads the cards of their application/smart-health-card
// files with input::extract_cards and appends them (and their input errors) to
// `extraction`. Link and file failures are appended to `errors`; warnings are printed.
// `options.passcode` is wiped.
Opened open_links(input::Extraction& extraction, std::vector<input::InputError>& errors, Options& options,
                  int jobs = 1);

// "SMART Health Link  INPUT" and its details, one block per link.
void print_links_text(const Opened& opened);
// One block per FHIR resource: `heading` ("UNSIGNED", "Resource 1 of 2") then the summary.
void print_resource_text(const FhirResource& resource, const std::string& heading);

render::Json links_json(const Opened& opened);
render::Json resource_json(const FhirResource& resource);

}  // namespace shcx::cli::shl_read
