// Share server under attack traffic: latency of normal clients (the PIN page, and a
// reveal at the server's Argon2id cost) first alone, then while IDLE sockets sit open and
// DRIP clients send one header byte a second and never finish, all from other loopback
// addresses (127.0.10.x, 127.0.20.x; the server's per-address cap is 32). Both phases in
// one run, so the ratio compares like with like.
// Usage: shcx_share_flood URL TOKEN [N] [IDLE] [DRIP]   (URL: http://127.0.0.1:PORT)
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "shcx/share/crypto.h"

using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

int connect_from(const std::string& source, int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in from{}, to{};
    from.sin_family = to.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Holds the attack connections open, reopening whatever the server's deadlines close.
class Attack {
public:
    Attack(int port, int idle, int drip) : m_port(port) {
        for (int i = 0; i < idle + drip; ++i) {
            bool is_drip = i >= idle;
            int k = is_drip ? i - idle : i;
            std::string from =
                "127.0." + std::to_string(is_drip ? 20 : 10) + "." + std::to_string(1 + k / (is_drip ? 16 : 25));
            m_conns.push_back({-1, is_drip, from});
            open(m_conns.back());
        }
        m_thread = std::thread([this] { run(); });
    }
    ~Attack() {
        m_stop = true;
        m_thread.join();
        for (auto& c : m_conns)
            if (c.fd >= 0) ::close(c.fd);
    }
    int reopened() const { return m_reopened; }

private:
    struct Conn {
        int fd;
        bool drip;
        std::string source;
    };
    void open(Conn& c) {
        if (c.fd >= 0) ::close(c.fd);
        c.fd = connect_from(c.source, m_port);
        const char* start = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        if (c.fd >= 0 && c.drip) (void)!::send(c.fd, start, std::strlen(start), MSG_NOSIGNAL);
    }
    void run() {
        auto next_drip = Clock::now();
        std::vector<pollfd> fds(m_conns.size());
        while (!m_stop) {
            for (size_t i = 0; i < m_conns.size(); ++i) fds[i] = {m_conns[i].fd, POLLIN, 0};
            ::poll(fds.data(), fds.size(), 100);
            for (size_t i = 0; i < m_conns.size(); ++i)
                if (m_conns[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                    open(m_conns[i]);
                    ++m_reopened;
                }
            if (Clock::now() >= next_drip) {
                for (auto& c : m_conns)
                    if (c.drip && c.fd >= 0) (void)!::send(c.fd, "a", 1, MSG_NOSIGNAL);
                next_drip += std::chrono::seconds(1);
            }
        }
    }
    int m_port;
    std::vector<Conn> m_conns;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_reopened{0};
    std::thread m_thread;
};

struct Stats {
    double p50 = 0, p99 = 0;
    int failed = 0;
};

Stats stats(std::vector<double> ms, int failed) {
    Stats s;
    s.failed = failed;
    if (ms.empty()) return s;
    std::sort(ms.begin(), ms.end());
    s.p50 = ms[ms.size() / 2];
    s.p99 = ms[std::min(ms.size() - 1, static_cast<size_t>(0.99 * static_cast<double>(ms.size())))];
    return s;
}

struct Share {
    std::string path, pin;
};

// A server that cannot answer shows up as failures, not as a benchmark that hangs.
void bounded(httplib::Client& c) {
    c.set_connection_timeout(10);
    c.set_read_timeout(10);
    c.set_write_timeout(10);
}

// `n` PIN-page loads, each a new visitor on a new connection.
Stats pages(const std::string& host, int port, const std::string& path, int n) {
    std::vector<double> ms;
    int failed = 0;
    for (int i = 0; i < n; ++i) {
        httplib::Client c(host, port);
        bounded(c);
        auto t = Clock::now();
        auto r = c.Get(path.c_str());
        if (r && r->status == 200) ms.push_back(ms_since(t));
        else ++failed;
    }
    return stats(ms, failed);
}

// One reveal per share, one after another, each on a new connection.
Stats reveals(const std::string& host, int port, const std::vector<Share>& shares) {
    std::vector<double> ms;
    int failed = 0;
    for (const auto& s : shares) {
        httplib::Client c(host, port);
        bounded(c);
        auto t = Clock::now();
        auto r = c.Post(s.path.c_str(), "{\"challenge\":\"" + s.pin + "\"}", "application/json");
        if (r && r->status == 200) ms.push_back(ms_since(t));
        else ++failed;
    }
    return stats(ms, failed);
}

void row(const char* what, const Stats& base, const Stats& load) {
    std::printf("%-26s %8.1f %8.1f   %8.1f %8.1f   %6.2f %6.2f   %d\n", what, base.p50, base.p99, load.p50, load.p99,
                base.p50 > 0 ? load.p50 / base.p50 : 0, base.p99 > 0 ? load.p99 / base.p99 : 0,
                base.failed + load.failed);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s URL TOKEN [N] [IDLE] [DRIP]\n", argv[0]);
        return 2;
    }
    std::string url = argv[1], token = argv[2];
    int n = argc > 3 ? std::atoi(argv[3]) : 200;
    int idle = argc > 4 ? std::atoi(argv[4]) : 1000;
    int drip = argc > 5 ? std::atoi(argv[5]) : 64;
    auto colon = url.rfind(':');
    std::string host = url.substr(url.find("//") + 2, colon - url.find("//") - 2);
    int port = std::atoi(url.c_str() + colon + 1);
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    // Shares to reveal in each phase, and one whose PIN page is loaded.
    httplib::Client api(url);
    api.set_read_timeout(60);
    httplib::Headers auth{{"Authorization", "Bearer " + token}};
    std::vector<Share> made;
    for (int i = 0; i < 2 * n + 1; ++i) {
        auto r = api.Post("/api/v1/shares?reveals=1&ttl=3600", auth, std::string(1200, 'x'), "application/jose");
        if (!r || r->status != 201) {
            std::fprintf(stderr, "create failed: %d\n", r ? r->status : 0);
            return 1;
        }
        auto j = nlohmann::json::parse(r->body);
        std::string u = j["url"];
        made.push_back({u.substr(u.find("/s/")), j["challenge"]});
    }
    std::string page = made.back().path;
    std::vector<Share> first(made.begin(), made.begin() + n), second(made.begin() + n, made.begin() + 2 * n);

    auto page_base = pages(host, port, page, n);
    auto reveal_base = reveals(host, port, first);
    Stats page_load, reveal_load;
    int reopened = 0;
    {
        Attack attack(port, idle, drip);
        std::this_thread::sleep_for(std::chrono::seconds(1));  // let the server take them all
        page_load = pages(host, port, page, n);
        reveal_load = reveals(host, port, second);
        reopened = attack.reopened();
    }
    std::printf(
        "normal clients alone, then beside %d idle sockets + %d slow-drip clients (%d reopened after the\n"
        "server's deadlines closed them); %d requests each, a new connection per request; ms:\n",
        idle, drip, reopened, n);
    std::printf("%-26s %8s %8s   %8s %8s   %6s %6s   %s\n", "", "p50", "p99", "p50", "p99", "p50 x", "p99 x", "failed");
    std::printf("%-26s %8s %8s   %8s %8s\n", "", "alone", "", "attacked", "");
    row("GET PIN page", page_base, page_load);
    row("POST reveal (Argon2id)", reveal_base, reveal_load);
    // The KDF alone, at the server's default cost: the floor under every reveal (and a
    // gauge of how busy this machine was during the run).
    std::vector<double> kdf;
    for (int i = 0; i < 25; ++i) {
        auto t = Clock::now();
        (void)shcx::share::argon2id("ABCD1234", "0123456789abcdef", shcx::share::KdfParams{});
        if (i >= 5) kdf.push_back(ms_since(t));
    }
    std::sort(kdf.begin(), kdf.end());
    std::printf("Argon2id alone (t=2, m=19 MiB), median: %.1f ms\n", kdf[kdf.size() / 2]);
    return page_base.failed + page_load.failed + reveal_base.failed + reveal_load.failed ? 1 : 0;
}
