// `shcx verify` and `shcx decode` reading SMART Health Links end to end, against the test
// SHL server on 127.0.0.1: every input form (text file, argument, viewer URL, stdin, QR
// image), passcodes, FHIR content, and the exact exit code and error line of each failure.
#include <doctest/doctest.h>
#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "shcx/issue/qr_write.h"
#include "shcx/shl/jwe.h"
#include "shl_server.h"
#include "support.h"

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

std::string demo_jwks() { return (testdata_dir() / "issuer/jwks.json").string(); }
std::string demo_card() { return read_file(testdata_dir() / "cards/covid-three-doses.smart-health-card"); }
const std::string kIps = R"({"resourceType":"Bundle","type":"document","entry":[
  {"fullUrl":"urn:uuid:c","resource":{"resourceType":"Composition","title":"Patient Summary","subject":{"reference":"urn:uuid:p"}}},
  {"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","name":[{"given":["Ada"],"family":"Lovelace"}],"birthDate":"1815-12-10"}},
  {"fullUrl":"urn:uuid:m","resource":{"resourceType":"MedicationStatement","subject":{"reference":"urn:uuid:p"},
   "medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"N02BE01","display":"paracetamol"}]}}}]})";

// A link file in `tmp` holding `text`.
std::string link_file(const TempDir& tmp, const std::string& text, const std::string& name = "link.txt") {
    write_file(tmp / name, text + "\n");
    return (tmp / name).string();
}

}  // namespace

TEST_CASE("shl: verify: a link's card is verified with the normal rules, the link is described") {
    ShlServer server;
    server.add_file("application/smart-health-card", demo_card(), true);
    TempDir tmp;
    auto file = link_file(tmp, server.link("L", std::nullopt, "Ada's vaccinations"));
    auto r = run_shcx({"verify", file, "--jwks", demo_jwks()});
    CAPTURE(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.rfind("SMART Health Link  " + file +
                          "\n"
                          "  Label:      Ada's vaccinations\n"
                          "  Server:     " +
                          server.base_url() +
                          "\n"
                          "  Flags:      L\n"
                          "  Expires:    never\n"
                          "  Files:      1 listed, 1 read\n\n"
                          "VALID  " +
                          file + "#file1\n",
                      0) == 0);
    CHECK(contains(r.out, "Person: Adaeze N. Okafor, born 1984-03-12"));
    CHECK(json::parse(server.last_manifest_body())["recipient"] == "shcx");
}

TEST_CASE("shl: verify: the link as an argument, as a viewer URL, on stdin and in a QR image") {
    ShlServer server;
    server.add_file("application/smart-health-card", demo_card(), false, true);
    std::string link = server.link();
    std::string viewer = "https://viewer.example/#" + link;

    auto arg = run_shcx({"verify", link, "--jwks", demo_jwks(), "--recipient", "Dr. Who"});
    CAPTURE(arg.err);
    CHECK(arg.code == 0);
    CHECK(contains(arg.out, "VALID  link-argument-1#file1\n"));
    CHECK_FALSE(contains(arg.out + arg.err, link));  // the link holds its key: never printed
    CHECK(json::parse(server.last_manifest_body())["recipient"] == "Dr. Who");

    auto view = run_shcx({"verify", viewer, "--jwks", demo_jwks()});
    CHECK(view.code == 0);
    CHECK(contains(view.out, "VALID  link-argument-1#file1\n"));

    auto in = run_shcx({"verify", "-", "--jwks", demo_jwks()}, viewer + "\n");
    CHECK(in.code == 0);
    CHECK(contains(in.out, "VALID  -#file1\n"));

    TempDir tmp;
    auto symbol = qr_write::encode_text(viewer);
    REQUIRE(symbol.ok());
    write_file(tmp / "link.png", qr_write::render_png({symbol.value()}));
    auto png = run_shcx({"verify", (tmp / "link.png").string(), "--jwks", demo_jwks(), "--json"});
    CAPTURE(png.err);
    CHECK(png.code == 0);
    auto doc = json::parse(png.out);
    REQUIRE(doc["results"].size() == 1);
    CHECK(doc["results"][0]["input"] == (tmp / "link.png").string() + "#file1");
    CHECK(doc["results"][0]["status"] == "valid");
    REQUIRE(doc["links"].size() == 1);
    CHECK(doc["links"][0] == json{{"input", (tmp / "link.png").string()},
                                  {"label", ""},
                                  {"server", server.base_url()},
                                  {"flag", ""},
                                  {"exp", nullptr},
                                  {"status", nullptr},
                                  {"files_listed", 1},
                                  {"files_read", 1}});
}

TEST_CASE("shl: verify: a wrong passcode reports the remaining attempts, the right one from a file opens") {
    ShlServer server;
    server.add_file("application/smart-health-card", demo_card(), true);
    server.set_passcode("4711", 3);
    TempDir tmp;
    auto file = link_file(tmp, server.link("P", 4102444800, "Ada"));

    auto wrong = run_shcx({"verify", file, "--jwks", demo_jwks(), "--passcode", "1234"});
    CHECK(wrong.code == 2);
    CHECK(wrong.err ==
          "shcx: error: " + file + ": SHL_PASSCODE_WRONG: the passcode was not accepted; 2 attempts remaining\n");
    CHECK(wrong.out == "NOT VALID (malformed)  " + file +
                           "\n  Reason:     SHL_PASSCODE_WRONG: the passcode was not accepted; 2 attempts remaining\n");

    auto json_wrong = run_shcx({"verify", "--json", file, "--jwks", demo_jwks(), "--passcode", "0000"});
    CHECK(json_wrong.code == 2);
    auto doc = json::parse(json_wrong.out);
    CHECK(doc["results"][0]["errors"][0] ==
          json{{"code", "SHL_PASSCODE_WRONG"}, {"message", "the passcode was not accepted; 1 attempt remaining"}});

    write_file(tmp / "passcode", "4711\r\n");
    auto right = run_shcx({"verify", file, "--jwks", demo_jwks(), "--passcode-file", (tmp / "passcode").string()});
    CAPTURE(right.err);
    CHECK(right.code == 0);
    CHECK(contains(right.out, "  Flags:      P\n  Expires:    2100-01-01T00:00:00Z\n"));
    CHECK(json::parse(server.last_manifest_body())["passcode"] == "4711");

    // Not a terminal and no passcode: nothing is sent, and the error says how to give one.
    int before = server.manifest_requests();
    auto none = run_shcx({"verify", file, "--jwks", demo_jwks()});
    CHECK(none.code == 2);
    CHECK(none.err ==
          "shcx: error: " + file +
              ": SHL_PASSCODE_REQUIRED: the link is protected by a passcode (flag P); none was given; give it "
              "with --passcode-file FILE (or --passcode, or on a terminal when asked)\n");
    CHECK(server.manifest_requests() == before);

    auto both = run_shcx({"verify", file, "--passcode", "1", "--passcode-file", (tmp / "passcode").string()});
    CHECK(both.code == 2);
    CHECK(contains(both.err, "--passcode excludes --passcode-file"));

    write_file(tmp / "empty", "\n");
    auto empty = run_shcx({"verify", file, "--jwks", demo_jwks(), "--passcode-file", (tmp / "empty").string()});
    CHECK(empty.code == 2);
    CHECK(empty.err == "shcx: error: " + file + ": USAGE: --passcode-file " + (tmp / "empty").string() +
                           ": the first line is empty\n");
}

TEST_CASE("shl: FHIR content: decode summarises it (exit 0), verify shows it as UNSIGNED (exit 1)") {
    ShlServer server;
    server.add_file("application/smart-health-card", demo_card(), true);
    server.add_file("application/fhir+json;fhirVersion=4.0.1", kIps, false, true);
    TempDir tmp;
    auto file = link_file(tmp, server.link("", std::nullopt, "Summary"));

    auto dec = run_shcx({"decode", file});
    CAPTURE(dec.err);
    CHECK(dec.code == 0);
    CHECK(contains(dec.out, "  Files:      2 listed, 2 read\n"));
    CHECK(contains(dec.out, "Card 1 of 1 from " + file + "#file1 (.smart-health-card file)\n"));
    CHECK(contains(dec.out,
                   "Resource 1 of 1  " + file +
                       "#file2\n"
                       "  Content:    application/fhir+json (not signed: nothing here is verified)\n"
                       "  Resource:   Bundle (document), 3 entries: 1 Composition, 1 Patient, 1 MedicationStatement\n"
                       "  Title:      Patient Summary\n"
                       "  Person: Ada Lovelace, born 1815-12-10\n"));
    CHECK(contains(dec.out, "ATC N02BE01 paracetamol"));

    auto dec_json = json::parse(run_shcx({"decode", "--json", file}).out);
    REQUIRE(dec_json["resources"].size() == 1);
    CHECK(dec_json["resources"][0]["resourceType"] == "Bundle");
    CHECK(dec_json["resources"][0]["bundleType"] == "document");
    CHECK(dec_json["resources"][0]["resourceTypes"] ==
          json{{"Composition", 1}, {"Patient", 1}, {"MedicationStatement", 1}});
    CHECK(dec_json["results"].size() == 1);

    auto ver = run_shcx({"verify", file, "--jwks", demo_jwks()});
    CHECK(ver.code == 1);
    CHECK(contains(ver.out, "VALID  " + file + "#file1\n"));
    CHECK(contains(ver.out, "UNSIGNED  " + file + "#file2\n"));
    auto ver_json = json::parse(run_shcx({"verify", "--json", file, "--jwks", demo_jwks()}).out);
    REQUIRE(ver_json["results"].size() == 2);
    CHECK(ver_json["results"][0]["status"] == "valid");
    CHECK(ver_json["results"][1]["status"] == "unsigned");
    CHECK(ver_json["results"][1]["input"] == file + "#file2");
    CHECK(ver_json["results"][1]["people"][0]["name"] == "Ada Lovelace");
}

TEST_CASE("shl: a card in a link that is not valid makes verify exit 1, as any card would") {
    ShlServer server;
    server.add_file("application/smart-health-card", demo_card(), true);
    TempDir tmp;
    auto file = link_file(tmp, server.link());
    auto r = run_shcx({"verify", file, "--trust", "/dev/null"});
    CHECK(r.code == 2);  // /dev/null is no trust file: a usage problem, not a card problem
    auto untrusted = run_shcx({"verify", file, "--jwks", "https://other.example=" + demo_jwks()});
    CHECK(untrusted.code == 1);
    CHECK(contains(untrusted.out, "NOT VALID (untrusted_issuer)  " + file + "#file1\n"));
}

TEST_CASE("shl: each failure has its code, one error line and exit 2") {
    TempDir tmp;
    auto run = [&](const std::string& text, std::vector<std::string> extra = {}) {
        auto file = link_file(tmp, text);
        std::vector<std::string> args{"verify", file, "--jwks", demo_jwks()};
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = run_shcx(args);
        CHECK(r.code == 2);
        std::string prefix = "shcx: error: " + file + ": ";
        REQUIRE(r.err.rfind(prefix, 0) == 0);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        return r.err.substr(prefix.size());
    };
    ShlServer server;
    server.add_file("application/smart-health-card", demo_card(), true);

    CHECK(run("shlink:/not*base64") == "SHL_INVALID: the payload is not base64url\n");
    CHECK(run(server.link("PU")) == "SHL_INVALID: flag: U (a single file, fetched with GET) cannot go with P\n");
    CHECK(run(server.link("", 1700000000)) == "SHL_EXPIRED: the link expired at 2023-11-14T22:13:20Z (exp)\n");

    server.set_mode(ShlServer::Mode::Gone);
    CHECK(run(server.link()) ==
          "SHL_NOT_FOUND: the link is no longer active: expired, used up or revoked (HTTP 404 from " +
              server.base_url() + ")\n");
    server.set_mode(ShlServer::Mode::ManifestTooLarge);
    CHECK(run(server.link()) == "SHL_TOO_LARGE: the manifest: larger than 1048576 bytes\n");
    server.set_mode(ShlServer::Mode::ManifestError500);
    CHECK(run(server.link()) == "SHL_FETCH_FAILED: the manifest: HTTP 500 from " + server.base_url() + "\n");

    ShlServer tampered;
    std::string jwe = shl::encrypt(demo_card(), tampered.key(), "application/smart-health-card");
    jwe[jwe.size() - 3] = jwe[jwe.size() - 3] == 'A' ? 'B' : 'A';
    tampered.add_raw_file("application/smart-health-card", jwe, true);
    CHECK(run(tampered.link()) ==
          "SHL_DECRYPT_FAILED: file 1: the file does not decrypt with the link's key (another link's file, or "
          "modified)\n");

    ShlServer big;
    big.add_file("application/smart-health-card", demo_card(), false);
    big.set_mode(ShlServer::Mode::FileTooLarge);
    CHECK(run(big.link()) == "SHL_TOO_LARGE: file 1: larger than 16777216 bytes\n");
}

TEST_CASE("shl: a link next to ordinary cards: every result is reported, worst exit code wins") {
    ShlServer server;
    server.add_file("application/smart-health-card", demo_card(), true);
    server.set_mode(ShlServer::Mode::Gone);
    TempDir tmp;
    auto file = link_file(tmp, server.link());
    auto card = (testdata_dir() / "cards/lab-result.smart-health-card").string();
    auto r = run_shcx({"verify", card, file, "--jwks", demo_jwks()});
    CHECK(r.code == 2);
    CHECK(contains(r.out, "VALID  " + card + "\n"));
    CHECK(contains(r.out, "NOT VALID (malformed)  " + file + "\n"));
    CHECK(contains(r.out, "2 cards: 1 valid, 1 not valid\n"));
}

TEST_CASE("shl: on a terminal, a P link asks for the passcode without echoing it") {
    ShlServer server;
    server.add_file("application/smart-health-card", demo_card(), true);
    server.set_passcode("4711-secret", 3);
    TempDir tmp;
    auto file = link_file(tmp, server.link("P", std::nullopt, "Ada"));
    std::vector<std::string> args{SHCX_BIN_PATH, "verify", file, "--jwks", demo_jwks()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int master = -1;
    pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setenv("NO_COLOR", "1", 1);  // plain VALID on this terminal
        execv(argv[0], argv.data());
        _exit(127);
    }
    // Reads what the terminal shows until `until` appears or the child closes it (60 s at most).
    std::string screen;
    auto read_until = [&](const std::string& until) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline && (until.empty() || !contains(screen, until))) {
            pollfd p{master, POLLIN, 0};
            if (poll(&p, 1, 200) <= 0) continue;
            char buf[4096];
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0) return;  // EIO: the child has gone
            screen.append(buf, static_cast<size_t>(n));
        }
    };
    read_until("Passcode for Ada: ");
    REQUIRE(contains(screen, "Passcode for Ada: "));
    const char answer[] = "4711-secret\n";
    REQUIRE(write(master, answer, sizeof answer - 1) == static_cast<ssize_t>(sizeof answer - 1));
    read_until("");
    int code = wait_child(pid, std::chrono::seconds(60));
    close(master);
    CAPTURE(screen);
    CHECK(code == 0);
    CHECK(contains(screen, "VALID  " + file + "#file1"));
    CHECK_FALSE(contains(screen, "4711"));  // not echoed
    CHECK(json::parse(server.last_manifest_body())["passcode"] == "4711-secret");
}
