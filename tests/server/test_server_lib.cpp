// share::Server in this process: start/run/stop at any moment from any thread, settings
// refused up front, and the bounded handler pool answering 503 instead of queueing
// without end.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "raw_http.h"
#include "shcx/share/server.h"
#include "shcx/share/store.h"
#include "support.h"
#include "webhook_receiver.h"

using namespace shcx;
using namespace shcx::test;

namespace {

struct World {
    TempDir dir;
    std::unique_ptr<share::Store> store;
    share::SystemClock clock;
    std::unique_ptr<share::Service> service;
    std::mutex log_mutex;
    std::vector<std::string> lines;

    World() {
        auto s = share::open_sqlite_store((dir / "lib.db").string());
        REQUIRE(s);
        store = std::move(s.value());
        share::ServiceConfig cfg;
        cfg.pepper = std::string(32, 'p');
        cfg.kdf = {1, 8, 1};
        service = std::make_unique<share::Service>(*store, clock, cfg);
    }
    share::LogFn log() {
        return [this](std::string_view line) {
            std::lock_guard<std::mutex> lock(log_mutex);
            lines.emplace_back(line);
        };
    }
    share::ServerConfig config() const {
        share::ServerConfig c;
        c.port = 0;
        c.public_url = "http://127.0.0.1";
        return c;
    }
};

// run() on a thread of its own. The destructor stops and joins it, so that a failed
// REQUIRE, which throws, is reported as that failure rather than as std::terminate on a
// joinable thread (which ctest shows only as "Subprocess aborted").
class Running {
public:
    explicit Running(share::Server& server) : m_server(server), m_done(m_finished.get_future()) {
        m_runner = std::thread([this] {
            m_server.run();
            m_finished.set_value();
        });
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    ~Running() {
        m_server.stop();
        if (m_runner.joinable()) m_runner.join();
    }
    // stop(); true when run() returned within the deadline. If it never returns the test
    // hangs in the join and ctest's timeout reports it.
    bool stops_within(double seconds) {
        m_server.stop();
        bool ok = m_done.wait_for(std::chrono::duration<double>(seconds)) == std::future_status::ready;
        m_runner.join();
        return ok;
    }

private:
    share::Server& m_server;
    std::promise<void> m_finished;
    std::future<void> m_done;
    std::thread m_runner;
};

}  // namespace

TEST_CASE("stop() before run(): run returns at once, stop is idempotent") {
    World w;
    auto server = share::Server::start(*w.service, w.config(), w.log());
    REQUIRE(server);
    CHECK(server.value()->port() > 0);
    CHECK(server.value()->url() == "http://127.0.0.1:" + std::to_string(server.value()->port()));
    server.value()->stop();
    server.value()->stop();
    auto t0 = std::chrono::steady_clock::now();
    server.value()->run();
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
    server.value()->stop();
}

TEST_CASE("stop() from another thread at random moments ends run() within a second") {
    World w;
    std::mt19937 rng(12345);
    for (int round = 0; round < 30; ++round) {
        auto server = share::Server::start(*w.service, w.config(), w.log());
        REQUIRE(server);
        share::Server& s = *server.value();
        Running running(s);
        // Sometimes mid-request: a client is being served when stop() comes.
        std::thread client;
        if (round % 3 == 0)
            client = std::thread([port = s.port()] {
                try {
                    raw_request(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 5);
                } catch (const std::exception&) {
                }
            });
        std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 20000)(rng)));
        CAPTURE(round);
        CHECK(running.stops_within(1.0));
        if (client.joinable()) client.join();
    }
}

TEST_CASE("settings are checked before listening: USAGE for bad ones, IO_ERROR for a port in use") {
    World w;
    auto bad = [&](auto change) {
        auto c = w.config();
        change(c);
        auto s = share::Server::start(*w.service, c, w.log());
        REQUIRE_FALSE(s);
        return s.error();
    };
    CHECK(bad([](auto& c) { c.public_url = "http://share.example"; }).code == ErrorCode::URL_REFUSED);
    CHECK(bad([](auto& c) { c.trusted_proxies = {"10.0.0.1/8"}; }).code == ErrorCode::USAGE);
    CHECK(bad([](auto& c) { c.max_connections = 0; }).code == ErrorCode::USAGE);
    CHECK(bad([](auto& c) { c.request_timeout_s = 0; }).code == ErrorCode::USAGE);
    CHECK(bad([](auto& c) { c.tls_cert = "cert.pem"; }).code == ErrorCode::USAGE);
    auto tls = bad([&](auto& c) {
        c.tls_cert = (w.dir / "missing.pem").string();
        c.tls_key = c.tls_cert;
    });
    CHECK(tls.code == ErrorCode::USAGE);
    CHECK(tls.message.rfind("cannot load --tls-cert / --tls-key: ", 0) == 0);

    auto first = share::Server::start(*w.service, w.config(), w.log());
    REQUIRE(first);
    auto taken = bad([&](auto& c) { c.port = first.value()->port(); });
    CHECK(taken.code == ErrorCode::IO_ERROR);
    CHECK(taken.message.rfind("cannot listen on 127.0.0.1:" + std::to_string(first.value()->port()) + ": ", 0) == 0);
}

