// The owner's side of an emergency share (docs/emergency.md, "The owner's alert" and
// "Following accesses"): `share create --notify-url` and the server's signed alert on
// break glass, retried with backoff and given up on an unreachable receiver; and
// `share events ID [--follow]` printing, then streaming, the access log.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "share_server.h"
#include "shcx/digest.h"
#include "shcx/share/crypto.h"
#include "support.h"
#include "webhook_receiver.h"

extern char** environ;

using namespace shcx;
using namespace shcx::test;
using nlohmann::json;

namespace {

const std::string kSummary = "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[]}\n";
const std::string kFull = "{\"resourceType\":\"Bundle\",\"type\":\"document\",\"entry\":[\"allergy-x\"]}\n";
const std::string kAttest = "Jo Bloggs; paramedic; unconscious";

struct Owner {
    TempDir dir;
    fs::path db = dir / "shares.db";
    ShareServer server;
    std::string url, id, secret;

    explicit Owner(std::vector<std::string> serve_args = {}) : server(db, with_limits(std::move(serve_args))) {
        write_file(dir / "summary.json", kSummary);
        write_file(dir / "full.json", kFull);
    }
    static std::vector<std::string> with_limits(std::vector<std::string> a) {
        a.insert(a.end(), {"--reveal-limit", "1000"});
        return a;
    }
    RunResult create(const std::string& notify_url, bool as_json = true) {
        std::vector<std::string> args = {"share",        "create",
                                         "--db",         db.string(),
                                         "--public-url", server.url(),
                                         "--emergency",  (dir / "summary.json").string(),
                                         "--full",       (dir / "full.json").string()};
        if (!notify_url.empty()) args.insert(args.end(), {"--notify-url", notify_url});
        if (as_json) args.emplace_back("--json");
        auto r = run_shcx(args);
        if (r.code == 0 && as_json) {
            auto j = json::parse(r.out);
            url = j["url"];
            id = j["id"];
            secret = j.value("notify_secret", "");
        }
        return r;
    }
    json status() {
        auto r = run_shcx({"share", "status", id, "--db", db.string(), "--json"});
        REQUIRE(r.code == 0);
        return json::parse(r.out);
    }
    void break_glass() {
        auto r = run_shcx({"share", "reveal", url, "--break-glass", "--attest", kAttest});
        REQUIRE(r.code == 0);
        REQUIRE(r.out == kFull);
    }
};

// Waits (bounded) until `pred` holds, polling the owner's status.
template <class Pred>
bool eventually(Pred pred, double timeout_s = 60) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        poll(nullptr, 0, 50);
    }
    return pred();
}

// `shcx share events ... --follow` as a child: its stdout read line by line with deadlines.
class Follower {
public:
    explicit Follower(const std::vector<std::string>& args, const fs::path& err) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        std::vector<std::string> all{SHCX_BIN_PATH};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        int rc = posix_spawn(&m_pid, argv[0], &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        m_fd = fds[0];
        REQUIRE(rc == 0);
    }
    ~Follower() {
        if (m_pid > 0) {
            kill(m_pid, SIGKILL);
            wait_child(m_pid, std::chrono::seconds(30));
        }
        close(m_fd);
    }
    // The next line, or "" at the deadline or EOF.
    std::string line(double timeout_s = 60) {
        auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
        for (;;) {
            auto nl = m_buf.find('\n');
            if (nl != std::string::npos) {
                std::string out = m_buf.substr(0, nl);
                m_buf.erase(0, nl + 1);
                return out;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left.count() <= 0) return "";
            pollfd p{m_fd, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char b[4096];
            ssize_t n = read(m_fd, b, sizeof b);
            if (n <= 0) return "";
            m_buf.append(b, static_cast<size_t>(n));
        }
    }
    int wait(double timeout_s = 60) {
        int code = wait_child(m_pid, std::chrono::milliseconds(static_cast<int>(timeout_s * 1000)));
        m_pid = -1;
        return code;
    }
    pid_t pid() const { return m_pid; }

private:
    pid_t m_pid = -1;
    int m_fd = -1;
    std::string m_buf;
};

}  // namespace

