#include "shl_server.h"

#include <httplib.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "shcx/base64url.h"
#include "shcx/shl/jwe.h"
#include "shcx/shl/link.h"

namespace shcx::test {

namespace {
std::string random_bytes(size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    return out;
}
}  // namespace

struct ShlServer::Impl {
    httplib::Server server;
    std::thread thread;
    std::atomic<bool> finished{false};
    int port = 0;
    std::string key, manifest_path;
    struct Entry {
        std::string content_type, jwe;
        bool embed;
    };
    mutable std::mutex mutex;  // guards everything below
    std::vector<Entry> files;
    std::optional<std::string> manifest_override;
    std::optional<std::string> passcode;
    int attempts_left = 0;
    std::string last_body, last_recipient;
    void shut_down();
};

ShlServer::ShlServer() : m_impl(std::make_unique<Impl>()) {
    m_impl->key = random_bytes(32);
    m_impl->manifest_path = "/m/" + base64url::encode(random_bytes(32));
    auto& srv = m_impl->server;
    auto* impl = m_impl.get();
    auto slow = [this] {
        if (m_mode == Mode::Slow) std::this_thread::sleep_for(std::chrono::seconds(3));
    };

    srv.Post(impl->manifest_path, [this, impl, slow](const httplib::Request& req, httplib::Response& res) {
        slow();
        ++m_manifest_requests;
        std::lock_guard<std::mutex> lock(impl->mutex);
        impl->last_body = req.body;
        Mode mode = m_mode;
        if (mode == Mode::Gone) return void(res.status = 404);
        if (mode == Mode::ManifestError500) return void(res.status = 500);
        if (mode == Mode::RedirectManifest) {
            res.status = 307;
            res.set_header("Location", impl->manifest_path);
            return;
        }
        if (impl->passcode) {
            if (impl->attempts_left <= 0) return void(res.status = 404);
            auto body = nlohmann::json::parse(req.body, nullptr, false);
            bool right = body.is_object() && body.contains("passcode") && body["passcode"] == *impl->passcode;
            if (!right) {
                --impl->attempts_left;
                res.status = 401;
                res.set_content(nlohmann::json{{"remainingAttempts", impl->attempts_left}}.dump(), "application/json");
                return;
            }
        }
        if (mode == Mode::ManifestTooLarge) {
            res.set_content(std::string((1u << 20) + 1, ' '), "application/json");
            return;
        }
        if (impl->manifest_override) {
            res.set_content(*impl->manifest_override, "application/json");
            return;
        }
        nlohmann::json files = nlohmann::json::array();
        for (size_t i = 0; i < impl->files.size(); ++i) {
            const auto& f = impl->files[i];
            nlohmann::json entry = {{"contentType", f.content_type}};
            if (f.embed) entry["embedded"] = f.jwe;
            else entry["location"] = "http://127.0.0.1:" + std::to_string(impl->port) + "/f/" + std::to_string(i);
            files.push_back(std::move(entry));
        }
        res.set_content(nlohmann::json{{"files", files}}.dump(), "application/json");
    });

    // With the U flag the manifest URL is the file itself, fetched with GET ?recipient=.
    srv.Get(impl->manifest_path, [this, impl, slow](const httplib::Request& req, httplib::Response& res) {
        slow();
        ++m_file_requests;
        std::lock_guard<std::mutex> lock(impl->mutex);
        impl->last_recipient = req.has_param("recipient") ? req.get_param_value("recipient") : "(none)";
        if (m_mode == Mode::Gone || impl->files.empty()) return void(res.status = 404);
        res.set_content(impl->files.front().jwe, "application/jose");
    });

    auto serve_file = [this, impl, slow](const httplib::Request& req, httplib::Response& res, bool redirected) {
        slow();
        ++m_file_requests;
        Mode mode = m_mode;
        if (mode == Mode::Gone) return void(res.status = 404);
        if (!redirected && (mode == Mode::RedirectFilesSameOrigin || mode == Mode::RedirectFilesOtherOrigin)) {
            res.status = 302;
            std::string host = mode == Mode::RedirectFilesSameOrigin ? "127.0.0.1" : "localhost";
            res.set_header("Location",
                           "http://" + host + ":" + std::to_string(impl->port) + "/g/" + req.matches[1].str());
            return;
        }
        if (mode == Mode::FileTooLarge) {
            res.set_content(std::string((16u << 20) + 1, 'A'), "application/jose");
            return;
        }
        std::lock_guard<std::mutex> lock(impl->mutex);
        size_t i = std::stoul(req.matches[1].str());
        if (i >= impl->files.size()) return void(res.status = 404);
        res.set_content(impl->files[i].jwe, "application/jose");
    };
    srv.Get(R"(/f/(\d+))",
            [serve_file](const httplib::Request& req, httplib::Response& res) { serve_file(req, res, false); });
    srv.Get(R"(/g/(\d+))",
            [serve_file](const httplib::Request& req, httplib::Response& res) { serve_file(req, res, true); });

    impl->port = srv.bind_to_any_port("127.0.0.1");
    if (impl->port <= 0) throw std::runtime_error("test SHL server cannot bind 127.0.0.1");
    impl->thread = std::thread([impl] {
        impl->server.listen_after_bind();
        impl->finished = true;
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!srv.is_running() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!srv.is_running()) {
        impl->shut_down();
        throw std::runtime_error("test SHL server did not start within 60 s");
    }
}

void ShlServer::Impl::shut_down() {
    // stop() does nothing until the accept loop runs: repeat it, for at most a minute.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!finished) {
        server.stop();
        if (std::chrono::steady_clock::now() > deadline) {
            std::fputs("test SHL server did not stop within 60 s\n", stderr);
            std::abort();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    thread.join();
}

ShlServer::~ShlServer() { m_impl->shut_down(); }

std::string ShlServer::base_url() const { return "http://127.0.0.1:" + std::to_string(m_impl->port); }
std::string ShlServer::manifest_url() const { return base_url() + m_impl->manifest_path; }
const std::string& ShlServer::key() const { return m_impl->key; }

std::string ShlServer::link(const std::string& flag, std::optional<int64_t> exp, const std::string& label) const {
    return shl::encode_link({manifest_url(), m_impl->key, exp, flag, label});
}

void ShlServer::add_file(const std::string& content_type, const std::string& plaintext, bool embed, bool deflate) {
    add_raw_file(content_type, shl::encrypt(plaintext, m_impl->key, content_type, deflate), embed);
}

void ShlServer::add_raw_file(const std::string& content_type, const std::string& jwe, bool embed) {
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->files.push_back({content_type, jwe, embed});
}

void ShlServer::set_manifest(const std::string& manifest) {
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->manifest_override = manifest;
}

void ShlServer::set_passcode(const std::string& passcode, int attempts) {
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    m_impl->passcode = passcode;
    m_impl->attempts_left = attempts;
}

std::string ShlServer::last_manifest_body() const {
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    return m_impl->last_body;
}

std::string ShlServer::last_recipient_query() const {
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    return m_impl->last_recipient;
}

}  // namespace shcx::test
