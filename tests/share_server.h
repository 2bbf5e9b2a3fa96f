// Runs `shcx share serve` as a real process on 127.0.0.1 for tests: waits (with a
// deadline) until it is ready, stops it with SIGTERM (or SIGKILL) when asked or when
// destroyed, and never waits on it without a deadline.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "support.h"

namespace shcx::test {

int free_port();

// What stop() returns when the process did not end within its deadline (it is then
// killed with SIGKILL, so no test hangs on it).
inline constexpr int kStopTimedOut = -2;

class ShareServer {
public:
    // db: the SQLite file (shared between instances to test several processes).
    // tls: serve https with a fresh self-signed P-256 certificate for 127.0.0.1.
    // Unless extra_args say otherwise, the per-address connection cap is raised to 512:
    // the protocol tests fire hundreds of parallel requests from 127.0.0.1.
    ShareServer(const fs::path& db, std::vector<std::string> extra_args = {}, bool tls = false);
    ~ShareServer();
    std::string url() const { return m_url; }
    int port() const;
    pid_t pid() const { return m_pid; }
    // Exit status (128+N when killed by signal N); kStopTimedOut when it had not ended
    // within timeout_s of the signal (it is then killed with SIGKILL).
    int stop(int signal = 15, double timeout_s = 60);
    std::string log() const;  // what the server wrote on stderr
    fs::path dir() const { return m_dir.path(); }

private:
    pid_t m_pid = -1;
    std::string m_url;
    fs::path m_log;
    TempDir m_dir;
};

}  // namespace shcx::test
