// shcx: the SMART Health Card toolkit. Each subcommand lives in cmd_<name>.cpp; this
// file lists them, parses the command line and owns the process exit code.
#include <CLI/CLI.hpp>

#include <exception>
#include <new>

#include "cli_common.h"

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
