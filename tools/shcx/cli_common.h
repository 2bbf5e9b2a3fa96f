// What every subcommand shares: exit codes, error printing, reading inputs.
#pragma once

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/input.h"

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

// Reads every INPUT ("-" is stdin, read once); unreadable ones become InputErrors.
struct LoadedInputs {
    std::vector<input::Source> sources;
    std::vector<input::InputError> errors;
};
LoadedInputs load_inputs(const std::vector<std::string>& paths);

// Registration of subcommands (main.cpp lists them in order).
void setup_decode(CLI::App& app, int& exit_code);
void setup_keygen(CLI::App& app, int& exit_code);
void setup_issue(CLI::App& app, int& exit_code);
void setup_verify(CLI::App& app, int& exit_code);
void setup_trust(CLI::App& app, int& exit_code);
void setup_share(CLI::App& app, int& exit_code);
void setup_share_migrate(CLI::App& share, int& exit_code);  // cmd_share_migrate.cpp

}  // namespace shcx::cli
