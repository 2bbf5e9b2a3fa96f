#include "cli_common.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "shcx/fsutil.h"
#include "shcx/shl/link.h"
#include "shcx/trust/store.h"

namespace shcx::cli {

void print_error(std::string_view message) { std::cerr << "shcx: error: " << message << "\n"; }

void print_error(const Error& e, std::string_view context) {
    std::cerr << "shcx: error: ";
    if (!context.empty()) std::cerr << context << ": ";
    std::cerr << code_name(e.code) << ": " << e.message << "\n";
}

void print_warning(std::string_view message) { std::cerr << "shcx: warning: " << message << "\n"; }

int exit_for(const Error& e) { return static_cast<int>(exit_class(e.code)); }

Result<std::string> read_input(const std::string& path, size_t max_bytes) {
    if (path == "-") return fsutil::read_stream(std::cin, max_bytes);
    return fsutil::read_file(path, max_bytes);
}

std::string trust_store_dir(const std::string& store_option, trust_store::Access access) {
    auto env = [](const char* name) -> std::string {
        const char* v = std::getenv(name);
        return v ? v : "";
    };
    trust_store::Location where;
    where.dir = store_option.empty() ? env("SHCX_TRUST") : store_option;
    where.xdg_data_home = env("XDG_DATA_HOME");
    where.home = env("HOME");
    if (std::string system = env("SHCX_SYSTEM_TRUST_DIR"); !system.empty()) where.system_dir = system;
    where.admin = geteuid() == 0;
    return trust_store::resolve_dir(where, access);
}

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
        auto bytes = read_input(p);
        if (!bytes) {
            out.errors.push_back({p, bytes.error()});
            continue;
        }
        out.sources.push_back({p, std::move(bytes.value())});
    }
    return out;
}

}  // namespace shcx::cli
