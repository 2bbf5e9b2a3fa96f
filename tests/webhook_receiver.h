// A webhook receiver on 127.0.0.1 (random port) for the break-glass alert tests: it
// records every request (headers, body, arrival time) and answers the scripted statuses
// in turn, then 200. Header-only so that the SQLite and PostgreSQL test programs and the
// server tests can all use it. Every read has a deadline; the thread stops with the object.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shcx/digest.h"
#include "shcx/share/crypto.h"

namespace shcx::test {

class WebhookReceiver {
public:
    struct Hit {
        std::string request_line, body;
        std::map<std::string, std::string> headers;  // lower-case names
        std::chrono::steady_clock::time_point at;
        int answered = 0;
    };

    // reply_delay_s: how long each answer is held back after the request is recorded (a
    // slow receiver; cut short when the receiver is destroyed).
    explicit WebhookReceiver(std::vector<int> statuses = {}, double reply_delay_s = 0)
        : m_statuses(std::move(statuses)), m_delay_s(reply_delay_s) {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(m_fd, 16) != 0 ||
            ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("webhook receiver: cannot listen");
        m_port = ntohs(a.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~WebhookReceiver() {
        m_stop = true;
        m_thread.join();
        ::close(m_fd);
    }
    WebhookReceiver(const WebhookReceiver&) = delete;
    WebhookReceiver& operator=(const WebhookReceiver&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/hook"; }
    std::vector<Hit> hits() const {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_hits;
    }
    // True once n requests have arrived, false at the deadline.
    bool wait_for(size_t n, double timeout_s) const {
        std::unique_lock<std::mutex> lock(m_mutex);
        return m_cv.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return m_hits.size() >= n; });
    }

    // A URL on 127.0.0.1 where nothing listens (connection refused at once).
    static std::string unreachable_url() {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        ::close(fd);  // bound, never listened: the port is closed
        return "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/hook";
    }

private:
    void serve() {
        while (!m_stop) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int c = ::accept(m_fd, nullptr, nullptr);
            if (c < 0) continue;
            handle(c);
            ::close(c);
        }
    }
    // Reads one request (Content-Length framed) within 10 seconds and answers it.
    void handle(int c) {
        std::string in;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        size_t head_end = std::string::npos, need = 0;
        while (std::chrono::steady_clock::now() < deadline && !m_stop) {
            pollfd p{c, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            char buf[4096];
            ssize_t n = ::read(c, buf, sizeof buf);
            if (n <= 0) return;
            in.append(buf, static_cast<size_t>(n));
            if (head_end == std::string::npos && (head_end = in.find("\r\n\r\n")) != std::string::npos) {
                auto headers = parse_headers(in.substr(0, head_end));
                need = head_end + 4 + (headers.count("content-length") ? std::stoul(headers["content-length"]) : 0);
            }
            if (head_end != std::string::npos && in.size() >= need) break;
        }
        if (head_end == std::string::npos || in.size() < need) return;
        Hit hit;
        hit.request_line = in.substr(0, in.find("\r\n"));
        hit.headers = parse_headers(in.substr(0, head_end));
        hit.body = in.substr(head_end + 4, need - head_end - 4);
        hit.at = std::chrono::steady_clock::now();
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            hit.answered = m_hits.size() < m_statuses.size() ? m_statuses[m_hits.size()] : 200;
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_hits.push_back(hit);
            m_cv.notify_all();
        }
        auto hold = std::chrono::steady_clock::now() + std::chrono::duration<double>(m_delay_s);
        while (!m_stop && std::chrono::steady_clock::now() < hold) ::poll(nullptr, 0, 20);
        std::string reply = "HTTP/1.1 " + std::to_string(hit.answered) +
                            " Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        [[maybe_unused]] ssize_t w = ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);  // the sender may be gone
    }
    static std::map<std::string, std::string> parse_headers(const std::string& head) {
        std::map<std::string, std::string> out;
        size_t at = head.find("\r\n");
        while (at != std::string::npos && at + 2 < head.size()) {
            size_t end = head.find("\r\n", at + 2);
            std::string line = head.substr(at + 2, end == std::string::npos ? std::string::npos : end - at - 2);
            size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(0, colon);
                std::transform(name.begin(), name.end(), name.begin(),
                               [](unsigned char ch) { return std::tolower(ch); });
                size_t v = line.find_first_not_of(' ', colon + 1);
                out[name] = v == std::string::npos ? "" : line.substr(v);
            }
            at = end;
        }
        return out;
    }

    std::vector<int> m_statuses;
    double m_delay_s = 0;
    int m_fd = -1, m_port = 0;
    std::atomic<bool> m_stop{false};
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_cv;
    std::vector<Hit> m_hits;
    std::thread m_thread;
};

// What the owner's receiver does (docs/emergency.md, "Checking an alert"): recompute the
// HMAC-SHA256 over "t.body" with the secret and compare it with v1.
inline bool alert_signature_ok(const std::string& header, const std::string& secret, const std::string& body) {
    auto comma = header.find(",v1=");
    if (header.rfind("t=", 0) != 0 || comma == std::string::npos) return false;
    return header.substr(comma + 4) ==
           digest::hex(share::hmac_sha256(secret, header.substr(2, comma - 2) + "." + body));
}

}  // namespace shcx::test
