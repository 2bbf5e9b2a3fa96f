// Boost.Beast over Asio (docs/share-server.md says why): a few I/O threads multiplex every
// connection, so slow or idle clients cost a socket and a timer, never a thread; handlers
// (Argon2id, SQLite) run on a separate bounded pool. Boost stays inside the server's files:
// this one listens, admits, sweeps and stops; server_connection.cpp serves a connection.
#include "shcx/share/server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <thread>

#include "shcx/share/server_impl.h"
#include "shcx/url.h"

namespace shcx::share {
namespace {

IpAddress peer_address(const asio::ip::address& a) {
    IpAddress out;
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), out.bytes.begin());
    } else if (a.to_v6().is_v4_mapped()) {
        auto b = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_bytes();
        std::copy(b.begin(), b.end(), out.bytes.begin());
    } else {
        auto b = a.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), out.bytes.begin());
        out.v6 = true;
    }
    return out;
}

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "unknown error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

}  // namespace

void ServerImpl::do_accept() {
    acceptor.async_accept(asio::make_strand(ioc),
                          [this](error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void ServerImpl::on_accept(error_code ec, tcp::socket socket) {
    if (stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
        // Out of descriptors or buffers: pause rather than spin; the backlog waits.
        ++accept_errors;
        accept_retry.expires_after(std::chrono::milliseconds(100));
        accept_retry.async_wait([this](error_code e) {
            if (!e) do_accept();
        });
        return;
    }
    // Admit before accepting the next one, so admission follows the order of arrival.
    error_code e;
    auto endpoint = socket.remote_endpoint(e);
    IpAddress peer = e ? IpAddress{} : peer_address(endpoint.address());
    std::optional<Admission> admission = e ? std::nullopt : admit(peer, proxies.trusts(peer));
    do_accept();
    if (!admission) return;  // gone already, or over a cap: closed here, before any byte is read
    socket.set_option(tcp::no_delay(true), e);
    start_connection(*this, std::move(*admission), peer, std::move(socket));
}

void ServerImpl::schedule_sweep() {
    sweep_timer.expires_after(seconds(cfg.sweep_interval_s));
    sweep_timer.async_wait([this](error_code ec) {
        if (ec || stopping) return;
        pool.try_post([this] { sweep(); });  // when every handler is busy, the next round catches up
        schedule_sweep();
    });
}

void ServerImpl::sweep() {
    try {
        int n = service.sweep();
        if (n) log("sweeper: " + std::to_string(n) + " expired share(s) wiped");
    } catch (const std::exception& e) {
        log(std::string("sweeper: ") + e.what());
    }
    // Refusals are counted, not logged one by one: a flood must not become a log flood.
    uint64_t total = refused_total_cap.exchange(0), per = refused_address_cap.exchange(0), slow = timed_out.exchange(0),
             full = busy.exchange(0), failed = accept_errors.exchange(0);
    if (total || per || slow || full || failed)
        log("guard: since the last sweep " + std::to_string(total) + " connection(s) refused over --max-connections, " +
            std::to_string(per) + " over --max-connections-per-address, " + std::to_string(slow) + " timed out, " +
            std::to_string(full) + " request(s) answered 503, " + std::to_string(failed) + " accept error(s)");
}

void ServerImpl::deliver_alerts() {
    while (!stopping) {
        int attempted = 0;
        try {
            attempted = service.deliver_alerts(cfg.alerts, &stopping);
        } catch (const std::exception& e) {
            log(std::string("alerts: ") + e.what());  // a store error: try again next round
        }
        if (attempted >= cfg.alerts.batch) continue;  // more may be due at once
        std::unique_lock<std::mutex> lock(alert_mutex);
        alert_cv.wait_for(lock, std::chrono::duration<double>(cfg.alert_poll_s), [this] { return stopping.load(); });
    }
}

Server::Server(std::unique_ptr<ServerImpl> impl) : m(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::start(Service& service, const ServerConfig& cfg, LogFn log) {
    auto usage = [](const std::string& msg) { return make_error(ErrorCode::USAGE, msg); };
    if (auto e = url::check_public_url(cfg.public_url)) return *e;
    if (cfg.tls_cert.empty() != cfg.tls_key.empty()) return usage("--tls-cert and --tls-key go together");
    if (cfg.port < 0 || cfg.port > 65535) return usage("the port must be 0 to 65535");
    if (cfg.io_threads < 1 || cfg.io_threads > 64) return usage("I/O threads must be 1 to 64");
    if (cfg.handler_threads < 1 || cfg.handler_threads > 256) return usage("--threads must be 1 to 256");
    if (cfg.handler_queue < 1) return usage("the handler queue must hold at least 1 request");
    if (cfg.max_connections < 1) return usage("--max-connections must be at least 1");
    if (cfg.max_connections_per_address < 1) return usage("--max-connections-per-address must be at least 1");
    if (!(cfg.idle_timeout_s > 0 && cfg.request_timeout_s > 0 && cfg.write_timeout_s > 0 && cfg.sweep_interval_s > 0))
        return usage("timeouts and the sweep interval must be more than 0 seconds");
    const AlertPolicy& a = cfg.alerts;
    if (!(cfg.alert_poll_s > 0 && a.first_retry_s > 0 && a.max_retry_s >= a.first_retry_s && a.timeout_s > 0 &&
          a.lease_s > static_cast<double>(a.timeout_s) && a.max_attempts >= 1 && a.batch >= 1))
        return usage("bad alert delivery settings");
    auto proxies = TrustedProxies::parse(cfg.trusted_proxies);
    if (!proxies) return proxies.error();

    auto impl = std::make_unique<ServerImpl>(service, cfg, std::move(log), std::move(proxies.value()));
    if (!cfg.tls_cert.empty()) {
        impl->tls.emplace(asio::ssl::context::tls_server);
        SSL_CTX* ctx = impl->tls->native_handle();
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        // Decrypted requests are wiped from OpenSSL's record buffer once handed over;
        // idle connections give their buffers back; no client-started renegotiation.
        SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT | SSL_OP_NO_RENEGOTIATION);
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        ERR_clear_error();
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg.tls_cert.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, cfg.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            return usage("cannot load --tls-cert / --tls-key: " + openssl_error());
    }

    std::string where = cfg.host + ":" + std::to_string(cfg.port);
    error_code ec;
    tcp::resolver resolver(impl->ioc);
    auto endpoints = resolver.resolve(cfg.host, std::to_string(cfg.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) return make_error(ErrorCode::IO_ERROR, "cannot listen on " + where + ": " + ec.message());
    bool listening = false;
    for (const auto& entry : endpoints) {
        auto& a = impl->acceptor;
        error_code e;
        a.open(entry.endpoint().protocol(), e);
        if (!e) a.set_option(tcp::acceptor::reuse_address(true), e);
        if (!e) a.bind(entry.endpoint(), e);
        if (!e) a.listen(asio::socket_base::max_listen_connections, e);
        if (!e) {
            listening = true;
            break;
        }
        ec = e;
        error_code ignored;
        a.close(ignored);
    }
    if (!listening) return make_error(ErrorCode::IO_ERROR, "cannot listen on " + where + ": " + ec.message());
    int port = impl->acceptor.local_endpoint().port();
    std::string host = cfg.host.find(':') != std::string::npos ? "[" + cfg.host + "]" : cfg.host;
    impl->url = std::string(impl->tls ? "https" : "http") + "://" + host + ":" + std::to_string(port);
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return m->acceptor.local_endpoint().port(); }

std::string Server::url() const { return m->url; }

void Server::stop() { m->request_stop(); }

void Server::run() {
    ServerImpl& s = *m;
    if (s.ran.exchange(true)) return;
    s.log("listening on " + s.url + ", public URL " + s.cfg.public_url);
    s.pool.start(s.cfg.handler_threads, static_cast<size_t>(s.cfg.handler_queue));
    s.do_accept();
    s.schedule_sweep();
    std::thread alerts([&s] { s.deliver_alerts(); });
    auto run_io = [&s] {
        // A handler that throws ends run(); keep serving unless we are stopping.
        for (;;) {
            try {
                s.ioc.run();
                return;
            } catch (const std::exception& e) {
                s.log(std::string("server: ") + e.what());
            }
        }
    };
    std::vector<std::thread> io;
    for (int i = 1; i < s.cfg.io_threads; ++i) io.emplace_back(run_io);
    run_io();
    for (auto& t : io) t.join();
    s.request_stop();  // ioc.run() may also end without stop(): the alert thread ends with it
    alerts.join();
    s.pool.stop_and_join();
    s.log("stopped");
}

}  // namespace shcx::share
