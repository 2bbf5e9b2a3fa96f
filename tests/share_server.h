// Runs `shcx share serve` as a real process on 127.0.0.1 for tests: waits until it
// listens, stops it with SIGTERM (or SIGKILL) when asked or when destroyed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "support.h"

namespace shcx::test {

int free_port();

class ShareServer {
public:
    // db: the SQLite file (shared between instances to test several processes).
    // tls: serve https with a fresh self-signed P-256 certificate for 127.0.0.1.
    ShareServer(const fs::path& db, std::vector<std::string> extra_args = {}, bool tls = false);
    ~ShareServer();
    std::string url() const { return m_url; }
    int stop(int signal = 15);  // exit status (128+N when killed by signal N); 137 if it did not stop within 60 s
    std::string log() const;    // what the server wrote on stderr

private:
    pid_t m_pid = -1;
    std::string m_url;
    fs::path m_log;
    TempDir m_dir;
};

}  // namespace shcx::test
