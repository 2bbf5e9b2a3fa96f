// share::Server in this process: start/run/stop at any moment from any thread, settings
// refused up front, and the bounded handler pool answering 503 instead of queueing
// without end.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <future>
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

// run() on a thread; true when it returned within the deadline after stop().
bool stops_within(share::Server& server, std::thread& runner, std::future<void>& done, double seconds) {
    server.stop();
    bool ok = done.wait_for(std::chrono::duration<double>(seconds)) == std::future_status::ready;
    runner.join();  // if it did not stop the test hangs here and ctest's timeout reports it
    return ok;
}

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
        std::promise<void> finished;
        auto done = finished.get_future();
        std::thread runner([&] {
            s.run();
            finished.set_value();
        });
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
        CHECK(stops_within(s, runner, done, 1.0));
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
    std::promise<void> finished;
    auto done = finished.get_future();
    std::thread runner([&] {
        s.run();
        finished.set_value();
    });

    // Hold the database's write lock: a reveal's first write then waits (busy timeout),
    // so the one handler thread stays busy until we let go.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((w.dir / "lib.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
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
    // One runs, one waits in the queue: at least two are refused, and quickly.
    int busy = 0;
    std::vector<size_t> waiting;
    for (size_t i = 0; i < conns.size(); ++i) {
        auto r = conns[i].read_response(3);
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
    REQUIRE(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    for (size_t i : waiting) {
        auto r = conns[i].read_response(30);
        REQUIRE(r);
        CHECK(r->status == 403);  // handled once the database was free
    }
    CHECK(stops_within(s, runner, done, 5.0));
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
    std::promise<void> finished;
    auto done = finished.get_future();
    std::thread runner([&] {
        s.run();
        finished.set_value();
    });
    REQUIRE(w.service->break_glass(made.value().sid, "A; B; C", {"192.0.2.1", "ua"}).outcome ==
            share::TierOutcome::Read);
    REQUIRE(slow.wait_for(1, 60));  // the POST is in flight
    CHECK(stops_within(s, runner, done, 3.0));
    auto alert = w.service->emergency_status(made.value().id, -1).value().emergency.alerts.at(0);
    CHECK(alert.state == "pending");  // the next server sends it again
    CHECK(alert.attempts == 1);
    CHECK(alert.last_error == "cancelled");
}
