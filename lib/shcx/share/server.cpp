#include "shcx/share/server.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "shcx/fsutil.h"
#include "shcx/share/api.h"
#include "shcx/timeutil.h"

namespace shcx::share {
namespace {

std::string redact(const std::string& path) {
    if (path.rfind("/s/", 0) == 0 && path.size() > 7) return path.substr(0, 7) + "...";
    return path;
}

HttpRequest adapt(const httplib::Request& req) {
    HttpRequest r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    r.content_type = req.get_header_value("Content-Type");
    r.authorization = req.get_header_value("Authorization");
    r.body = req.body;
    r.remote_addr = req.remote_addr;
    return r;
}

}  // namespace

std::optional<Error> check_public_url(const std::string& url) {
    if (url.rfind("https://", 0) == 0 && url.size() > 8) return std::nullopt;
    for (const char* local : {"http://127.0.0.1", "http://localhost", "http://[::1]"})
        if (url.rfind(local, 0) == 0) {
            char next = url.size() > std::string(local).size() ? url[std::string(local).size()] : '\0';
            if (next == '\0' || next == ':' || next == '/') return std::nullopt;
        }
    return make_error(ErrorCode::USAGE, "--public-url must be https:// (http:// only for loopback hosts): " + url);
}

std::optional<Error> serve(Service& service, const ServerConfig& cfg, const std::function<void(const std::string&)>& log) {
    if (auto e = check_public_url(cfg.public_url)) return e;

    // Block the stop signals in every thread; one thread waits for them with sigwait.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    std::unique_ptr<httplib::Server> owned;
    if (!cfg.tls_cert.empty() || !cfg.tls_key.empty()) {
        auto ssl = std::make_unique<httplib::SSLServer>(cfg.tls_cert.c_str(), cfg.tls_key.c_str());
        if (!ssl->is_valid()) return make_error(ErrorCode::USAGE, "cannot load --tls-cert / --tls-key");
        owned = std::move(ssl);
    } else {
        owned = std::make_unique<httplib::Server>();
    }
    httplib::Server& srv = *owned;
    int threads = cfg.threads;
    srv.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    srv.set_payload_max_length(kMaxContentBytes + 64 * 1024);
    srv.set_read_timeout(10, 0);
    srv.set_write_timeout(10, 0);
    SystemClock wall;
    Api api(service, wall, cfg.public_url, cfg.reveal_limit_per_minute);

    auto handler = [&api](const httplib::Request& req, httplib::Response& res) {
        HttpResponse r = api.handle(adapt(req));
        res.status = r.status;
        for (const auto& [k, v] : r.headers) res.set_header(k.c_str(), v);
        res.set_content(std::move(r.body), r.content_type.c_str());
        secure_wipe(r.body);
    };
    for (const char* any : {".*"}) {
        srv.Get(any, handler);
        srv.Post(any, handler);
        srv.Delete(any, handler);
        srv.Put(any, handler);
    }
    srv.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
        for (const auto& [k, v] : Api::security_headers()) res.set_header(k.c_str(), v);
    });
    srv.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.status == 404) res.set_content(Api::not_found_body(), "text/html; charset=utf-8");
    });
    srv.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content("{\"error\":\"internal\"}\n", "application/json");
    });
    srv.set_logger([&log, &service](const httplib::Request& req, const httplib::Response& res) {
        log(timeutil::format_utc(timeutil::now()) + " " + service.client_tag(req.remote_addr) + " " + req.method + " " +
            redact(req.path) + " " + std::to_string(res.status) + " " + std::to_string(res.body.size()));
    });

    // Debian's cpp-httplib 0.11 listens with a backlog of 5 (compiled in): a burst of
    // connections then loses SYNs and waits seconds for retransmits. Keep the listening
    // socket's fd and listen() again with a real backlog once it is bound (Linux allows
    // raising the backlog of a listening socket this way).
    int listen_fd = -1;
    srv.set_socket_options([&listen_fd](int fd) {
        int yes = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listen_fd = fd;
    });
    int port = cfg.port;
    if (port == 0) {
        port = srv.bind_to_any_port(cfg.host);
        if (port <= 0) return make_error(ErrorCode::IO_ERROR, "cannot listen on " + cfg.host);
    } else if (!srv.bind_to_port(cfg.host, port)) {
        return make_error(ErrorCode::IO_ERROR, "cannot listen on " + cfg.host + ":" + std::to_string(port));
    }
    if (listen_fd >= 0) ::listen(listen_fd, 1024);

    std::mutex stop_mutex;
    std::condition_variable stop_cv;
    bool stopping = false;
    std::thread signal_thread([&] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        {
            std::lock_guard<std::mutex> lock(stop_mutex);
            stopping = true;
        }
        stop_cv.notify_all();
        srv.stop();
    });
    std::thread sweeper([&] {
        std::unique_lock<std::mutex> lock(stop_mutex);
        while (!stopping) {
            stop_cv.wait_for(lock, std::chrono::duration<double>(cfg.sweep_interval_s));
            if (stopping) break;
            lock.unlock();
            try {
                int n = service.sweep();
                if (n) log("sweeper: " + std::to_string(n) + " expired share(s) wiped");
            } catch (const std::exception& e) {
                log(std::string("sweeper: ") + e.what());
            }
            lock.lock();
        }
    });
    std::string base = std::string(cfg.tls_cert.empty() ? "http" : "https") + "://" + cfg.host + ":" + std::to_string(port);
    log("listening on " + base + ", public URL " + cfg.public_url);
    if (!cfg.ready_file.empty()) fsutil::write_file_atomic(cfg.ready_file, base + "\n");
    bool ok = srv.listen_after_bind();
    // listen returned: a signal stopped it, or it failed; make both threads end.
    if (!ok) kill(getpid(), SIGTERM);
    signal_thread.join();
    sweeper.join();
    log("stopped");
    return std::nullopt;
}

}  // namespace shcx::share
