// `shcx share serve` as a process, over raw sockets: HEAD, the access log, trusted
// proxies, connection caps, deadlines, header and body limits, Expect/chunked framing,
// TLS, and stopping on a signal at any moment.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "raw_http.h"
#include "share_server.h"
#include "shcx/share/service.h"
#include "shcx/share/store.h"
#include "support.h"

extern char** environ;

using namespace shcx;
using namespace shcx::test;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kCard = (testdata_dir() / "cards/covid-three-doses.smart-health-card").string();

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string get(const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

std::string post(const std::string& path, const std::string& body, const std::string& extra = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

struct Share {
    std::string sid, pin, id;
};

// A share made directly on the server's database (the serve process created its pepper).
Share make_share(const ShareServer& server, const fs::path& db) {
    auto r = run_shcx({"share", "create", kCard, "--db", db.string(), "--public-url", server.url(), "--json"});
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out);
    std::string url = j["url"];
    return {url.substr(url.rfind('/') + 1, url.find('#') - url.rfind('/') - 1), j["challenge"], j["id"]};
}

// Opens a connection from `source` and reports whether the server keeps it (answers a
// request on it) or closes it at once.
bool served_from(int port, const std::string& source) {
    RawConnection c(port, source);
    if (!c.send(get("/healthz"))) return false;
    auto r = c.read_response(10);
    return r && r->status == 200;
}

// A connection the server has admitted (proved by a served request); retried until
// the server has released the slots of connections closed just before.
RawConnection admitted(int port, const std::string& source) {
    for (auto t0 = Clock::now(); seconds_since(t0) < 10;) {
        RawConnection c(port, source);
        if (!c.send(get("/healthz"))) continue;
        auto r = c.read_response(10);
        if (r && r->status == 200) return c;
    }
    throw std::runtime_error("no connection from " + source + " was admitted within 10 s");
}

// The log tag the server writes for a client address (Service::client_tag under the
// server's pepper).
std::string tag_of(const fs::path& db, const std::string& address) {
    TempDir scratch;
    auto store = share::open_sqlite_store((scratch / "tag.db").string());
    REQUIRE(store);
    share::SystemClock clock;
    share::ServiceConfig cfg;
    cfg.pepper = read_file(db.string() + ".pepper");
    share::Service service(*store.value(), clock, cfg);
    return service.client_tag(address);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

}  // namespace

TEST_CASE("HEAD mirrors GET: same status, headers and Content-Length, and no body") {
    TempDir dir;
    ShareServer server(dir / "head.db");
    auto share = make_share(server, dir / "head.db");
    for (const std::string& path :
         std::vector<std::string>{"/healthz", "/static/pin.js", "/static/pin.css", "/s/" + share.sid,
                                  "/s/AAAAAAAAAAAAAAAAAAAAAA", "/api/v1/metrics", "/nothing/here"}) {
        CAPTURE(path);
        // HEAD then GET on one kept-alive connection: a body after the HEAD response
        // would be read as the start of the GET response and fail it.
        RawConnection c(server.port());
        REQUIRE(c.send("HEAD " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + get(path)));
        auto head = c.read_response(30, true);
        auto full = c.read_response(30);
        REQUIRE(head);
        REQUIRE(full);
        CHECK(head->status == full->status);
        CHECK(head->headers == full->headers);
        CHECK(head->headers["content-length"] == std::to_string(full->body.size()));
        CHECK(head->body.empty());
        CHECK(full->body.size() > 0);
    }
    // The live share's page answered HEAD with 200: HEAD on a live share is no longer 404.
    auto r = raw_request(server.port(), "HEAD /s/" + share.sid + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                         30, "127.0.0.1", true);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(contains(server.log(), "HEAD /s/" + share.sid.substr(0, 4) + "... 200 0"));
}

TEST_CASE("access log: one whole, escaped line per request, whatever the path holds and however many clients") {
    TempDir dir;
    ShareServer server(dir / "log.db");
    auto share = make_share(server, dir / "log.db");
    // A forged line, percent-encoded: a decoded %0a or space must never reach the log.
    const std::string forged = "2026-01-01T00:00:00Z%20AAAAAAAAAAAAAAAA%20GET%20/healthz%20200%203";
    std::vector<std::string> paths = {"/%0a" + forged, "/x%0d%0aSet-Cookie:%20a=b",        "/%1b[31mred", "/caf%c3%a9",
                                      "/a%20b%7f%5c",  "/s/" + share.sid + "%0a" + forged, "/back\\slash"};
    for (const auto& p : paths) {
        CAPTURE(p);
        auto r = raw_request(server.port(), get(p, "Connection: close\r\n"));
        REQUIRE(r);
        CHECK((r->status == 400 || r->status == 404));
    }
    // A control byte in the raw request line never reaches the log either.
    auto raw = raw_request(server.port(),
                           "GET /a\x01"
                           "b HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(raw);
    CHECK(raw->status == 400);
    // Many clients at once: lines must not interleave or tear.
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int t = 0; t < 40; ++t)
        clients.emplace_back([&] {
            RawConnection c(server.port());
            for (int i = 0; i < 10; ++i) {
                c.send(get("/static/pin.js"));
                auto r = c.read_response(60);
                if (r && r->status == 200) ++ok;
            }
        });
    for (auto& t : clients) t.join();
    CHECK(ok == 400);
    REQUIRE(server.stop(15) == 0);

    std::regex access(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ [A-Za-z0-9_-]{16} [!-~]+ [!-~]+ \d{3} \d+)");
    int access_lines = 0, js_lines = 0;
    auto lines = lines_of(server.log());
    for (const auto& line : lines) {
        CAPTURE(line);
        bool known = std::regex_match(line, access) || line.rfind("listening on http://127.0.0.1:", 0) == 0 ||
                     line == "stopped" ||
                     line.rfind("shcx: created the pepper file ", 0) == 0;  // a new database's pepper (serve)
        CHECK(known);
        CHECK(line.rfind("2026-01-01T00:00:00Z", 0) != 0);  // no forged line
        if (std::regex_match(line, access)) ++access_lines;
        if (contains(line, " GET /static/pin.js 200 ")) ++js_lines;
    }
    CHECK(js_lines == 400);
    CHECK(access_lines == 400 + static_cast<int>(paths.size()) + 1);
    std::string log = server.log();
    // Decoded bytes that could split a line are refused (400) and logged as sent;
    // decoded spaces and bytes outside printable ASCII are escaped.
    CHECK(contains(log, " GET /%0a" + forged + " 400 "));
    CHECK(contains(log, " GET /caf\\xc3\\xa9 404 "));
    CHECK(contains(log, " GET /a\\x20b\\x7f\\x5c 404 "));
    CHECK(contains(log, " - - 400 "));
    CHECK(contains(log, " GET /s/" + share.sid.substr(0, 4) + "... "));
    CHECK_FALSE(contains(log, share.sid));
}

TEST_CASE("trusted proxy: X-Forwarded-For names the client only when the peer is a trusted proxy") {
    TempDir dir;
    fs::path db = dir / "proxy.db";
    ShareServer server(db, {"--trusted-proxy", "127.0.0.2/32", "--trusted-proxy", "10.0.0.0/8", "--reveal-limit", "2"});
    int port = server.port();
    auto reveal = [&](const std::string& source, const std::string& xff) {
        std::string extra = "Connection: close\r\n" + (xff.empty() ? "" : "X-Forwarded-For: " + xff + "\r\n");
        auto r =
            raw_request(port, post("/s/AAAAAAAAAAAAAAAAAAAAAA", "{\"challenge\":\"ABCD1234\"}", extra), 30, source);
        REQUIRE(r);
        return r->status;
    };
    auto logged_tag = [&](const std::string& marker) {
        // Each request below uses its own path so its log line can be found.
        for (const auto& line : lines_of(server.log()))
            if (contains(line, " " + marker + " ")) return line.substr(21, 16);
        return std::string("(no line)");
    };
    auto probe = [&](const std::string& source, const std::string& xff, const std::string& marker) {
        std::string extra = "Connection: close\r\n" + (xff.empty() ? "" : "X-Forwarded-For: " + xff + "\r\n");
        REQUIRE(raw_request(port, get(marker, extra), 30, source));
    };
    probe("127.0.0.2", "198.51.100.1", "/p1");
    probe("127.0.0.2", "203.0.113.9, 198.51.100.1", "/p2");
    probe("127.0.0.2", "198.51.100.1, 10.9.9.9", "/p3");
    probe("127.0.0.2", "", "/p4");
    probe("127.0.0.3", "198.51.100.1", "/p5");
    probe("127.0.0.2", "198.51.100.1, garbage", "/p6");
    REQUIRE(server.stop(15) == 0);
    CHECK(logged_tag("/p1") == tag_of(db, "198.51.100.1"));
    CHECK(logged_tag("/p2") == tag_of(db, "198.51.100.1"));  // the right-most untrusted entry
    CHECK(logged_tag("/p3") == tag_of(db, "198.51.100.1"));  // trusted hops skipped
    CHECK(logged_tag("/p4") == tag_of(db, "127.0.0.2"));     // no header: the proxy itself
    CHECK(logged_tag("/p5") == tag_of(db, "127.0.0.3"));     // not a proxy: header ignored
    CHECK(logged_tag("/p6") == tag_of(db, "127.0.0.2"));     // garbage: the nearest trusted hop

    // The same decides whose rate-limit budget a reveal spends (2 per minute here).
    ShareServer again(db, {"--trusted-proxy", "127.0.0.2/32", "--trusted-proxy", "10.0.0.0/8", "--reveal-limit", "2"});
    port = again.port();
    // Stay inside one rate-limit minute: start early in it.
    while (std::time(nullptr) % 60 > 45) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(reveal("127.0.0.2", "198.51.100.1") == 404);
    CHECK(reveal("127.0.0.2", "198.51.100.1") == 404);
    CHECK(reveal("127.0.0.2", "198.51.100.1") == 429);
    CHECK(reveal("127.0.0.2", "198.51.100.2") == 404);               // another client behind the proxy
    CHECK(reveal("127.0.0.2", "203.0.113.9, 198.51.100.1") == 429);  // a forged left entry changes nothing
    CHECK(reveal("127.0.0.3", "198.51.100.3") == 404);
    CHECK(reveal("127.0.0.3", "198.51.100.4") == 404);
    CHECK(reveal("127.0.0.3", "198.51.100.5") == 429);  // a direct client cannot pick a fresh budget
    CHECK(reveal("127.0.0.2", "") == 404);
}

TEST_CASE("connection caps: per address and in total, excess closed at once, trusted proxies exempt") {
    TempDir dir;
    ShareServer server(dir / "caps.db", {"--max-connections-per-address", "3", "--max-connections", "8",
                                         "--idle-timeout", "60", "--trusted-proxy", "127.0.0.2"});
    int port = server.port();
    std::vector<RawConnection> held;
    for (int i = 0; i < 3; ++i) held.emplace_back(port, "127.0.0.5");
    RawConnection fourth(port, "127.0.0.5");
    std::string got;
    CHECK(fourth.closed_within(10, &got));
    CHECK(got.empty());  // closed before a byte was read or written
    CHECK(served_from(port, "127.0.0.6"));
    for (auto& c : held) {  // the first three are still served
        REQUIRE(c.send(get("/healthz")));
        auto r = c.read_response(10);
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    // One closes: the address gets its slot back (once the server has seen the close).
    held.pop_back();
    bool readmitted = false;
    for (auto t0 = Clock::now(); !readmitted && seconds_since(t0) < 10;) readmitted = served_from(port, "127.0.0.5");
    CHECK(readmitted);

    // In total: 2 held from .5, 6 more fill the 8.
    for (int i = 0; i < 3; ++i) held.push_back(admitted(port, "127.0.0.6"));
    for (int i = 0; i < 3; ++i) held.push_back(admitted(port, "127.0.0.7"));
    RawConnection ninth(port, "127.0.0.8");
    CHECK(ninth.closed_within(10));
    RawConnection proxy_over_total(port, "127.0.0.2");
    CHECK(proxy_over_total.closed_within(10));
    for (auto& c : held) {  // all 8 still served
        REQUIRE(c.send(get("/healthz")));
        auto r = c.read_response(10);
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    held.clear();

    // A trusted proxy carries many clients: the per-address cap (3) does not apply to it.
    std::vector<RawConnection> via_proxy;
    for (int i = 0; i < 6; ++i) via_proxy.push_back(admitted(port, "127.0.0.2"));
    for (auto& c : via_proxy) {
        REQUIRE(c.send(get("/healthz")));
        auto r = c.read_response(10);
        REQUIRE(r);
        CHECK(r->status == 200);
    }
}

TEST_CASE(
    "deadlines: idle and kept-alive connections close, a request that never completes closes however it trickles") {
    TempDir dir;
    ShareServer server(dir / "deadline.db", {"--idle-timeout", "1", "--request-timeout", "2"});
    int port = server.port();

    auto t0 = Clock::now();
    RawConnection idle(port);
    CHECK(idle.closed_within(15));
    CHECK(seconds_since(t0) > 0.8);
    CHECK(seconds_since(t0) < 6);

    RawConnection kept(port);
    REQUIRE(kept.send(get("/healthz")));
    REQUIRE(kept.read_response(10));
    t0 = Clock::now();
    CHECK(kept.closed_within(15));
    CHECK(seconds_since(t0) > 0.8);
    CHECK(seconds_since(t0) < 6);

    // Slow-loris: a byte every 100 ms keeps the idle clock from mattering, but the
    // request's own deadline (2 s from its first byte) ends it.
    RawConnection drip(port);
    t0 = Clock::now();
    std::string header = "GET /healthz HTTP/1.1\r\nX-Slow: ";
    bool closed = false;
    for (size_t i = 0; !closed && seconds_since(t0) < 15; ++i) {
        if (!drip.send(std::string(1, i < header.size() ? header[i] : 'a'))) break;
        closed = drip.closed_within(0.1);
    }
    double took = seconds_since(t0);
    CHECK(took > 1.8);
    CHECK(took < 6);

    // A body that stops short: the same deadline.
    RawConnection stalled(port);
    t0 = Clock::now();
    REQUIRE(
        stalled.send("POST /s/AAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
    CHECK(stalled.closed_within(15));
    CHECK(seconds_since(t0) > 1.8);
    CHECK(seconds_since(t0) < 6);

    // A slow but finite client within the deadline is served: a byte every 10 ms, so the
    // whole request takes about 0.4 s of its 2 s even when a loaded machine stretches sleeps.
    RawConnection slow_ok(port);
    std::string whole = get("/healthz");
    for (char ch : whole) {
        REQUIRE(slow_ok.send(std::string(1, ch)));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto r = slow_ok.read_response(10);
    REQUIRE(r);
    CHECK(r->status == 200);
}

TEST_CASE("header limits: 100 fields or 8 KiB, past either 431 and the connection closes, 413 before a large body") {
    TempDir dir;
    ShareServer server(dir / "limits.db");
    int port = server.port();
    auto with_fields = [](int n) {
        std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
        for (int i = 1; i < n; ++i) req += "X-" + std::to_string(i) + ": v\r\n";
        return req + "\r\n";
    };
    auto at = raw_request(port, with_fields(100));
    REQUIRE(at);
    CHECK(at->status == 200);
    RawConnection past(port);
    REQUIRE(past.send(with_fields(101)));
    auto r = past.read_response(30);
    REQUIRE(r);
    CHECK(r->status == 431);
    CHECK(r->headers["connection"] == "close");
    CHECK(r->body == "{\"error\":\"header_too_large\"}\n");
    CHECK(past.closed_within(10));

    std::string pad = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    std::string fits = pad + std::string(8192 - pad.size() - 4, 'a') + "\r\n\r\n";
    REQUIRE(fits.size() == 8192);
    auto ok = raw_request(port, fits);
    REQUIRE(ok);
    CHECK(ok->status == 200);
    std::string over = pad + std::string(8192 - pad.size() - 3, 'a') + "\r\n\r\n";
    auto big = raw_request(port, over);
    REQUIRE(big);
    CHECK(big->status == 431);
    auto long_target = raw_request(port, get("/" + std::string(9000, 'a')));
    REQUIRE(long_target);
    CHECK(long_target->status == 431);

    // Content-Length over the body cap: refused from the header alone, body never read.
    RawConnection huge(port);
    REQUIRE(huge.send("POST /api/v1/shares HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"));
    auto too_large = huge.read_response(30);
    REQUIRE(too_large);
    CHECK(too_large->status == 413);
    CHECK(huge.closed_within(10));
}

TEST_CASE("framing: Expect 100-continue, chunked bodies, absolute-form targets, ambiguous headers refused") {
    TempDir dir;
    fs::path db = dir / "framing.db";
    ShareServer server(db);
    int port = server.port();
    auto share = make_share(server, db);
    std::string body = "{\"challenge\":\"" + share.pin + "\"}";

    RawConnection expect(port);
    REQUIRE(
        expect.send("POST /s/AAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: "
                    "application/json\r\nContent-Length: 24\r\n\r\n"));
    auto cont = expect.read_response(30);
    REQUIRE(cont);
    CHECK(cont->status == 100);
    REQUIRE(expect.send("{\"challenge\":\"ABCD1234\"}"));
    auto after = expect.read_response(30);
    REQUIRE(after);
    CHECK(after->status == 404);

    // Chunked: the body arrives in pieces and the reveal works.
    std::ostringstream chunked;
    chunked << "POST /s/" << share.sid << " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            << "Transfer-Encoding: chunked\r\n\r\n";
    for (size_t i = 0; i < body.size(); i += 5) {
        std::string piece = body.substr(i, 5);
        chunked << std::hex << piece.size() << "\r\n" << piece << "\r\n";
    }
    chunked << "0\r\n\r\n";
    auto revealed = raw_request(port, chunked.str());
    REQUIRE(revealed);
    CHECK(revealed->status == 200);
    CHECK(revealed->headers["content-type"] == "application/jose");
    CHECK(std::count(revealed->body.begin(), revealed->body.end(), '.') == 4);  // a compact JWE

    auto absolute = raw_request(port, "GET http://share.example/healthz HTTP/1.1\r\nHost: share.example\r\n\r\n");
    REQUIRE(absolute);
    CHECK(absolute->status == 200);
    auto twice = raw_request(port, get("/api/v1/metrics", "Authorization: Bearer a\r\nAuthorization: Bearer b\r\n"));
    REQUIRE(twice);
    CHECK(twice->status == 400);
    auto http10 = raw_request(port, "GET /healthz HTTP/1.0\r\n\r\n");
    REQUIRE(http10);
    CHECK(http10->status == 200);
    CHECK(http10->head.rfind("HTTP/1.0 200", 0) == 0);
    auto junk = raw_request(port, "\x16\x03\x01\x02\x00 not http\r\n\r\n");
    REQUIRE(junk);
    CHECK(junk->status == 400);
}

TEST_CASE("SIGTERM at random moments right after start ends the process within a second") {
    TempDir dir;
    fs::path db = dir / "sig.db";
    REQUIRE(run_shcx({"share", "user", "add", "x", "--db", db.string()}).code == 0);  // the pepper exists
    std::mt19937 rng(2024);
    int clean_after_ready = 0;
    for (int round = 0; round < 20; ++round) {
        fs::path ready = dir / ("ready" + std::to_string(round));
        std::vector<std::string> argv{SHCX_BIN_PATH,      "share",        "serve",       "--db",
                                      db.string(),        "--listen",     "127.0.0.1:0", "--public-url",
                                      "http://127.0.0.1", "--ready-file", ready.string()};
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid = -1;
        REQUIRE(posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) == 0);
        posix_spawn_file_actions_destroy(&fa);
        // Every moment from exec to serving: before the signals are blocked, while the
        // database opens, between listening and the ready file, while serving.
        int wait_us = std::uniform_int_distribution<int>(0, 150000)(rng);
        if (round % 5 == 4)
            for (auto t0 = Clock::now(); !fs::exists(ready) && seconds_since(t0) < 30;)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        else std::this_thread::sleep_for(std::chrono::microseconds(wait_us));
        bool was_ready = fs::exists(ready);
        kill(pid, round == 7 ? SIGINT : SIGTERM);
        bool late = false;
        int status = wait_child(pid, std::chrono::milliseconds(1000), &late);  // killed if late
        CAPTURE(round);
        CAPTURE(wait_us);
        CHECK_FALSE(late);
        // Before the tool blocks the signals the default action ends it (128+N); from
        // then on, and always once ready, it stops cleanly with 0.
        CHECK((status == 0 || status == 128 + SIGTERM || status == 128 + SIGINT));
        if (was_ready) CHECK(status == 0);
        if (was_ready && status == 0) ++clean_after_ready;
    }
    CHECK(clean_after_ready >= 4);
}

TEST_CASE("a stop request while clients are mid-request still ends the process within a second") {
    TempDir dir;
    ShareServer server(dir / "busy.db");
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 16; ++t)
        clients.emplace_back([&, t] {
            while (!stop) {
                try {
                    RawConnection c(server.port());
                    if (t % 2) c.send("GET /healthz HTTP/1.1\r\nX-Slow: ");  // never finished
                    else c.send(get("/static/pin.js"));
                    c.read_response(2);
                } catch (const std::exception&) {
                    return;  // the server is gone
                }
            }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto t0 = Clock::now();
    int status = server.stop(15, 1.0);
    double took = seconds_since(t0);
    stop = true;
    for (auto& t : clients) t.join();
    CHECK(status == 0);
    CHECK(took < 1.0);
}

TEST_CASE("TLS: HTTPS with the same guards, a handshake that never comes is closed at the deadline") {
    TempDir dir;
    fs::path db = dir / "tls.db";
    ShareServer server(db, {"--idle-timeout", "1", "--request-timeout", "2"}, true);
    REQUIRE(server.url().rfind("https://127.0.0.1:", 0) == 0);
    auto share = make_share(server, db);
    httplib::SSLClient tls("127.0.0.1", server.port());
    tls.enable_server_certificate_verification(false);  // self-signed, made for this test
    tls.set_read_timeout(30);
    auto page = tls.Get(("/s/" + share.sid).c_str());
    REQUIRE(page);
    CHECK(page->status == 200);
    auto head = tls.Head(("/s/" + share.sid).c_str());
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->get_header_value("Content-Length") == std::to_string(page->body.size()));
    auto revealed =
        tls.Post(("/s/" + share.sid).c_str(), "challenge=" + share.pin, "application/x-www-form-urlencoded");
    REQUIRE(revealed);
    CHECK(revealed->status == 200);
    CHECK(revealed->get_header_value("Content-Type") == "application/jose");

    auto t0 = Clock::now();
    RawConnection silent(server.port());
    CHECK(silent.closed_within(15));
    CHECK(seconds_since(t0) < 6);
    RawConnection plain(server.port());
    REQUIRE(plain.send(get("/healthz")));
    std::string got;
    CHECK(plain.closed_within(15, &got));
    CHECK(got.rfind("HTTP/", 0) != 0);  // no plain-HTTP answer
    CHECK(contains(server.log(), " POST /s/" + share.sid.substr(0, 4) + "... 200 "));
}
