// Unix manners for every command (issue 15, docs/cli.md): one coded error line for usage
// errors with "did you mean", write failures, "-" for standard output, --quiet,
// --ndjson, the JSON shapes against docs/json/*.schema.json, directories as inputs,
// --help value names, and columns and colour only on a terminal.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support.h"

using namespace shcx::test;
using nlohmann::json;

namespace {

const std::string kDemoIss = "https://issuer.shcx.example/demo";
std::string card(const std::string& name) { return (testdata_dir() / "cards" / name).string(); }
std::string demo_trust() { return kDemoIss + "=" + (testdata_dir() / "issuer/jwks.json").string(); }
fs::path source_dir() { return testdata_dir().parent_path(); }

// Runs shcx with standard output redirected to `target` by the shell (e.g. /dev/full).
RunResult run_redirected(const std::string& target, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"sh", "-c", "exec \"$0\" \"$@\" > \"$SHCX_TEST_TARGET\"", SHCX_BIN_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    setenv("SHCX_TEST_TARGET", target.c_str(), 1);
    auto r = run_program(argv);
    unsetenv("SHCX_TEST_TARGET");
    return r;
}

// Runs shcx in directory `dir` (for outputs named by relative paths).
RunResult run_in(const fs::path& dir, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"sh", "-c", "cd \"$SHCX_TEST_DIR\" && exec \"$0\" \"$@\"", SHCX_BIN_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    setenv("SHCX_TEST_DIR", dir.c_str(), 1);
    auto r = run_program(argv);
    unsetenv("SHCX_TEST_DIR");
    return r;
}

// Runs shcx on a pseudo-terminal (standard output and error both are the terminal) with
// extra environment settings ("NAME=value"; "NAME=" unsets). Returns the exit code and
// everything written, with the terminal's CR LF turned back into LF.
RunResult run_on_terminal(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    int master = -1;
    winsize size{};
    size.ws_col = 200;
    size.ws_row = 50;
    pid_t pid = forkpty(&master, nullptr, nullptr, &size);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        for (const auto& e : env) {
            auto eq = e.find('=');
            std::string name = e.substr(0, eq), value = e.substr(eq + 1);
            if (value.empty()) unsetenv(name.c_str());
            else setenv(name.c_str(), value.c_str(), 1);
        }
        std::vector<char*> argv{const_cast<char*>(SHCX_BIN_PATH)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(SHCX_BIN_PATH, argv.data());
        _exit(127);
    }
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + kChildTimeout;
    for (;;) {
        pollfd p{master, POLLIN, 0};
        int ready = poll(&p, 1, 200);
        if (ready > 0) {
            char buf[4096];
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0) break;  // EIO: the child closed the terminal
            out.append(buf, static_cast<size_t>(n));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            break;
        }
    }
    close(master);
    RunResult r;
    r.code = wait_child(pid, std::chrono::seconds(60));
    for (size_t i; (i = out.find("\r\n")) != std::string::npos;) out.replace(i, 2, "\n");
    r.out = out;
    return r;
}

// Validates `text` with tests/cli/validate_json.py against docs/json/NAME.schema.json
// (whole document), or each NDJSON line against one of its $defs.
RunResult validate(const std::string& text, const std::string& name, const std::string& def = "") {
    std::vector<std::string> argv{"python3", (source_dir() / "tests/cli/validate_json.py").string(),
                                  (source_dir() / "docs/json").string(), name};
    if (!def.empty()) argv.push_back(def);
    return run_program(argv, text);
}

void expect_usage(const std::vector<std::string>& args, const std::string& line) {
    auto r = run_shcx(args);
    CAPTURE(line);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == line + "\n");
}

// `s` and the spaces that fill its column of `width`, plus the two between columns.
std::string pad(const std::string& s, size_t width) { return s + std::string(width - s.size() + 2, ' '); }

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

}  // namespace

