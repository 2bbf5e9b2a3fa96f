// shcx: the SMART Health Card toolkit. Each subcommand lives in cmd_<name>.cpp; this
// file lists them, parses the command line and owns the process exit code.
#include <CLI/CLI.hpp>

#include <exception>
#include <filesystem>
#include <new>

#include "cli_common.h"
#include "shcx/shl/link.h"

namespace shcx::cli {

void print_error(std::string_view message) { std::cerr << "shcx: error: " << message << "\n"; }

void print_error(const Error& e, std::string_view context) {
    std::cerr << "shcx: error: ";
    if (!context.empty()) std::cerr << context << ": ";
    std::cerr << code_name(e.code) << ": " << e.message << "\n";
}

void print_warning(std::string_view message) { std::cerr << "shcx: warning: " << message << "\n"; }

LoadedInputs load_inputs(const std::vector<std::string>& paths) {
    LoadedInputs out;
    bool stdin_used = false;
    int link_arguments = 0;
    for (const auto& p : paths) {
        // A SMART Health Link given as the argument itself, not a file name. Named by its
        // position: the link text holds its key and is never printed.
        std::error_code ec;  // a long link is ENAMETOOLONG as a path: not a file either
        if (shl::looks_like_link(p) && !std::filesystem::exists(p, ec)) {
            out.sources.push_back({"link-argument-" + std::to_string(++link_arguments), p});
            continue;
        }
        if (p == "-") {
            if (stdin_used) {
                out.errors.push_back({p, make_error(ErrorCode::USAGE, "stdin ('-') given more than once")});
                continue;
            }
            stdin_used = true;
        }
        auto bytes = input::read_input_file(p);
        if (!bytes) {
            out.errors.push_back({p, bytes.error()});
            continue;
        }
        out.sources.push_back({p, std::move(bytes.value())});
    }
    return out;
}

}  // namespace shcx::cli

int main(int argc, char** argv) {
    using namespace shcx::cli;
    CLI::App app{"shcx - read, verify, issue and share SMART Health Cards", "shcx"};
    app.set_version_flag("--version", std::string("shcx ") + SHCX_VERSION);
    app.require_subcommand(1);
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("shcx: error: ") + e.what() + "\nRun with --help for usage.\n";
    });
    int exit_code = kOk;
    setup_verify(app, exit_code);
    setup_decode(app, exit_code);
    setup_trust(app, exit_code);
    setup_share(app, exit_code);
    setup_keygen(app, exit_code);
    setup_issue(app, exit_code);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? kOk : kFailure;  // usage errors are "could not process"
    } catch (const std::bad_alloc&) {
        print_error("out of memory");
        return kFailure;
    } catch (const std::exception& e) {
        print_error(std::string("internal error: ") + e.what());
        return kFailure;
    }
    return exit_code;
}
