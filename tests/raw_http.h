// Raw TCP connections for server tests: exact request bytes (floods, drips, forged
// headers), chosen loopback source addresses (all of 127.0.0.0/8 is this machine, so one
// test can be many clients), and reads that always end by a deadline.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace shcx::test {

struct RawResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string head;                            // status line and headers as received
    std::string body;
};

class RawConnection {
public:
    // Connects to 127.0.0.1:port from `source` (any 127.x.y.z). Throws when it cannot.
    explicit RawConnection(int port, const std::string& source = "127.0.0.1");
    ~RawConnection();
    RawConnection(RawConnection&& o) noexcept;
    RawConnection& operator=(RawConnection&& o) noexcept;
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    int fd() const { return m_fd; }
    // False once the peer has closed or reset the connection.
    bool send(std::string_view bytes);
    // One response (Content-Length framed; none read for HEAD), or nullopt if the
    // connection closed or the deadline passed first.
    std::optional<RawResponse> read_response(double timeout_s, bool head = false);
    // True when the peer closes (EOF or reset) within the deadline; data that arrives
    // first is appended to `received` when given.
    bool closed_within(double timeout_s, std::string* received = nullptr);
    void close();

private:
    int m_fd = -1;
    std::string m_pending;  // bytes read past the last response
};

// One request on a fresh connection ("Connection: close" is the caller's to add).
std::optional<RawResponse> raw_request(int port, const std::string& bytes, double timeout_s = 30,
                                       const std::string& source = "127.0.0.1", bool head = false);

// The port of a URL like http://127.0.0.1:1234.
int port_of(const std::string& url);

// Resident memory of a process in KiB (VmRSS in /proc/PID/status); -1 when unknown.
long rss_kib(int pid);
// Open descriptors of a process (entries of /proc/PID/fd).
int open_fds(int pid);
// Lifts this process's open-file soft limit to its hard limit (floods need > 1024).
void raise_fd_limit();

}  // namespace shcx::test
