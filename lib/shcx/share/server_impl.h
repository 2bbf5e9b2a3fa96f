// The share server's state (server.h's Server is a handle on it), shared by the listener
// (server.cpp: start, accept, admission, sweep, stop) and the connections
// (server_connection.cpp: parse, dispatch, reply, wipe). Private to lib/shcx/share:
// includes Boost.Asio; include only from those two files.
#pragma once

#include <utility>  // ahead of Boost: Boost 1.74's asio/awaitable.hpp uses std::exchange without it

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "shcx/share/api.h"
#include "shcx/share/http_request.h"
#include "shcx/share/server.h"
#include "shcx/share/worker_pool.h"

namespace shcx::share {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

inline std::chrono::steady_clock::duration seconds(double s) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

struct ServerImpl {
    ServerImpl(Service& s, const ServerConfig& c, LogFn l, TrustedProxies p)
        : service(s),
          cfg(c),
          log_fn(std::move(l)),
          proxies(std::move(p)),
          api(s, clock, c.public_url, c.reveal_limit_per_minute),
          ioc(c.io_threads),
          acceptor(ioc),
          accept_retry(ioc),
          sweep_timer(ioc),
          stop_timer(ioc) {}
    static constexpr auto kStopGrace = std::chrono::milliseconds(500);
    ~ServerImpl() {
        request_stop();
        ioc.stop();  // run() has returned, or never ran
        // Queued handlers hold connections whose sockets belong to the io_context.
        pool.stop_and_join();
    }

    void log(std::string_view line) { log_fn(escape_log_line(line)); }

    // No new connections or handlers; handlers already running finish and their replies
    // are handed to the kernel (a reveal that was granted is delivered), for at most
    // kStopGrace; then the I/O threads stop and every other connection is dropped.
    void request_stop() {
        if (stopping.exchange(true)) return;
        {
            std::lock_guard<std::mutex> lock(alert_mutex);  // the alert thread is waiting or sees `stopping`
        }
        alert_cv.notify_all();
        pool.request_stop();
        asio::post(ioc, [this] {
            error_code ignored;
            acceptor.close(ignored);
            accept_retry.cancel();
            sweep_timer.cancel();
            finish_stop(std::chrono::steady_clock::now() + kStopGrace);
        });
    }
    void finish_stop(std::chrono::steady_clock::time_point deadline) {
        if ((pool.running() == 0 && replies_pending == 0) || std::chrono::steady_clock::now() >= deadline) {
            ioc.stop();
            return;
        }
        stop_timer.expires_after(std::chrono::milliseconds(5));
        stop_timer.async_wait([this, deadline](error_code) { finish_stop(deadline); });
    }

    // Connection admission: a slot in the total, and one of the peer's own.
    struct Admission {
        ServerImpl* server = nullptr;
        std::string address;
        bool counted_per_address = false;
        Admission() = default;
        Admission(ServerImpl* s, std::string a, bool per)
            : server(s), address(std::move(a)), counted_per_address(per) {}
        Admission(Admission&& o) noexcept
            : server(std::exchange(o.server, nullptr)),
              address(std::move(o.address)),
              counted_per_address(o.counted_per_address) {}
        Admission& operator=(Admission&&) = delete;
        ~Admission() {
            if (server) server->release(address, counted_per_address);
        }
    };
    std::optional<Admission> admit(const IpAddress& peer, bool trusted) {
        std::string key = connection_group(peer);
        std::lock_guard<std::mutex> lock(admit_mutex);
        if (open_connections >= cfg.max_connections) {
            ++refused_total_cap;
            return std::nullopt;
        }
        if (!trusted) {
            int& n = per_address[key];
            if (n >= cfg.max_connections_per_address) {
                ++refused_address_cap;
                return std::nullopt;
            }
            ++n;
        }
        ++open_connections;
        return Admission(this, std::move(key), !trusted);
    }
    void release(const std::string& address, bool per) {
        std::lock_guard<std::mutex> lock(admit_mutex);
        --open_connections;
        if (per) {
            auto it = per_address.find(address);
            if (it != per_address.end() && --it->second <= 0) per_address.erase(it);
        }
    }

    void do_accept();
    void on_accept(error_code ec, tcp::socket socket);
    void schedule_sweep();
    void sweep();

    Service& service;
    ServerConfig cfg;
    LogFn log_fn;
    TrustedProxies proxies;
    SystemClock clock;
    Api api;
    std::optional<asio::ssl::context> tls;
    std::string url;

    std::mutex admit_mutex;
    std::map<std::string, int> per_address;
    int open_connections = 0;
    std::atomic<uint64_t> refused_total_cap{0}, refused_address_cap{0}, timed_out{0}, busy{0}, accept_errors{0};

    // The break-glass alert sender (server.cpp): one thread, woken every alert_poll_s and
    // at stop; `stopping` also aborts a POST in flight.
    void deliver_alerts();
    std::mutex alert_mutex;
    std::condition_variable alert_cv;

    std::atomic<bool> stopping{false}, ran{false};
    std::atomic<int> replies_pending{0};  // from a handler's end until its reply is written
    WorkerPool pool;
    // Destroyed before everything above: pending handlers own the connections.
    asio::io_context ioc;
    tcp::acceptor acceptor;
    asio::steady_timer accept_retry, sweep_timer, stop_timer;
};

// Serves one admitted connection (TLS when the server has a TLS context) until it closes;
// the connection keeps its admission and returns it when it ends.
void start_connection(ServerImpl& server, ServerImpl::Admission admission, const IpAddress& peer, tcp::socket socket);

}  // namespace shcx::share
