#include "raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace shcx::test {
namespace {

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::max<long long>(0, left));
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

RawConnection::RawConnection(int port, const std::string& source) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    int yes = 1;
    setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
        int e = errno;
        ::close(m_fd);
        throw std::runtime_error("bind " + source + ": " + std::strerror(e));
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::connect(m_fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        int e = errno;
        ::close(m_fd);
        throw std::runtime_error("connect from " + source + ": " + std::strerror(e));
    }
}

RawConnection::~RawConnection() { close(); }

RawConnection::RawConnection(RawConnection&& o) noexcept : m_fd(o.m_fd), m_pending(std::move(o.m_pending)) {
    o.m_fd = -1;
}

RawConnection& RawConnection::operator=(RawConnection&& o) noexcept {
    if (this != &o) {
        close();
        m_fd = o.m_fd;
        m_pending = std::move(o.m_pending);
        o.m_fd = -1;
    }
    return *this;
}

void RawConnection::close() {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
}

bool RawConnection::send(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

std::optional<RawResponse> RawConnection::read_response(double timeout_s, bool head) {
    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
    std::string& in = m_pending;
    auto fill = [&]() -> bool {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, ms_left(deadline)) <= 0) return false;
        char buf[65536];
        ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        in.append(buf, static_cast<size_t>(n));
        return true;
    };
    size_t end;
    while ((end = in.find("\r\n\r\n")) == std::string::npos)
        if (!fill()) return std::nullopt;
    RawResponse r;
    r.head = in.substr(0, end + 2);
    if (r.head.size() < 12 || r.head.compare(0, 5, "HTTP/") != 0) return std::nullopt;
    r.status = std::stoi(r.head.substr(9, 3));
    for (size_t pos = r.head.find("\r\n") + 2; pos < r.head.size();) {
        size_t eol = r.head.find("\r\n", pos);
        std::string line = r.head.substr(pos, eol - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[lower(line.substr(0, colon))] = value;
        }
        pos = eol + 2;
    }
    in.erase(0, end + 4);
    size_t length = 0;
    if (!head && r.status >= 200 && r.headers.count("content-length")) length = std::stoul(r.headers["content-length"]);
    while (in.size() < length)
        if (!fill()) return std::nullopt;
    r.body = in.substr(0, length);
    in.erase(0, length);
    return r;
}

bool RawConnection::closed_within(double timeout_s, std::string* received) {
    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
    if (received) received->append(m_pending);
    m_pending.clear();
    for (;;) {
        pollfd p{m_fd, POLLIN, 0};
        int ready = ::poll(&p, 1, ms_left(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        char buf[65536];
        ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        if (n <= 0) return true;
        if (received) received->append(buf, static_cast<size_t>(n));
    }
}

std::optional<RawResponse> raw_request(int port, const std::string& bytes, double timeout_s, const std::string& source,
                                       bool head) {
    RawConnection c(port, source);
    if (!c.send(bytes)) return std::nullopt;
    return c.read_response(timeout_s, head);
}

int port_of(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

long rss_kib(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

int open_fds(int pid) {
    std::error_code ec;
    int n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

void raise_fd_limit() {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace shcx::test