TEST_CASE("share create --notify-url: the server POSTs a signed alert on break glass, without health data") {
    WebhookReceiver hook;
    Owner o;
    auto made = o.create(hook.url());
    REQUIRE(made.code == 0);
    CHECK(o.secret.size() == 43);
    CHECK(json::parse(made.out)["notify_url"] == hook.url());
    CHECK(o.status()["emergency"]["notify_url"] == hook.url());
    CHECK_FALSE(contains(o.status().dump(), o.secret));  // shown once, never again
    REQUIRE(run_shcx({"share", "reveal", o.url, "--tier", "emergency"}).code == 0);
    o.break_glass();
    REQUIRE(hook.wait_for(1, 60));
    auto hit = hook.hits()[0];
    CHECK(alert_signature_ok(hit.headers["shcx-signature"], o.secret, hit.body));
    CHECK_FALSE(alert_signature_ok(hit.headers["shcx-signature"], o.secret, hit.body + " "));
    auto body = json::parse(hit.body);
    CHECK(body["event"] == "break_glass");
    CHECK(body["share_id"] == o.id);
    CHECK(body["tier"] == "full");
    CHECK(body["attestation"] == kAttest);
    CHECK(body["address"] == "127.0.0.1");
    CHECK(body["user_agent"].get<std::string>().rfind("shcx/", 0) == 0);
    CHECK_FALSE(contains(hit.body, "resourceType"));
    CHECK_FALSE(contains(hit.body, "allergy-x"));
    CHECK(eventually([&] { return o.status()["emergency"]["alerts"][0]["state"] == "delivered"; }));
    CHECK(hook.hits().size() == 1);  // the emergency-tier read alerted nobody

    // Text output prints the secret once, with the URL.
    auto text = o.create(hook.url(), false);
    REQUIRE(text.code == 0);
    CHECK(contains(text.out, "Alerts:  " + hook.url() + "   (a signed POST on every break glass)\n"));
    CHECK(contains(text.out, "Secret:  "));
}

TEST_CASE("share create/rotate --notify-url through the HTTP API: the secret comes back once, rotate keeps the URL") {
    WebhookReceiver hook;
    Owner o;
    auto alice = run_shcx({"share", "user", "add", "alice", "--db", o.db.string()});
    REQUIRE(alice.code == 0);
    std::string token = alice.out.substr(0, alice.out.find('\n'));
    auto remote = [&](std::vector<std::string> args) {
        args.insert(args.end(),
                    {"--emergency", (o.dir / "summary.json").string(), "--full", (o.dir / "full.json").string(),
                     "--json", "--server", o.server.url(), "--token", token});
        auto r = run_shcx(args);
        CAPTURE(r.err);
        REQUIRE(r.code == 0);
        return json::parse(r.out);
    };
    auto made = remote({"share", "create", "--notify-url", hook.url()});
    std::string secret = made["notify_secret"];
    CHECK(secret.size() == 43);
    CHECK(made["notify_url"] == hook.url());
    auto attest = [](const std::string& url) {
        REQUIRE(run_shcx({"share", "reveal", url, "--break-glass", "--attest", kAttest}).out == kFull);
    };
    attest(made["url"]);
    REQUIRE(hook.wait_for(1, 60));
    CHECK(alert_signature_ok(hook.hits()[0].headers["shcx-signature"], secret, hook.hits()[0].body));
    CHECK(json::parse(hook.hits()[0].body)["share_id"] == made["id"]);

    // Rotate without --notify-url: the same URL, a new secret; the old one signs nothing new.
    auto rotated = remote({"share", "rotate", made["id"].get<std::string>()});
    std::string new_secret = rotated["notify_secret"];
    CHECK(rotated["notify_url"] == hook.url());
    CHECK(new_secret.size() == 43);
    CHECK(new_secret != secret);
    attest(rotated["url"]);
    REQUIRE(hook.wait_for(2, 60));
    auto hit = hook.hits()[1];
    CHECK(json::parse(hit.body)["share_id"] == rotated["id"]);
    CHECK(alert_signature_ok(hit.headers["shcx-signature"], new_secret, hit.body));
    CHECK_FALSE(alert_signature_ok(hit.headers["shcx-signature"], secret, hit.body));

    // The server applies the URL policy to the API's notify_url too.
    auto refused = run_shcx({"share", "create", "--emergency", (o.dir / "summary.json").string(), "--full",
                             (o.dir / "full.json").string(), "--server", o.server.url(), "--token", token,
                             "--notify-url", "http://example.org/hook"});
    CHECK(refused.code == 2);
    CHECK(refused.out.empty());
    CHECK(contains(refused.err, "SHARE_INVALID"));
}

TEST_CASE("share serve: an alert refused twice with 500 is delivered once, after 1 s then 2 s") {
    WebhookReceiver hook({500, 500});
    Owner o;
    REQUIRE(o.create(hook.url()).code == 0);
    o.break_glass();
    REQUIRE(hook.wait_for(3, 90));
    auto hits = hook.hits();
    using secs = std::chrono::duration<double>;
    CHECK(secs(hits[1].at - hits[0].at).count() >= 0.95);
    CHECK(secs(hits[2].at - hits[1].at).count() >= 1.95);
    CHECK(hits[0].body == hits[2].body);
    CHECK(eventually([&] { return o.status()["emergency"]["alerts"][0]["state"] == "delivered"; }));
    auto alert = o.status()["emergency"]["alerts"][0];
    CHECK(alert["attempts"] == 3);
    CHECK(alert["last_status"] == 200);
    CHECK(hook.hits().size() == 3);
}

