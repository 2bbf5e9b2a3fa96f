// What every subcommand shares: exit codes, error printing, reading inputs (standard input
// included), and the environment (the library reads none of it).
#pragma once

#include <iostream>
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

// One line on stderr: "shcx: error: <message>".
void print_error(std::string_view message);
void print_error(const Error& e, std::string_view context = {});
void print_warning(std::string_view message);

// The exit status for a command ended by `e` (its exit class in the error table).
int exit_for(const Error& e);

// One INPUT argument's bytes: "-" is standard input, anything else a file.
Result<std::string> read_input(const std::string& path, size_t max_bytes = input::kMaxInputBytes);

// Reads every INPUT ("-" is stdin, read once); unreadable ones become InputErrors.
struct LoadedInputs {
    std::vector<input::NamedBytes> sources;
    std::vector<input::InputError> errors;
};
LoadedInputs load_inputs(const std::vector<std::string>& paths);

// The trust store directory: --store if given, else $SHCX_TRUST, else (root) the system
// store, else the user store from $XDG_DATA_HOME or $HOME, falling back to the system store
// for reading (docs/deploy.md "Trust store locations"). $SHCX_SYSTEM_TRUST_DIR moves the
// system store (for tests and packagers).
std::string trust_store_dir(const std::string& store_option,
                            trust_store::Access access = trust_store::Access::Read);

// Registration of subcommands (main.cpp lists them in order).
void setup_decode(CLI::App& app, int& exit_code);
void setup_keygen(CLI::App& app, int& exit_code);
void setup_issue(CLI::App& app, int& exit_code);
void setup_verify(CLI::App& app, int& exit_code);
void setup_trust(CLI::App& app, int& exit_code);
void setup_share(CLI::App& app, int& exit_code);
void setup_share_migrate(CLI::App& share, int& exit_code);  // cmd_share_migrate.cpp

}  // namespace shcx::cli
