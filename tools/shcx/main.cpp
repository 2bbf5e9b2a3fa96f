// shcx: the SMART Health Card toolkit. Each subcommand lives in cmd_<name>.cpp; this
// file lists them, parses the command line and owns the process exit code.
#include <CLI/CLI.hpp>
#ifdef SHCX_MIMALLOC
#include <mimalloc.h>
#endif

#include <algorithm>
#include <exception>
#include <iterator>
#include <map>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli_common.h"

namespace {

#ifdef SHCX_MIMALLOC
// 2 MiB pages for the heap: where a page fault costs microseconds (virtual machines), a
// verify of thousands of cards otherwise spends a tenth of its time faulting pages in
// (docs/performance.md, "Memory"). Set from .preinit_array, which runs before any
// library's initialiser, since the heap's first segment is mapped at the first malloc.
// Without the second option a thread's first segment would be committed lazily, in
// small pages: the faults would come back with --jobs.
void use_large_heap_pages() {
    mi_option_set(mi_option_large_os_pages, 1);
    mi_option_set(mi_option_eager_commit_delay, 0);
}
[[gnu::section(".preinit_array"), gnu::used]] void (*const preinit_large_heap_pages)() = use_large_heap_pages;
#endif

using namespace shcx::cli;

// Edit distance counting a swap of two neighbours as one edit (optimal string
// alignment), for "did you mean": "sycn" is one slip from "sync".
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

// The closest candidate, if it is close enough to be a slip of the fingers: at most two
// edits, and fewer than half the word.
std::string closest(const std::string& typed, const std::vector<std::string>& candidates) {
    std::string best;
    size_t best_distance = 3;
    for (const auto& c : candidates) {
        size_t d = edit_distance(typed, c);
        if (d < best_distance && 2 * d < std::max(typed.size(), c.size())) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

// The deepest (sub)command the command line selected: its options and subcommands are
// what a misspelt word was meant to be.
CLI::App* selected_command(CLI::App& app) {
    CLI::App* at = &app;
    for (bool deeper = true; deeper;) {
        deeper = false;
        for (CLI::App* sub : at->get_subcommands([](CLI::App*) { return true; }))
            if (sub->parsed()) {
                at = sub;
                deeper = true;
                break;
            }
    }
    return at;
}

std::string did_you_mean(const std::string& suggestion) {
    return suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)";
}

// CLI11's message for a parse error, reworded into one line; an unknown word that is
// close to a command or option name gets a suggestion.
std::string usage_message(CLI::App& app, std::string message) {
    CLI::App* cmd = selected_command(app);
    std::string where;  // "shcx share status"
    for (const CLI::App* c = cmd; c != nullptr; c = c->get_parent())
        where = c->get_name() + (where.empty() ? "" : " ") + where;
    std::vector<std::string> leftover = app.remaining(true);
    if (!leftover.empty()) {
        const std::string& word = leftover.front();
        if (word.size() > 1 && word[0] == '-') {
            std::vector<std::string> names;
            for (const CLI::Option* o : cmd->get_options()) {
                for (const auto& l : o->get_lnames()) names.push_back("--" + l);
                for (const auto& s : o->get_snames()) names.push_back("-" + s);
            }
            std::string name = word.substr(0, word.find('='));
            std::string suggestion = closest(name, names);
            bool takes_arguments = !cmd->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty();
            return "unknown option '" + name + "' for " + where +
                   (suggestion.empty() && takes_arguments ? " (an argument that starts with - goes after --)"
                                                          : did_you_mean(suggestion));
        }
        std::vector<std::string> subs;
        for (CLI::App* sub : cmd->get_subcommands([](CLI::App*) { return true; })) subs.push_back(sub->get_name());
        if (!subs.empty() && cmd->get_subcommands().empty())
            return "unknown command '" + word + "'" + did_you_mean(closest(word, subs));
        return "unexpected argument '" + word + "' for " + where;
    }
    if (cmd->get_require_subcommand_min() > 0 && cmd->get_subcommands().empty()) {
        std::string names;
        for (CLI::App* sub : cmd->get_subcommands([](CLI::App*) { return true; }))
            names += (names.empty() ? "" : ", ") + sub->get_name();
        return where + " needs a command: " + names;
    }
    // Anything else (a missing or malformed value) keeps CLI11's wording, on one line.
    for (auto& c : message)
        if (c == '\n') c = ' ';
    while (!message.empty() && message.back() == ' ') message.pop_back();
    return message + " (" + where + " --help)";
}

// What each option's value is, by option name, instead of CLI11's TEXT/INT/FLOAT in
// --help (the completions read these names too). An option whose value means something
// else in one command names it where it is added (verify's --jwks).
const std::map<std::string, std::string>& value_names() {
    static const std::map<std::string, std::string> names = {
        {"--at", "TIME"},
        {"--nbf", "TIME"},
        {"--exp", "TIME"},
        {"--ttl", "DURATION"},
        {"--expires", "DURATION"},
        {"--max-age", "DURATION"},
        {"--store", "DIR"},
        {"--iss", "URL"},
        {"--server", "URL"},
        {"--public-url", "URL"},
        {"--source", "NAME|URL"},
        {"--jobs", "N"},
        {"--reveals", "N"},
        {"--threads", "N"},
        {"--reveal-limit", "N"},
        {"--create-limit", "N"},
        {"--max-connections", "N"},
        {"--max-connections-per-address", "N"},
        {"--kdf-passes", "N"},
        {"--kdf-memory", "KIB"},
        {"--clock-skew", "SECONDS"},
        {"--sweep-interval", "SECONDS"},
        {"--idle-timeout", "SECONDS"},
        {"--request-timeout", "SECONDS"},
        {"--listen", "HOST:PORT"},
        {"--trusted-proxy", "ADDRESS"},
        {"--policy", "NAME|FILE"},
        {"--db", "FILE|URI"},
        {"--name", "NAME"},
        {"--recipient", "NAME"},
        {"--rid", "RID"},
        {"--type", "URI"},
        {"--fhir-version", "VERSION"},
        {"--passcode", "PASSCODE"},
        {"--pin", "PIN"},
        {"--token", "TOKEN"},
        {"--from", "FILE"},
        {"--to", "URI"},
        {"INPUT", "FILE|DIR|LINK"},
        {"BUNDLE", "FILE"},
        {"FILE", "FILE"},
        {"LINK", "LINK|FILE"},
        {"ID", "ID"},
        {"NAME", "NAME"},
    };
    return names;
}

void name_option_values(CLI::App* app) {
    for (CLI::Option* o : app->get_options([](CLI::Option*) { return true; })) {
        if (o->get_expected_max() == 0) continue;  // a flag
        static const std::set<std::string> cli11_names = {"", "TEXT", "INT", "UINT", "FLOAT", "BOOLEAN"};
        if (!cli11_names.count(o->get_type_name())) continue;  // named where it was added
        auto found = value_names().find(o->get_name());
        // Paths are the rest: every other option that takes a value names a file.
        o->type_name(found != value_names().end() ? found->second : "FILE");
    }
    for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) name_option_values(sub);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace shcx::cli;
    CLI::App app{"shcx - read, verify, issue and share SMART Health Cards", "shcx"};
    app.set_version_flag("--version", std::string("shcx ") + SHCX_VERSION);
    app.require_subcommand(1);
    int exit_code = kOk;
    // In --help order. A command line whose first word is a command sets up that command
    // alone: it is parsed the same (CLI11 never falls back to a sibling once one command
    // is chosen), and building every command's options costs about half a millisecond,
    // some 4% of a one-card verify (docs/performance.md, "Start-up"). Anything else
    // (--help, --version, a misspelt command) gets them all, for the list and "did you mean".
    using Setup = void (*)(CLI::App&, int&);
    static const std::pair<std::string_view, Setup> commands[] = {
        {"verify", setup_verify}, {"decode", setup_decode}, {"trust", setup_trust},
        {"share", setup_share},   {"keygen", setup_keygen}, {"issue", setup_issue},
    };
    auto chosen = std::find_if(std::begin(commands), std::end(commands),
                               [&](const auto& c) { return argc > 1 && c.first == argv[1]; });
    if (chosen != std::end(commands)) {
        chosen->second(app, exit_code);
    } else {
        for (const auto& c : commands) c.second(app, exit_code);
    }
    name_option_values(&app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        app.exit(e);  // --help: the help text on stdout
        return finish_stdout(kOk);
    } catch (const CLI::CallForAllHelp& e) {
        app.exit(e);
        return finish_stdout(kOk);
    } catch (const CLI::CallForVersion& e) {
        app.exit(e);
        return finish_stdout(kOk);
    } catch (const CLI::ParseError& e) {
        // One line with a code, like every other error (docs/cli.md "Errors").
        print_error(shcx::make_error(shcx::ErrorCode::USAGE, usage_message(app, e.what())));
        return kFailure;
    } catch (const std::bad_alloc&) {
        print_error(shcx::make_error(shcx::ErrorCode::INTERNAL, "out of memory"));
        return kFailure;
    } catch (const std::exception& e) {
        print_error(shcx::make_error(shcx::ErrorCode::INTERNAL, e.what()));
        return kFailure;
    }
    return finish_stdout(exit_code);
}
