#include "share_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace shcx::test {

int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

ShareServer::ShareServer(const fs::path& db, std::vector<std::string> extra, bool tls) {
    if (tls) {
        auto key = (m_dir / "key.pem").string(), cert = (m_dir / "cert.pem").string();
        auto r = run_program({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                              "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"});
        if (r.code != 0) throw std::runtime_error("openssl req failed: " + r.err);
        extra.insert(extra.end(), {"--tls-cert", cert, "--tls-key", key});
    }
    bool cap_given = std::find(extra.begin(), extra.end(), "--max-connections-per-address") != extra.end();
    if (!cap_given) extra.insert(extra.end(), {"--max-connections-per-address", "512"});
    fs::path ready = m_dir / "ready";
    m_log = m_dir / "server.log";
    // The public URL names the port, so the port is chosen here, not by the server; another
    // test may take a free port between free_port() and the server's bind, so a start that
    // fails with "Address already in use" tries another port.
    for (int tries = 1;; ++tries) {
        int port = free_port();
        std::string base = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port);
        std::vector<std::string> argv{SHCX_BIN_PATH,
                                      "share",
                                      "serve",
                                      "--db",
                                      db.string(),
                                      "--listen",
                                      "127.0.0.1:" + std::to_string(port),
                                      "--public-url",
                                      base,
                                      "--ready-file",
                                      ready.string(),
                                      "--kdf-memory",
                                      "1024",
                                      "--kdf-passes",
                                      "1"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, m_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int rc = posix_spawn(&m_pid, args[0], &fa, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) throw std::runtime_error("cannot start shcx share serve");
        // The server writes the ready file once it listens. Give a loaded machine a minute,
        // and stop looking as soon as the server has exited.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        int status = 0;
        bool exited = false;
        while (!fs::exists(ready) && std::chrono::steady_clock::now() < deadline) {
            if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
                m_pid = -1;
                exited = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (exited) {
            if (tries < 5 && log().find("Address already in use") != std::string::npos) continue;
            throw std::runtime_error("shcx share serve exited before it was ready: " + log());
        }
        if (!fs::exists(ready)) {
            stop(9);
            throw std::runtime_error("shcx share serve was not ready within 60 s: " + log());
        }
        m_url = base;
        return;
    }
}

int ShareServer::port() const { return std::stoi(m_url.substr(m_url.rfind(':') + 1)); }

ShareServer::~ShareServer() {
    if (m_pid > 0) stop(9);
}

int ShareServer::stop(int signal, double timeout_s) {
    if (m_pid <= 0) return -1;
    kill(m_pid, signal);
    bool timed_out = false;
    int status = wait_child(m_pid, std::chrono::milliseconds(static_cast<long>(timeout_s * 1000)), &timed_out);
    m_pid = -1;
    return timed_out ? kStopTimedOut : status;
}

std::string ShareServer::log() const { return fs::exists(m_log) ? read_file(m_log) : ""; }

}  // namespace shcx::test