TEST_CASE("a full handler queue answers 503 with Retry-After at once, queued requests finish later") {
    World w;
    auto created = w.service->create(w.service->local_user(), "jwe", 5, 3600);
    REQUIRE(created);
    std::string sid = created.value().sid;
    auto c = w.config();
    c.handler_threads = 1;
    c.handler_queue = 1;
    auto server = share::Server::start(*w.service, c, w.log());
    REQUIRE(server);
    share::Server& s = *server.value();
    Running running(s);

    // Hold the database's write lock: a reveal's first write then waits (busy timeout),
    // so the one handler thread stays busy until we let go.
    // Closed (and so rolled back) before `running` stops, should a REQUIRE fail.
    sqlite3* raw_db = nullptr;
    REQUIRE(sqlite3_open((w.dir / "lib.db").c_str(), &raw_db) == SQLITE_OK);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw_db, sqlite3_close);
    // The server's alert sender takes the write lock briefly as it starts (a claim of due
    // alerts): wait for it rather than fail with SQLITE_BUSY.
    sqlite3_busy_timeout(db.get(), 10000);
    REQUIRE(sqlite3_exec(db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    std::string body = "{\"challenge\":\"WRONG111\"}";
    std::string request =
        "POST /s/" + sid +
        " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    std::vector<RawConnection> conns;
    for (int i = 0; i < 4; ++i) {
        conns.emplace_back(s.port());
        REQUIRE(conns.back().send(request));
    }
    // One runs, one waits in the queue: at least two are refused, and quickly. All four
    // share one 3 s deadline, so the held request's wait stays well inside the server's
    // 10 s busy timeout even on a loaded machine.
    int busy = 0;
    std::vector<size_t> waiting;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    for (size_t i = 0; i < conns.size(); ++i) {
        std::chrono::duration<double> left = deadline - std::chrono::steady_clock::now();
        auto r = conns[i].read_response(std::max(0.2, left.count()));
        if (!r) {
            waiting.push_back(i);
            continue;
        }
        CHECK(r->status == 503);
        CHECK(r->headers["retry-after"] == "1");
        CHECK(r->headers["cache-control"] == "no-store");
        CHECK(r->body == "{\"error\":\"busy\"}\n");
        ++busy;
    }
    CHECK(busy >= 2);
    CHECK(busy <= 3);
    REQUIRE(sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
    db.reset();
    for (size_t i : waiting) {
        auto r = conns[i].read_response(30);
        REQUIRE(r);
        CHECK(r->status == 403);  // handled once the database was free
    }
    CHECK(running.stops_within(5.0));
}

TEST_CASE(
    "emergency share alert sender: a break glass is POSTed by the running server, and stop() cuts a slow POST short") {
    World w;
    WebhookReceiver slow({}, 60);  // records the request, answers after a minute
    auto made = w.service->create_emergency(w.service->local_user(), "e.jwe", "f.jwe", 86400, "", slow.url());
    REQUIRE(made);
    auto c = w.config();
    c.alert_poll_s = 0.05;
    auto server = share::Server::start(*w.service, c, w.log());
    REQUIRE(server);
    share::Server& s = *server.value();
    Running running(s);
    REQUIRE(w.service->break_glass(made.value().sid, "A; B; C", {"192.0.2.1", "ua"}).outcome ==
            share::TierOutcome::Read);
    REQUIRE(slow.wait_for(1, 60));  // the POST is in flight
    CHECK(running.stops_within(3.0));
    auto alert = w.service->emergency_status(made.value().id, -1).value().emergency.alerts.at(0);
    CHECK(alert.state == "pending");  // the next server sends it again
    CHECK(alert.attempts == 1);
    CHECK(alert.last_error == "cancelled");
}