TEST_CASE("usage errors are one coded line, exit 2, with a suggestion for a near miss") {
    expect_usage({"verfy", "x"}, "shcx: error: USAGE: unknown command 'verfy' (did you mean 'verify'?)");
    expect_usage({"decdoe"}, "shcx: error: USAGE: unknown command 'decdoe' (did you mean 'decode'?)");
    expect_usage({"frobnicate"}, "shcx: error: USAGE: unknown command 'frobnicate'");
    expect_usage({"trust", "sycn"}, "shcx: error: USAGE: unknown command 'sycn' (did you mean 'sync'?)");
    expect_usage({"share", "user", "ad", "x"}, "shcx: error: USAGE: unknown command 'ad' (did you mean 'add'?)");
    expect_usage({"verify", "--jsno", card("lab-result.txt")},
                 "shcx: error: USAGE: unknown option '--jsno' for shcx verify (did you mean '--json'?)");
    expect_usage({"decode", "--fhir-ot=x", card("lab-result.txt")},
                 "shcx: error: USAGE: unknown option '--fhir-ot' for shcx decode (did you mean '--fhir-out'?)");
    expect_usage({"keygen", "--zzzzzz"}, "shcx: error: USAGE: unknown option '--zzzzzz' for shcx keygen");
    expect_usage(
        {"share", "status", "-x3Fq9", "--db", "x.sqlite"},
        "shcx: error: USAGE: unknown option '-x3Fq9' for shcx share status (an argument that starts with - goes "
        "after --)");
    expect_usage({}, "shcx: error: USAGE: shcx needs a command: verify, decode, trust, share, keygen, issue");
    expect_usage({"trust"}, "shcx: error: USAGE: shcx trust needs a command: sync, status, list, add, remove");
    expect_usage({"issue", "bundle.json", "--iss", "https://i.example"},
                 "shcx: error: USAGE: --key is required (shcx issue --help)");
    expect_usage({"verify", "--jobs", "many", card("lab-result.txt")},
                 "shcx: error: USAGE: Could not convert: --jobs = many (shcx verify --help)");
    expect_usage({"verify", "--json", "--quiet", card("lab-result.txt")},
                 "shcx: error: USAGE: --json excludes --quiet (shcx verify --help)");
}

TEST_CASE("errors the commands find are coded too") {
    TempDir tmp;
    auto key = (tmp / "key.jwk").string();
    REQUIRE(run_shcx({"keygen", "--out", key}).code == 0);
    expect_usage({"keygen", "--out", key},
                 "shcx: error: " + key + ": IO_ERROR: already exists (use --force to replace it)");
    expect_usage(
        {"verify", "--at", "yesterday", card("lab-result.txt")},
        "shcx: error: --at: USAGE: not an RFC 3339 time on the calendar, or seconds since the epoch: yesterday");
    expect_usage({"verify", "--jobs", "0", card("lab-result.txt")}, "shcx: error: --jobs: USAGE: must be at least 1");
    expect_usage({"trust", "remove", "--store", (tmp / "store").string(), "--iss", "https://nobody.example"},
                 "shcx: error: USAGE: no local issuer https://nobody.example (issuers from the VCI snapshot cannot be "
                 "removed)");
    expect_usage({"decode", "--fhir-out", "-", "--json", card("lab-result.txt")},
                 "shcx: error: USAGE: --fhir-out - and --json/--ndjson would both write to standard output");
}

