#include "cli_common.h"

#include <CLI/CLI.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "shcx/fsutil.h"
#include "shcx/parallel.h"
#include "shcx/shl/link.h"
#include "shcx/trust/store.h"

namespace shcx::cli {

void print_error(const Error& e, std::string_view context) {
    std::cerr << "shcx: error: ";
    if (!context.empty()) std::cerr << context << ": ";
    std::cerr << code_name(e.code) << ": " << e.message << "\n";
}

void print_warning(std::string_view message) { std::cerr << "shcx: warning: " << message << "\n"; }

int usage_error(std::string message, std::string_view context) {
    print_error(make_error(ErrorCode::USAGE, std::move(message)), context);
    return kFailure;
}

int finish_stdout(int rc) {
    // The write that failed may be long past (errno since overwritten), so the message
    // names the stream, not a cause.
    std::cout.flush();
    bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout;
    if (!failed) return rc;
    print_error(make_error(ErrorCode::IO_ERROR, "cannot write to standard output (a full disk, or a closed pipe)"));
    return kFailure;
}

std::optional<Error> write_output(const std::string& path, std::string_view data, mode_t mode) {
    if (path == kStdoutPath) {
        std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
        return std::nullopt;  // a failure shows at finish_stdout
    }
    return fsutil::write_file_atomic(path, data, mode);
}

namespace {
size_t display_width(const std::string& s) {
    size_t n = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\033') {  // a colour escape (ESC [ ... m) has no width
            while (i < s.size() && s[i] != 'm') ++i;
            continue;
        }
        n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;  // code points, not bytes
    }
    return n;
}
}  // namespace

std::string columns(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width(header.size());
    auto measure = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], display_width(row[i]));
    };
    measure(header);
    for (const auto& r : rows) measure(r);
    std::string out;
    auto line = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
            out += row[i];
            if (i + 1 < row.size()) out += std::string(width[i] - display_width(row[i]) + 2, ' ');
        }
        out += "\n";
    };
    line(header);
    for (const auto& r : rows) line(r);
    return out;
}

std::optional<Error> write_bundles(const std::string& path, const std::vector<std::string>& bundles) {
    for (size_t i = 0; i < bundles.size(); ++i) {
        if (path == kStdoutPath) {
            std::cout << bundles[i];  // each ends in a newline already
            continue;
        }
        std::string target = bundles.size() == 1 ? path : fsutil::numbered_path(path, int(i) + 1);
        if (auto err = fsutil::write_file_atomic(target, bundles[i])) return err;
    }
    return std::nullopt;
}

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

bool use_colour() {
    // Asked once per process: a verify of thousands of cards colours every verdict, and
    // neither the environment nor what standard output is changes during a run.
    static const bool on = [] {
        const char* no_colour = std::getenv("NO_COLOR");
        return stdout_is_terminal() && (no_colour == nullptr || *no_colour == '\0');
    }();
    return on;
}

std::string coloured(const std::string& text, bool good) {
    if (!use_colour()) return text;
    return (good ? "\033[32m" : "\033[31m") + text + "\033[0m";
}

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

namespace {

bool has_card_extension(const std::filesystem::path& p) {
    std::string ext = p.extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto known : kCardExtensions)
        if (ext == known) return true;
    return false;
}

constexpr int kMaxDirectoryDepth = 64;

// Depth first, sorted; `seen` holds the (device, inode) of every directory on the way
// down, so a symlink back up is skipped.
std::optional<Error> walk(const std::filesystem::path& dir, int depth, std::vector<std::pair<dev_t, ino_t>>& seen,
                          std::vector<std::string>& files) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return make_error(ErrorCode::INPUT_UNREADABLE, "cannot be opened");
    std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
    if (depth > kMaxDirectoryDepth || std::find(seen.begin(), seen.end(), id) != seen.end()) return std::nullopt;
    seen.push_back(id);
    std::error_code ec;
    std::vector<std::filesystem::path> entries;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        entries.push_back(it->path());
    if (ec) return make_error(ErrorCode::INPUT_UNREADABLE, "cannot list " + dir.string() + ": " + ec.message());
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) {
        if (std::filesystem::is_directory(e, ec)) {
            if (auto err = walk(e, depth + 1, seen, files)) return err;
        } else if (std::filesystem::is_regular_file(e, ec) && has_card_extension(e)) {
            files.push_back(e.string());
        }
    }
    seen.pop_back();
    return std::nullopt;
}

}  // namespace

