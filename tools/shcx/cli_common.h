// What every subcommand shares: exit codes, error printing, reading inputs (standard input
// included), and the environment (the library reads none of it).
#pragma once

#include <sys/types.h>

#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/read/input.h"
#include "shcx/trust/store.h"

namespace CLI {
class App;
}

namespace shcx::cli {

// docs/cli.md "Exit codes": 0 success, 1 a negative answer, 2 could not process.
enum Exit : int { kOk = 0, kNegative = 1, kFailure = 2 };

// One line on stderr: "shcx: error: [CONTEXT: ]CODE: message" (docs/cli.md "Errors").
// There is deliberately no uncoded form.
void print_error(const Error& e, std::string_view context = {});
void print_warning(std::string_view message);
// print_error for a USAGE error; returns kFailure.
int usage_error(std::string message, std::string_view context = {});

// Flushes standard output at the end of a command: a write that failed (a full disk,
// a closed pipe's EIO) turns `rc` into kFailure with an IO_ERROR line.
int finish_stdout(int rc);

// An output path option's value: "-" is standard output, anything else a file written
// atomically (temporary file + rename: never half-written).
inline constexpr std::string_view kStdoutPath = "-";
std::optional<Error> write_output(const std::string& path, std::string_view data, mode_t mode = 0644);

// Rows under a header line, each column padded to its widest cell (UTF-8 aware), two
// spaces apart: the terminal form of a listing.
std::string columns(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// FHIR bundles (card::fhir_bundle_json) to an output path option: "-" writes them one
// after the other to standard output; a file gets the one bundle, or FILE-1, FILE-2 ... for several.
std::optional<Error> write_bundles(const std::string& path, const std::vector<std::string>& bundles);

// Standard output is a terminal (column headers, colour).
bool stdout_is_terminal();
// Colour on standard output: a terminal, and NO_COLOR unset or empty (no-color.org).
bool use_colour();
// `text` in green (good) or red (bad) when use_colour(), else unchanged.
std::string coloured(const std::string& text, bool good);

// The exit status for a command ended by `e` (its exit class in the error table).
int exit_for(const Error& e);

// One INPUT argument's bytes: "-" is standard input, anything else a file.
Result<std::string> read_input(const std::string& path, size_t max_bytes = input::kMaxInputBytes);

// The file names a directory INPUT stands for (docs/cli.md "Directories"): every file
// below it with a card extension (kCardExtensions), depth first, sorted by name;
// directory symlinks are followed once (a loop is skipped, not followed forever).
inline constexpr std::string_view kCardExtensions[] = {
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".pnm", ".pgm", ".ppm", ".txt", ".jws", ".smart-health-card", ".json"};
Result<std::vector<std::string>> expand_directory(const std::string& dir);

// Reads every INPUT ("-" is stdin, read once; a directory, its card files); unreadable
// ones become InputErrors. Files are read on up to `jobs` threads; the result keeps the
// order of the arguments.
struct LoadedInputs {
    std::vector<input::NamedBytes> sources;
    std::vector<input::InputError> errors;
};
LoadedInputs load_inputs(const std::vector<std::string>& paths, int jobs = 1);

// The trust store directory: --store if given, else $SHCX_TRUST, else (root) the system
// store, else the user store from $XDG_DATA_HOME or $HOME, falling back to the system store
// for reading (docs/deploy.md "Trust store locations"). $SHCX_SYSTEM_TRUST_DIR moves the
// system store (for tests and packagers).
std::string trust_store_dir(const std::string& store_option, trust_store::Access access = trust_store::Access::Read);

// Registration of subcommands (main.cpp lists them in order).
// --json, --ndjson and -q/--quiet, mutually exclusive, for a command that prints results.
void add_output_modes(CLI::App* cmd, bool& json, bool& ndjson, bool& quiet, const std::string& json_help,
                      const std::string& ndjson_help);

void setup_decode(CLI::App& app, int& exit_code);
void setup_keygen(CLI::App& app, int& exit_code);
void setup_issue(CLI::App& app, int& exit_code);
void setup_verify(CLI::App& app, int& exit_code);
void setup_trust(CLI::App& app, int& exit_code);
void setup_share(CLI::App& app, int& exit_code);
void setup_share_migrate(CLI::App& share, int& exit_code);  // cmd_share_migrate.cpp

}  // namespace shcx::cli