TEST_CASE("a failed write to standard output exits 2 with IO_ERROR, for every command that prints") {
    const std::string line = "shcx: error: IO_ERROR: cannot write to standard output (a full disk, or a closed pipe)\n";
    std::vector<std::vector<std::string>> commands = {
        {"verify", card("covid-three-doses.png"), "--jwks", demo_trust()},
        {"verify", "--json", card("covid-three-doses.png"), "--jwks", demo_trust()},
        {"decode", card("lab-result.txt")},
        {"decode", "--json", card("lab-result.txt")},
        {"keygen"},
        {"issue", (testdata_dir() / "bundles/lab-result.json").string(), "--key",
         (testdata_dir() / "issuer/key.jwk").string(), "--iss", kDemoIss},
        {"verify", "--help"},
    };
    for (const auto& args : commands) {
        std::string command = args[0] + (args.size() > 1 ? " " + args[1] : "");
        CAPTURE(command);
        auto r = run_redirected("/dev/full", args);
        CHECK(r.code == 2);
        CHECK(r.err == line);
    }
    // A card that is not valid stays "not valid" on a good disk, and becomes 2 on a full one.
    std::vector<std::string> early{"verify",    card("lab-result.txt"), "--at", "2020-01-01T00:00:00Z", "--jwks",
                                   demo_trust()};
    CHECK(run_shcx(early).code == 1);
    auto invalid = run_redirected("/dev/full", early);
    CHECK(invalid.code == 2);
    CHECK(invalid.err == line);
}