Result<std::vector<std::string>> expand_directory(const std::string& dir) {
    std::vector<std::pair<dev_t, ino_t>> seen;
    std::vector<std::string> files;
    if (auto err = walk(dir, 0, seen, files)) return *err;
    return files;
}

LoadedInputs load_inputs(const std::vector<std::string>& given, int jobs) {
    // Which argument is what is decided in order (stdin once, links by position); the
    // files are then read together (fsutil::read_files: batched, on `jobs` threads), since
    // thousands of small reads are a serial part of a run otherwise (docs/performance.md),
    // and collected in argument order.
    // A directory stands for the card files below them (an empty one is an error: no
    // input at all would otherwise pass silently). It is found by its read failing, not
    // by a stat of every argument first: one system call per file fewer.
    struct Slot {
        std::string name;
        std::optional<Result<std::string>> bytes;  // empty: a file still to read
        bool file = false;                         // a path given (or found in a directory)
    };
    std::vector<Slot> slots;
    slots.reserve(given.size());
    bool stdin_used = false;
    int link_arguments = 0;
    for (const auto& p : given) {
        // A SMART Health Link given as the argument itself, not a file name. Named by its
        // position: the link text holds its key and is never printed.
        std::error_code ec;  // a long link is ENAMETOOLONG as a path: not a file either
        if (shl::looks_like_link(p) && !std::filesystem::exists(p, ec)) {
            slots.push_back({"link-argument-" + std::to_string(++link_arguments), Result<std::string>(p)});
            continue;
        }
        if (p == "-") {
            if (stdin_used) {
                slots.push_back(
                    {p, Result<std::string>(make_error(ErrorCode::USAGE, "stdin ('-') given more than once"))});
                continue;
            }
            stdin_used = true;
            slots.push_back({p, read_input(p)});
            continue;
        }
        slots.push_back({p, std::nullopt, true});
    }
    auto read_pending = [&] {
        std::vector<size_t> pending;
        std::vector<std::string> paths;
        for (size_t i = 0; i < slots.size(); ++i)
            if (!slots[i].bytes) {
                pending.push_back(i);
                paths.push_back(slots[i].name);
            }
        auto read = fsutil::read_files(paths, input::kMaxInputBytes, jobs);
        for (size_t k = 0; k < pending.size(); ++k) slots[pending[k]].bytes = std::move(read[k]);
    };
    read_pending();
    std::vector<input::InputError> dir_errors;
    bool expanded = false;
    for (size_t i = 0; i < slots.size();) {
        std::error_code ec;
        if (!slots[i].file || *slots[i].bytes || !std::filesystem::is_directory(slots[i].name, ec)) {
            ++i;
            continue;
        }
        std::string dir = std::move(slots[i].name);
        slots.erase(slots.begin() + static_cast<long>(i));
        auto files = expand_directory(dir);
        if (!files) {
            dir_errors.push_back({dir, files.error()});
        } else if (files.value().empty()) {
            dir_errors.push_back({dir, make_error(ErrorCode::INPUT_EMPTY, "a directory with no card files in it")});
        }
        std::vector<Slot> found;
        if (files)
            for (auto& f : files.value()) found.push_back({std::move(f), std::nullopt, false});
        slots.insert(slots.begin() + static_cast<long>(i), std::make_move_iterator(found.begin()),
                     std::make_move_iterator(found.end()));
        i += found.size();  // the files found are read below, not looked into again
        expanded = true;
    }
    if (expanded) read_pending();
    LoadedInputs out;
    out.errors = std::move(dir_errors);
    out.sources.reserve(slots.size());
    for (auto& slot : slots) {
        if (!*slot.bytes) {
            out.errors.push_back({slot.name, slot.bytes->error()});
            continue;
        }
        out.sources.push_back({std::move(slot.name), std::move(slot.bytes->value())});
    }
    return out;
}

void add_output_modes(CLI::App* cmd, bool& json, bool& ndjson, bool& quiet, const std::string& json_help,
                      const std::string& ndjson_help) {
    auto* json_flag = cmd->add_flag("--json", json, json_help);
    auto* ndjson_flag = cmd->add_flag("--ndjson", ndjson, ndjson_help);
    auto* quiet_flag =
        cmd->add_flag("-q,--quiet", quiet, "Print nothing on standard output: the exit status is the answer");
    json_flag->excludes(ndjson_flag);
    quiet_flag->excludes(json_flag)->excludes(ndjson_flag);
}

}  // namespace shcx::cli
