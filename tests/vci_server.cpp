#include "vci_server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "support.h"

namespace shcx::test {

struct VciServer::Impl {
    httplib::Server server;
    std::thread thread;
    std::atomic<bool> finished{false};
    int port = 0;
    std::string snapshot, signature, certificate, other_certificate;
    void shut_down();
    std::mutex jwks_mutex;
    std::string jwks;
    int jwks_status = 404;
};

void VciServer::serve_jwks(std::string body, int status) {
    std::lock_guard<std::mutex> lock(m_impl->jwks_mutex);
    m_impl->jwks = std::move(body);
    m_impl->jwks_status = status;
}

VciServer::VciServer(bool with_vci_vectors) : m_impl(std::make_unique<Impl>()) {
    if (with_vci_vectors) {
        auto dir = vectors_dir() / "vci";
        m_impl->snapshot = read_file(dir / "vci_snapshot.json");
        m_impl->signature = read_file(dir / "vci_snapshot.sig");
        m_impl->certificate = read_file(dir / "vci_snapshot.crt");
        // Any other certificate will do for "wrong certificate": the spec example issuer's.
        std::string jwks = read_file(spec_examples() / "issuer/.well-known/jwks.json");
        auto start = jwks.find("\"MII");
        auto end = jwks.find('"', start + 1);
        m_impl->other_certificate =
            "-----BEGIN CERTIFICATE-----\n" + jwks.substr(start + 1, end - start - 1) + "\n-----END CERTIFICATE-----\n";
    }

    auto& srv = m_impl->server;
    const std::string etag = "\"snapshot-v1\"", etag2 = "\"snapshot-v2\"";
    srv.Get("/vci_snapshot.json", [this, etag, etag2](const httplib::Request& req, httplib::Response& res) {
        if (m_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_delay_ms.load()));
        Mode mode = m_mode;
        if (mode == Mode::Error500) {
            res.status = 500;
            res.set_content("internal error", "text/plain");
            return;
        }
        const std::string& tag = mode == Mode::NewVersion ? etag2 : etag;
        if (req.get_header_value("If-None-Match") == tag) {
            ++m_not_modified;
            res.status = 304;
            return;
        }
        res.set_header("ETag", tag);
        std::string body = m_impl->snapshot;
        if (mode == Mode::TamperedSnapshot) body[body.size() / 2] ^= 0x01;
        if (mode == Mode::SnapshotAtSizeLimit || mode == Mode::SnapshotPastSizeLimit)
            body.resize((64u << 20) + (mode == Mode::SnapshotPastSizeLimit ? 1 : 0), ' ');
        ++m_bodies;
        if (mode == Mode::Truncated) {
            // Announce the full length, send half, then drop the connection.
            size_t full = body.size();
            res.set_content_provider(full, "application/json",
                                     [body, full](size_t offset, size_t, httplib::DataSink& sink) {
                                         if (offset == 0) sink.write(body.data(), full / 2);
                                         return offset == 0;
                                     });
            return;
        }
        res.set_content(body, "application/json");
    });
    srv.Get("/vci_snapshot.sig", [this](const httplib::Request&, httplib::Response& res) {
        std::string sig = m_impl->signature;
        if (m_mode == Mode::TamperedSignature) sig[sig.size() - 5] ^= 0x01;
        res.set_content(sig, "application/octet-stream");
    });
    srv.Get("/vci_snapshot.crt", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(m_mode == Mode::WrongCertificate ? m_impl->other_certificate : m_impl->certificate,
                        "application/x-pem-file");
    });
    // The method, request headers of interest and body, echoed for the HTTP client's tests.
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
        res.set_content(req.method + " " + req.get_header_value("X-Test") + " " + req.body, "text/plain");
    };
    srv.Get("/echo", echo);
    srv.Post("/echo", echo);
    srv.Delete("/echo", echo);
    srv.Get("/.well-known/jwks.json", [this](const httplib::Request&, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(m_impl->jwks_mutex);
        res.status = m_impl->jwks_status;
        res.set_content(m_impl->jwks, "application/json");
    });
    m_impl->port = srv.bind_to_any_port("127.0.0.1");
    if (m_impl->port <= 0) throw std::runtime_error("test HTTP server cannot bind 127.0.0.1");
    m_impl->thread = std::thread([this] {
        m_impl->server.listen_after_bind();
        m_impl->finished = true;
    });
    // The socket already listens (connections queue); wait until the accept loop runs so
    // that stop() has something to stop.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!m_impl->server.is_running() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!m_impl->server.is_running()) {
        m_impl->shut_down();
        throw std::runtime_error("test HTTP server did not start within 60 s");
    }
}

void VciServer::Impl::shut_down() {
    // httplib's stop() does nothing until the accept loop has started: repeat it until the
    // server thread returns, for at most a minute.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!finished) {
        server.stop();
        if (std::chrono::steady_clock::now() > deadline) {
            std::fputs("test HTTP server did not stop within 60 s\n", stderr);
            std::abort();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    thread.join();
}

VciServer::~VciServer() { m_impl->shut_down(); }

std::string VciServer::url() const { return "http://127.0.0.1:" + std::to_string(m_impl->port); }

}  // namespace shcx::test