TEST_CASE("a failed file write leaves no file behind and exits 2") {
    TempDir tmp;
    auto missing_dir = (tmp / "no-such-dir" / "key.jwk").string();
    auto r = run_shcx({"keygen", "--out", missing_dir});
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("shcx: error: IO_ERROR: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(fs::is_empty(tmp.path()));
}

TEST_CASE("- is standard output for output paths, and never a file named -") {
    TempDir tmp;
    auto decoded = json::parse(run_shcx({"decode", "--json", card("two-people.smart-health-card")}).out);
    json bundle = decoded["results"][0]["payload"]["vc"]["credentialSubject"]["fhirBundle"];

    // Exactly the bytes --fhir-out FILE writes.
    auto d = run_in(tmp.path(), {"decode", "--fhir-out", "-", card("two-people.smart-health-card")});
    CHECK(d.code == 0);
    CHECK(d.err.empty());
    CHECK(json::parse(d.out) == bundle);
    REQUIRE(run_shcx({"decode", "--fhir-out", (tmp / "d.json").string(), card("two-people.smart-health-card")}).code ==
            0);
    CHECK(d.out == read_file(tmp / "d.json"));

    // verify writes the bundle only for a card that verified.
    auto v =
        run_in(tmp.path(), {"verify", "--fhir-out", "-", card("two-people.smart-health-card"), "--jwks", demo_trust()});
    CHECK(v.code == 0);
    CHECK(v.out == d.out);
    auto untrusted = run_in(tmp.path(), {"verify", "--fhir-out", "-", card("two-people.smart-health-card"), "--store",
                                         (tmp / "empty-store").string()});
    CHECK(untrusted.code == 1);
    CHECK(untrusted.out.empty());
    auto to_file = run_shcx({"verify", "--fhir-out", (tmp / "b.json").string(), card("two-people.smart-health-card"),
                             "--jwks", demo_trust()});
    CHECK(to_file.code == 0);
    CHECK(read_file(tmp / "b.json") == d.out);

    // keygen: the public JWKS on stdout, the private key in its file.
    auto k = run_in(tmp.path(), {"keygen", "--out", "k.jwk", "--jwks-out", "-"});
    CHECK(k.code == 0);
    auto jwks = json::parse(k.out);
    REQUIRE(jwks["keys"].size() == 1);
    CHECK(jwks["keys"][0]["kid"] == json::parse(read_file(tmp / "k.jwk"))["kid"]);
    CHECK_FALSE(jwks["keys"][0].contains("d"));
    expect_usage(
        {"keygen", "--jwks-out", "-"},
        "shcx: error: USAGE: the private key and --jwks-out - would both go to standard output; give --out FILE");

    // issue: the .smart-health-card file, or a PNG, on stdout.
    std::vector<std::string> issue{"issue", (testdata_dir() / "bundles/lab-result.json").string(),
                                   "--key", (testdata_dir() / "issuer/key.jwk").string(),
                                   "--iss", kDemoIss};
    auto out_file = issue;
    out_file.insert(out_file.end(), {"--out", "-"});
    auto i = run_in(tmp.path(), out_file);
    CHECK(i.code == 0);
    CHECK(json::parse(i.out)["verifiableCredential"].size() == 1);
    auto qr = issue;
    qr.insert(qr.end(), {"--qr", "-", "--numeric", (tmp / "n.txt").string()});
    auto png = run_in(tmp.path(), qr);
    CHECK(png.code == 0);
    CHECK(png.out.rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    auto two = issue;
    two.insert(two.end(), {"--out", "-", "--numeric", "-"});
    auto both = run_in(tmp.path(), two);
    CHECK(both.code == 2);
    CHECK(both.err == "shcx: error: USAGE: only one output can be - (standard output)\n");
    CHECK_FALSE(fs::exists(tmp / "-"));
}

TEST_CASE("--quiet: the exit status is the whole answer") {
    auto ok = run_shcx({"verify", "-q", card("covid-three-doses.png"), "--jwks", demo_trust()});
    CHECK(ok.code == 0);
    CHECK(ok.out.empty());
    CHECK(ok.err.empty());
    auto bad = run_shcx(
        {"verify", "--quiet", card("covid-three-doses.png"), "--at", "2020-01-01T00:00:00Z", "--jwks", demo_trust()});
    CHECK(bad.code == 1);
    CHECK(bad.out.empty());
    CHECK(bad.err.empty());
    auto decoded = run_shcx({"decode", "--quiet", card("lab-result.txt")});
    CHECK(decoded.code == 0);
    CHECK(decoded.out.empty());
    auto unreadable = run_shcx({"decode", "--quiet", "/nonexistent/card.png"});
    CHECK(unreadable.code == 2);
    CHECK(unreadable.out.empty());
    CHECK(unreadable.err.rfind("shcx: error: /nonexistent/card.png: INPUT_UNREADABLE: ", 0) == 0);
}

TEST_CASE("decode and verify --json match their JSON Schemas, and decode's result is part of verify's") {
    TempDir tmp;
    write_file(tmp / "junk.txt", "not a card\n");
    std::vector<std::string> inputs{card("two-people.png"), card("large-history.txt"),
                                    card("lab-result.smart-health-card"), (tmp / "junk.txt").string()};
    std::vector<std::string> d_args{"decode", "--json"},
        v_args{"verify", "--json", "--policy", "any-immunization", "--jwks", demo_trust()};
    d_args.insert(d_args.end(), inputs.begin(), inputs.end());
    v_args.insert(v_args.end(), inputs.begin(), inputs.end());
    auto d = run_shcx(d_args);
    auto v = run_shcx(v_args);
    CHECK(d.code == 2);
    CHECK(v.code == 2);
    auto dv = validate(d.out, "decode");
    CAPTURE(dv.err);
    CHECK(dv.code == 0);
    auto vv = validate(v.out, "verify");
    CAPTURE(vv.err);
    CHECK(vv.code == 0);
    // And the schemas are not vacuous: a wrong shape fails.
    auto broken = json::parse(d.out);
    broken["results"][0]["card"]["nbf"] = 1700000000;
    CHECK(validate(broken.dump(), "decode").code == 1);
    CHECK(validate(d.out, "verify").code == 1);

    auto dj = json::parse(d.out), vj = json::parse(v.out);
    REQUIRE(dj["results"].size() == 3);
    REQUIRE(vj["results"].size() == 4);  // and the unreadable input, as a result
    for (size_t i = 0; i < 3; ++i) {
        for (auto& item : dj["results"][i].items()) {  // no structured binding: clang 14's CAPTURE cannot take one
            const std::string& key = item.key();
            auto& value = item.value();
            CAPTURE(key);
            if (key == "issuer") CHECK(vj["results"][i]["issuer"]["iss"] == value["iss"]);
            else if (key != "warnings") CHECK(vj["results"][i][key] == value);  // verify adds its own warnings
        }
    }
    CHECK(vj["results"][1]["chunks"] == 2);
    CHECK(vj["results"][3]["status"] == "malformed");
    CHECK(vj["results"][3]["card"] == nullptr);
    CHECK(vj["errors"] == dj["errors"]);
    CHECK(dj["errors"][0]["code"] == "INPUT_UNRECOGNIZED");
}

TEST_CASE("--ndjson: one result per line, in input order, the shape of --json's results") {
    std::vector<std::string> args{"verify", "--ndjson", "--jobs", "2", "--jwks", demo_trust()};
    std::vector<std::string> inputs{card("lab-result.txt"), card("two-people.smart-health-card"),
                                    card("covid-three-doses.png"), card("large-history.smart-health-card")};
    args.insert(args.end(), inputs.begin(), inputs.end());
    auto r = run_shcx(args);
    CHECK(r.code == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() == inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) CHECK(json::parse(lines[i])["input"] == inputs[i]);
    auto vv = validate(r.out, "verify", "result");
    CAPTURE(vv.err);
    CHECK(vv.code == 0);
    // The same results --json gives, byte for byte once re-serialised.
    std::vector<std::string> json_args = args;
    json_args[1] = "--json";
    auto whole = json::parse(run_shcx(json_args).out);
    for (size_t i = 0; i < inputs.size(); ++i) CHECK(json::parse(lines[i]) == whole["results"][i]);

    auto d = run_shcx({"decode", "--ndjson", card("lab-result.txt"), card("two-people.png")});
    CHECK(d.code == 0);
    REQUIRE(lines_of(d.out).size() == 2);
    auto dv = validate(d.out, "decode", "decodeResult");
    CAPTURE(dv.err);
    CHECK(dv.code == 0);
}

TEST_CASE("a directory input: its card files, recursively, sorted, others skipped, loops safe") {
    TempDir tmp;
    fs::create_directories(tmp / "cards" / "b-sub");
    fs::copy_file(card("lab-result.txt"), tmp / "cards" / "z-lab.TXT");
    fs::copy_file(card("two-people.png"), tmp / "cards" / "b-sub" / "family.png");
    fs::copy_file(card("covid-three-doses.smart-health-card"), tmp / "cards" / "a.smart-health-card");
    write_file(tmp / "cards" / "notes.md", "not a card");
    write_file(tmp / "cards" / "b-sub" / ".keep", "");
    fs::create_directory_symlink("..", tmp / "cards" / "b-sub" / "loop");
    auto r = run_shcx({"decode", "--ndjson", (tmp / "cards").string()});
    CAPTURE(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    std::vector<std::string> inputs;
    for (const auto& l : lines_of(r.out)) inputs.push_back(json::parse(l)["input"]);
    CHECK(inputs == std::vector<std::string>{(tmp / "cards" / "a.smart-health-card").string(),
                                             (tmp / "cards" / "b-sub" / "family.png").string(),
                                             (tmp / "cards" / "z-lab.TXT").string()});
    fs::create_directory(tmp / "empty");
    write_file(tmp / "empty" / "readme.md", "x");
    expect_usage({"decode", (tmp / "empty").string()},
                 "shcx: error: " + (tmp / "empty").string() + ": INPUT_EMPTY: a directory with no card files in it");
}

TEST_CASE("the first word picks the command: another command's name later on is not a command") {
    // main.cpp sets up only the command named first; these are the messages it gave when
    // every command was set up.
    auto r = run_shcx({"decode", "verify"});
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "shcx: error: verify: INPUT_UNREADABLE: cannot be opened\n");
    expect_usage({"share", "verify"}, "shcx: error: USAGE: unknown command 'verify'");
    expect_usage({"trust", "share"}, "shcx: error: USAGE: unknown command 'share'");
    expect_usage({"keygen", "issue"}, "shcx: error: USAGE: unexpected argument 'issue' for shcx keygen");
    auto help = run_shcx({"--help"});
    CHECK(help.code == 0);
    for (const char* cmd : {"verify", "decode", "trust", "share", "keygen", "issue"})
        CHECK_MESSAGE(contains(help.out, std::string("\n  ") + cmd + " "), cmd);
}

TEST_CASE("--help names what each value is") {
    auto h = run_shcx({"verify", "--help"});
    CHECK(h.code == 0);
    CHECK_FALSE(contains(h.out, "TEXT"));
    for (const char* s : {"--at TIME", "--store DIR", "--jobs N", "--trust FILE", "--fhir-out FILE",
                          "--clock-skew SECONDS", "--policy NAME|FILE", "INPUT FILE|DIR|LINK"})
        CHECK_MESSAGE(contains(h.out, s), s);
    CHECK(contains(run_shcx({"issue", "--help"}).out, "--iss URL"));
    CHECK(contains(run_shcx({"share", "create", "--help"}).out, "--ttl DURATION"));
    for (const char* cmd : {"decode", "keygen", "trust", "share"}) {
        CAPTURE(cmd);
        CHECK_FALSE(contains(run_shcx({cmd, "--help"}).out, "TEXT"));
    }
}

TEST_CASE("colour and columns only on a terminal, and no colour with NO_COLOR") {
    std::vector<std::string> args{"verify",    card("covid-three-doses.png"), card("lab-result.txt"),
                                  "--at",      "2026-01-01T00:00:00Z",        "--jwks",
                                  demo_trust()};
    auto tty = run_on_terminal(args, {"NO_COLOR="});
    CHECK(tty.code == 1);
    CHECK(contains(tty.out, "\033[31mNOT VALID (not_yet_valid)\033[0m  " + card("covid-three-doses.png") + "\n"));
    // The summary table: a header, then one aligned row per card.
    auto lines = lines_of(tty.out);
    auto header =
        std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("STATUS", 0) == 0; });
    REQUIRE(header != lines.end());
    CHECK(*header ==
          pad("STATUS", 9) + pad("REASON", 13) + pad("INPUT", card("covid-three-doses.png").size()) + "ISSUER");
    CHECK(*(header + 1) ==
          "\033[31mNOT VALID\033[0m  not_yet_valid  " + card("covid-three-doses.png") + "  " + kDemoIss);
    auto no_colour = run_on_terminal(args, {"NO_COLOR=1"});
    CHECK(no_colour.code == 1);
    CHECK_FALSE(contains(no_colour.out, "\033["));
    CHECK(contains(no_colour.out, "NOT VALID (not_yet_valid)  " + card("covid-three-doses.png") + "\n"));
    auto piped = run_shcx(args);
    CHECK_FALSE(contains(piped.out, "\033["));
    CHECK_FALSE(contains(piped.out, "STATUS"));
    CHECK(contains(piped.out, "\n2 cards: 0 valid, 2 not valid\n"));

    auto valid = run_on_terminal({"verify", card("covid-three-doses.png"), "--jwks", demo_trust()}, {"NO_COLOR="});
    CHECK(valid.code == 0);
    CHECK(valid.out.rfind("\033[32mVALID\033[0m  ", 0) == 0);
}

TEST_CASE("trust list: a header and aligned columns on a terminal, tab-separated when piped") {
    TempDir tmp;
    auto store = (tmp / "store").string();
    auto jwks = (testdata_dir() / "issuer/jwks.json").string();
    REQUIRE(run_shcx({"trust", "add", "--store", store, "--iss", kDemoIss, "--jwks", jwks, "--name", "Demo"}).code ==
            0);
    REQUIRE(run_shcx({"trust", "add", "--store", store, "--iss", "https://b.example", "--jwks", jwks}).code == 0);
    auto piped = run_shcx({"trust", "list", "--store", store});
    CHECK(piped.code == 0);
    CHECK(piped.out == kDemoIss + "\tDemo\t1 key\tlocal\nhttps://b.example\t-\t1 key\tlocal\n");
    auto tty = run_on_terminal({"trust", "list", "--store", store});
    CHECK(tty.code == 0);
    size_t w = kDemoIss.size();
    CHECK(tty.out == pad("ISSUER", w) + "NAME  KEYS  SOURCE\n" + pad(kDemoIss, w) + "Demo  1     local\n" +
                         pad("https://b.example", w) + "-     1     local\n");
}
