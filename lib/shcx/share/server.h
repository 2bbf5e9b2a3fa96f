// The share HTTP server (man/shcx-share.1 "HTTP API"; design and limits in
// docs/share-server.md): event-driven HTTP/1.1 (and TLS) in front of the
// transport-independent Api, built for strangers on the internet: a deadline for every
// request, capped headers and bodies, connection caps in total and per address, a
// bounded handler pool (503 when full), one escaped access-log line per request, and
// secrets wiped in the buffers that held them. It never touches the process: the tool
// owns signals and calls stop().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/share/service.h"

namespace shcx::share {

struct ServerImpl;  // server.cpp: Boost stays out of this header

struct ServerConfig {
    std::string host = "127.0.0.1";
    int port = 8443;                   // 0: any free port (see Server::port)
    std::string public_url;            // https://..., or http:// for loopback hosts
    std::string tls_cert, tls_key;     // PEM files; both or neither
    int reveal_limit_per_minute = 30;  // POST /s/{sid} per client address
    double sweep_interval_s = 60;
    int io_threads = 2;       // socket I/O; never blocked by a handler
    int handler_threads = 8;  // run Api::handle (Argon2id, SQLite)
    int handler_queue = 256;  // requests waiting for a handler; past it, 503
    int max_connections = 2048;
    int max_connections_per_address = 32;      // not applied to trusted proxies
    double idle_timeout_s = 5;                 // until a request's first byte (new or kept-alive connection)
    double request_timeout_s = 10;             // from its first byte until the request is complete
    double write_timeout_s = 30;               // to send one response
    std::vector<std::string> trusted_proxies;  // CIDRs whose X-Forwarded-For is believed
    // Break-glass alerts (docs/emergency.md): a background thread delivers the outbox,
    // looking for due alerts every alert_poll_s.
    AlertPolicy alerts;
    double alert_poll_s = 1;
};

// Request line and headers together: past this, 431 and the connection is closed.
inline constexpr size_t kMaxHeaderBytes = size_t{8} * 1024;
inline constexpr size_t kMaxHeaderFields = 100;
// Request bodies: past this, 413 before the body is read.
inline constexpr size_t kMaxRequestBody = kMaxContentBytes + size_t{64} * 1024;

// Receives whole lines without a newline; no line holds a control character. Called
// from several threads at once: write each line whole (one write under a lock).
using LogFn = std::function<void(std::string_view line)>;

class Server {
public:
    // Binds and listens (connections are accepted by the kernel from here on and served
    // once run() starts). USAGE for bad settings or TLS files, IO_ERROR when it cannot
    // listen. `service` and `log` must outlive the server.
    static Result<std::unique_ptr<Server>> start(Service& service, const ServerConfig& config, LogFn log);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    int port() const;
    std::string url() const;  // http[s]://HOST:PORT as bound
    // Serves until stop(); returns at once if stop() came first. Call once.
    void run();
    // From any thread (a signal-waiting thread, a handler, a test), at any moment,
    // any number of times: run() returns within about half a second (handlers already
    // running finish and their replies are sent first; queued requests are dropped).
    void stop();

private:
    explicit Server(std::unique_ptr<ServerImpl> impl);
    std::unique_ptr<ServerImpl> m;
};

}  // namespace shcx::share
