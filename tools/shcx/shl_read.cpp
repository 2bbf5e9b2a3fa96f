#include "shl_read.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "shcx/card/decode.h"
#include "shcx/secure.h"
#include "shcx/shl/link.h"
#include "shcx/shl/manifest.h"
#include "shcx/timeutil.h"

namespace shcx::cli::shl_read {
namespace {

// Longest passcode read from a file or the terminal.
constexpr size_t kMaxPasscodeBytes = 1024;

// Text from a server or a file, made safe to print: control characters become '?'.
std::string printable(std::string s) {
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return s;
}

// The first line of --passcode-file (its line break dropped).
Result<SecretString> passcode_from_file(const std::string& path) {
    auto text = input::read_input_file(path, kMaxPasscodeBytes);
    if (!text) return Error{text.error().code, "--passcode-file " + path + ": " + text.error().message};
    // Copied, then the original wiped: moving a short string would leave its bytes behind.
    const std::string& s = text.value();
    size_t end = s.find('\n');
    if (end == std::string::npos) end = s.size();
    if (end > 0 && s[end - 1] == '\r') --end;
    SecretString passcode;
    passcode.str().assign(s, 0, end);
    secure_wipe(text.value());
    if (end == 0) return make_error(ErrorCode::USAGE, "--passcode-file " + path + ": the first line is empty");
    return passcode;
}

// Asks on the terminal without echo; nullopt when stdin is not a terminal.
std::optional<SecretString> prompt_passcode(const std::string& what) {
    if (!isatty(STDIN_FILENO)) return std::nullopt;
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (tty < 0) return std::nullopt;
    std::string prompt = "Passcode for " + printable(what) + ": ";
    termios old{}, quiet{};
    bool have_termios = tcgetattr(tty, &old) == 0;
    quiet = old;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    // Echo off first, then the prompt: TCSAFLUSH drops typed-ahead input, so it must not
    // run after the user (or a program driving the terminal) has seen the prompt.
    if (have_termios) tcsetattr(tty, TCSAFLUSH, &quiet);
    (void)!write(tty, prompt.data(), prompt.size());
    SecretString line;
    char c;
    while (read(tty, &c, 1) == 1 && c != '\n' && line.str().size() < kMaxPasscodeBytes) line.str() += c;
    if (!line.str().empty() && line.str().back() == '\r') line.str().pop_back();
    if (have_termios) tcsetattr(tty, TCSAFLUSH, &old);
    (void)!write(tty, "\n", 1);
    close(tty);
    return line;
}

std::string file_input(const std::string& link_input, size_t index) {
    return link_input + "#file" + std::to_string(index);
}

}  // namespace

void add_options(CLI::App* cmd, Options& o) {
    auto* pass = cmd->add_option("--passcode", o.passcode,
                                 "Passcode for SMART Health Links with the P flag (visible to other users in ps: "
                                 "prefer --passcode-file)");
    auto* pass_file = cmd->add_option("--passcode-file", o.passcode_file,
                                      "Read the SMART Health Link passcode from the first line of FILE");
    pass->excludes(pass_file);
    cmd->add_option("--recipient", o.recipient,
                    "Who is asking, sent with SMART Health Link requests and shown to the sharer (default shcx)");
}

Opened open_links(input::Extraction& extraction, std::vector<input::InputError>& errors, Options& o, int jobs) {
    Opened out;
    std::vector<input::FoundLink> links = std::move(extraction.links);
    extraction.links.clear();
    SecretString given;
    given.str() = o.passcode;  // copied, then the option's own copy wiped
    secure_wipe(o.passcode);
    if (links.empty()) return out;
    if (!o.passcode_file.empty()) {
        auto p = passcode_from_file(o.passcode_file);
        if (!p) {
            for (auto& l : links) errors.push_back({l.origin, p.error()});
            return out;
        }
        given = std::move(p.value());
    }
    if (o.recipient.empty()) {
        for (auto& l : links)
            errors.push_back({l.origin, make_error(ErrorCode::USAGE, "--recipient must not be empty")});
        return out;
    }

    std::vector<input::NamedBytes> card_files;
    for (auto& found : links) {
        SecretString text(std::move(found.text));
        auto link = shl::parse_link(text.str());
        if (!link) {
            errors.push_back({found.origin, link.error()});
            continue;
        }
        shl::FetchOptions fo;
        fo.recipient = o.recipient;
        fo.now = timeutil::now();  // the link must be live now, whatever --at says
        std::optional<SecretString> prompted;
        if (link.value().passcode) {
            if (!given.str().empty()) fo.passcode = &given;
            else if (!shl::check_not_expired(link.value(), fo.now)) {
                prompted = prompt_passcode(link.value().label.empty() ? found.origin : link.value().label);
                if (prompted) fo.passcode = &*prompted;
            }
        }
        auto contents = shl::fetch(link.value(), fo);
        if (!contents) {
            Error e = contents.error();
            if (e.code == ErrorCode::SHL_PASSCODE_REQUIRED && link.value().passcode)
                e.message += "; give it with --passcode-file FILE (or --passcode, or on a terminal when asked)";
            errors.push_back({found.origin, std::move(e)});
            continue;
        }
        auto& c = contents.value();
        OpenedLink ol;
        ol.input = found.origin;
        ol.label = link.value().label;
        ol.flags = link.value().flag;
        ol.server = c.server;
        ol.manifest_status = printable(c.manifest_status);
        ol.exp = link.value().exp;
        ol.listed = c.listed;
        ol.read = c.files.size();
        out.links.push_back(std::move(ol));
        for (auto& p : c.errors) errors.push_back({found.origin, std::move(p.error)});
        for (auto& w : c.warnings) out.warnings.push_back({found.origin, std::move(w.error)});
        for (auto& f : c.files) {
            std::string name = file_input(found.origin, f.index);
            if (f.content_type == shl::kHealthCardType) {
                card_files.push_back({name, f.content.str()});
                continue;
            }
            auto summary = shl::summarize_fhir(f.content.str());
            if (!summary) {
                errors.push_back({name, summary.error()});
                continue;
            }
            out.resources.push_back({name, f.content_type, std::move(summary.value())});
        }
    }
    given = SecretString();
    for (const auto& w : out.warnings)
        print_warning(w.input + ": " + std::string(code_name(w.error.code)) + ": " + w.error.message);

    auto linked = input::extract_cards(card_files, jobs, {decode::jws_decodes});
    for (auto& s : card_files) secure_wipe(s.bytes);
    for (auto& card : linked.cards) extraction.cards.push_back(std::move(card));
    for (auto& e : linked.errors) errors.push_back(std::move(e));
    // A link inside a link's file is not followed.
    for (auto& l : linked.links)
        errors.push_back(
            {l.origin, make_error(ErrorCode::SHL_INVALID, "a SMART Health Link inside a link's file is not followed")});
    return out;
}

void print_links_text(const Opened& opened) {
    for (const auto& l : opened.links) {
        std::cout << "SMART Health Link  " << l.input << "\n";
        if (!l.label.empty()) std::cout << "  Label:      " << l.label << "\n";
        std::cout << "  Server:     " << l.server << "\n";
        std::cout << "  Flags:      " << (l.flags.empty() ? "none" : l.flags) << "\n";
        std::cout << "  Expires:    "
                  << render::date_or(l.exp ? std::optional<double>(double(*l.exp)) : std::nullopt, "never") << "\n";
        if (!l.manifest_status.empty()) std::cout << "  Status:     " << l.manifest_status << "\n";
        std::cout << "  Files:      " << l.listed << " listed, " << l.read << " read\n\n";
    }
}

void print_resource_text(const FhirResource& r, const std::string& heading) {
    const auto& s = r.summary;
    std::cout << heading << "  " << r.input << "\n";
    std::cout << "  Content:    " << r.content_type << " (not signed: nothing here is verified)\n";
    std::cout << "  Resource:   " << printable(s.resource_type);
    if (!s.bundle_type.empty()) std::cout << " (" << printable(s.bundle_type) << ")";
    if (s.resource_type == "Bundle") {
        std::cout << ", " << s.resources << (s.resources == 1 ? " entry" : " entries");
        for (size_t i = 0; i < s.counts.size(); ++i)
            std::cout << (i ? ", " : ": ") << s.counts[i].second << " " << printable(s.counts[i].first);
    }
    std::cout << "\n";
    if (!s.title.empty()) std::cout << "  Title:      " << printable(s.title) << "\n";
    if (!s.people.empty()) std::cout << render::people_text(s.people, 2);
}

render::Json links_json(const Opened& opened) {
    render::Json arr = render::Json::array();
    for (const auto& l : opened.links)
        arr.push_back({{"input", l.input},
                       {"label", l.label},
                       {"server", l.server},
                       {"flag", l.flags},
                       {"exp", l.exp ? render::Json(timeutil::format_utc(double(*l.exp))) : render::Json(nullptr)},
                       {"status", l.manifest_status.empty() ? render::Json(nullptr) : render::Json(l.manifest_status)},
                       {"files_listed", l.listed},
                       {"files_read", l.read}});
    return arr;
}

render::Json resource_json(const FhirResource& r) {
    const auto& s = r.summary;
    render::Json counts = render::Json::object();
    for (const auto& [type, n] : s.counts) counts[type] = n;
    return {{"input", r.input},
            {"contentType", r.content_type},
            {"resourceType", s.resource_type},
            {"bundleType", s.bundle_type.empty() ? render::Json(nullptr) : render::Json(s.bundle_type)},
            {"title", s.title.empty() ? render::Json(nullptr) : render::Json(s.title)},
            {"entries", s.resources},
            {"resourceTypes", counts},
            {"people", render::people_json(s.people)}};
}

}  // namespace shcx::cli::shl_read