TEST_CASE("share serve: an unreachable receiver gets its attempts, is given up, and the server keeps serving") {
    Owner o({"--alert-attempts", "3"});
    REQUIRE(o.create(WebhookReceiver::unreachable_url()).code == 0);
    o.break_glass();
    CHECK(eventually([&] { return o.status()["emergency"]["alerts"][0]["state"] == "failed"; }, 90));
    auto alert = o.status()["emergency"]["alerts"][0];
    CHECK(alert["attempts"] == 3);
    CHECK(alert["last_status"] == 0);
    CHECK_FALSE(alert["last_error"].get<std::string>().empty());
    auto tier = run_shcx({"share", "reveal", o.url, "--tier", "emergency"});
    CHECK(tier.code == 0);
    CHECK(tier.out == kSummary);
    CHECK(o.server.stop() == 0);  // and stops promptly, cleanly
}

TEST_CASE("share create --notify-url: only https, or http to loopback, and only with --emergency") {
    Owner o;
    auto refused = o.create("http://example.org/hook");
    CHECK(refused.code == 2);
    CHECK(refused.out == "");
    CHECK(contains(refused.err, "shcx: error: URL_REFUSED: notify URL: "));
    auto plain = run_shcx({"share", "create", (o.dir / "full.json").string(), "--db", o.db.string(), "--public-url",
                           o.server.url(), "--notify-url", "https://hooks.example.org/x"});
    CHECK(plain.code == 2);
    CHECK(plain.err == "shcx: error: USAGE: --notify-url is for emergency shares (--emergency, --full)\n");
}

TEST_CASE("share events: the access log once, then --follow streams new accesses until revoke") {
    Owner o;
    REQUIRE(o.create("").code == 0);
    REQUIRE(run_shcx({"share", "reveal", o.url, "--tier", "emergency"}).code == 0);
    auto once = run_shcx({"share", "events", o.id, "--db", o.db.string()});
    REQUIRE(once.code == 0);
    CHECK(once.err == "");
    auto line = once.out.substr(0, once.out.find('\n'));
    CHECK(once.out == line + "\n");  // one access, one line
    REQUIRE(line.size() > 20);
    CHECK(line[19] == 'Z');  // RFC 3339 UTC, to the second
    CHECK(line.back() == '"');
    CHECK(contains(line, "  emergency  link  127.0.0.1  attestation=\"\"  user_agent=\"shcx/"));
    auto doc = run_shcx({"share", "events", o.id, "--db", o.db.string(), "--json"});
    REQUIRE(doc.code == 0);
    auto j = json::parse(doc.out);
    CHECK(j["id"] == o.id);
    CHECK(j["state"] == "live");
    CHECK(j["events"].size() == 1);

    Follower f({"share", "events", o.id, "--db", o.db.string(), "--follow", "--ndjson"}, o.dir / "follow.err");
    auto first = json::parse(f.line());  // the log so far: the follower is running
    CHECK(first["via"] == "link");
    o.break_glass();  // from another process
    auto next = f.line();
    REQUIRE_FALSE(next.empty());
    auto glass = json::parse(next);
    CHECK(glass["tier"] == "full");
    CHECK(glass["via"] == "break-glass");
    CHECK(glass["attestation"] == kAttest);
    CHECK(glass["address"] == "127.0.0.1");
    CHECK(glass["user_agent"].get<std::string>().rfind("shcx/", 0) == 0);
    REQUIRE(run_shcx({"share", "revoke", o.id, "--db", o.db.string()}).code == 0);
    CHECK(f.line() == "");  // EOF: no more lines
    CHECK(f.wait() == 0);
    CHECK(read_file(o.dir / "follow.err") == "shcx: share " + o.id + " is revoked: no more events\n");
}

TEST_CASE("share events --follow ends with exit 0 on SIGTERM and SIGINT, and --json does not stream") {
    Owner o;
    REQUIRE(o.create("").code == 0);
    REQUIRE(run_shcx({"share", "reveal", o.url, "--tier", "emergency"}).code == 0);
    for (int sig : {SIGTERM, SIGINT}) {
        Follower f({"share", "events", o.id, "--db", o.db.string(), "--follow"}, o.dir / "follow.err");
        REQUIRE_FALSE(f.line().empty());
        kill(f.pid(), sig);
        CHECK(f.wait() == 0);
    }
    auto both = run_shcx({"share", "events", o.id, "--db", o.db.string(), "--follow", "--json"});
    CHECK(both.code == 2);
    CHECK(both.err == "shcx: error: USAGE: --json prints one document: stream with --ndjson\n");
    auto unknown = run_shcx({"share", "events", "AAAAAAAAAAAAAAAA", "--db", o.db.string()});
    CHECK(unknown.code == 1);
    CHECK(unknown.err == "shcx: error: SHARE_NOT_FOUND: no emergency share with id AAAAAAAAAAAAAAAA\n");
}
