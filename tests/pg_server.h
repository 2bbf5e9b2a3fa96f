// A private PostgreSQL server for the tests: Debian's postgresql binaries, a data
// directory in a temp dir (tmpfs when there is one), listening only on a unix socket
// there (listen_addresses=''). initdb runs once per machine into a template cluster that
// each test process copies; as root everything runs as the `postgres` user. One server
// per test process, started on first use; a watchdog process stops it (pg_ctl stop -m
// immediate) and removes its directory when the test process exits, however it exits.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "support.h"

namespace shcx::test {

class PgServer {
public:
    // The server of this test process; throws (failing the test) if PostgreSQL cannot
    // be found or started: scripts/install-deps.sh installs it.
    static PgServer& shared();

    // A new empty database; its libpq connection URI.
    std::string create_database();
    // postgresql://postgres@/NAME?host=SOCKET_DIR
    std::string uri(const std::string& dbname) const;
    std::string socket_dir() const { return m_dir; }
    std::string data_dir() const { return m_dir + "/data"; }

    // Runs one SQL statement; the first column of the first row as text (nullopt: no
    // row or NULL). Throws with PostgreSQL's message on failure.
    static std::optional<std::string> query(const std::string& uri, const std::string& sql);
    // Runs a PostgreSQL program (initdb, pg_ctl, vacuumdb ...) as the server's user.
    RunResult run_tool(const std::string& tool, const std::vector<std::string>& args) const;

    ~PgServer();

private:
    PgServer();
    std::string m_bin;  // /usr/lib/postgresql/N/bin
    std::string m_dir;  // socket directory; data/ inside it
    int m_watchdog_fd = -1;
    pid_t m_watchdog = -1;
    int m_next_db = 0;
};

}  // namespace shcx::test
