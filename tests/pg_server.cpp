#include "pg_server.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace shcx::test {
namespace {

using Clock = std::chrono::steady_clock;

bool is_root() { return geteuid() == 0; }

// Where clusters live: tmpfs when the machine has a roomy one (copying a cluster there
// is ten times faster than on a busy disk; a container's 64 MiB /dev/shm is too small
// for a few clusters at once), else the temp dir.
fs::path scratch_dir() {
    std::error_code ec;
    auto space = fs::space("/dev/shm", ec);
    if (!ec && space.available >= (1ull << 30) && access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
    return fs::temp_directory_path();
}

// The newest Debian PostgreSQL installed: /usr/lib/postgresql/<major>/bin.
std::string find_bin() {
    std::string best;
    int best_major = -1;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        int major = std::atoi(e.path().filename().c_str());
        if (major > best_major && fs::exists(e.path() / "bin/initdb") && fs::exists(e.path() / "bin/pg_ctl")) {
            best_major = major;
            best = (e.path() / "bin").string();
        }
    }
    if (best.empty())
        throw std::runtime_error(
            "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: run scripts/install-deps.sh");
    return best;
}

// argv as the server's user (postgres when we are root), bounded by coreutils timeout.
std::vector<std::string> as_server_user(std::vector<std::string> argv, int seconds = 120) {
    std::vector<std::string> out{"timeout", "-k", "5", std::to_string(seconds)};
    if (is_root()) out.insert(out.end(), {"runuser", "-u", "postgres", "--"});
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

void chown_to_server_user(const std::string& path) {
    if (!is_root()) return;
    passwd* pw = getpwnam("postgres");
    if (!pw) throw std::runtime_error("running as root, but there is no `postgres` user to run PostgreSQL as");
    if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("cannot chown " + path);
}

// The initdb'd cluster every test process copies: made once (under a lock, in a
// temporary name renamed into place, so a half-made template is never used).
std::string template_cluster(const std::string& bin) {
    std::string major = fs::path(bin).parent_path().filename().string();
    std::string dir = (scratch_dir() / ("shcx-test-pg" + major + "-template-" + std::to_string(geteuid()))).string();
    if (fs::exists(dir + "/data/PG_VERSION")) return dir + "/data";
    int lock = open((dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0) throw std::runtime_error("cannot open " + dir + ".lock");
    auto deadline = Clock::now() + std::chrono::seconds(180);
    while (flock(lock, LOCK_EX | LOCK_NB) != 0) {
        if (Clock::now() > deadline) {
            close(lock);
            throw std::runtime_error("timed out waiting for another test to make " + dir);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    struct Unlock {
        int fd;
        ~Unlock() { close(fd); }
    } unlock{lock};
    if (fs::exists(dir + "/data/PG_VERSION")) return dir + "/data";
    std::string tmp = dir + ".tmp";
    fs::remove_all(tmp);
    fs::remove_all(dir);
    fs::create_directory(tmp);
    chown_to_server_user(tmp);
    auto r =
        run_program(as_server_user({bin + "/initdb", "-D", tmp + "/data", "-U", "postgres", "--auth=trust", "--no-sync",
                                    "--no-instructions", "--wal-segsize=1", "-E", "UTF8", "--locale=C"}));
    if (r.code != 0) throw std::runtime_error("initdb failed: " + r.err);
    fs::rename(tmp, dir);
    return dir + "/data";
}

PGconn* connect_or_throw(const std::string& uri) {
    PGconn* c = PQconnectdb(uri.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(c);
        PQfinish(c);
        throw std::runtime_error("cannot connect to the test PostgreSQL: " + msg);
    }
    return c;
}

}  // namespace

PgServer& PgServer::shared() {
    static PgServer server;
    return server;
}

PgServer::PgServer() : m_bin(find_bin()) {
    std::string tmpl = template_cluster(m_bin);
    std::string pattern = (scratch_dir() / "shcx-test-pg-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temp dir for PostgreSQL");
    m_dir = pattern;
    chown_to_server_user(m_dir);
    auto cp = run_program(as_server_user({"cp", "-a", tmpl, data_dir()}));
    if (cp.code != 0) throw std::runtime_error("cannot copy the template cluster: " + cp.err);

    // The watchdog: blocks reading a pipe only this process writes to; when this process
    // exits (or dies) the pipe closes and the watchdog stops the server and cleans up.
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::string stop = (is_root() ? "runuser -u postgres -- " : "") + m_bin + "/pg_ctl -D '" + data_dir() +
                       "' -m immediate -w -t 30 stop >/dev/null 2>&1";
    std::string script = "read _; timeout -k 5 60 " + stop + "; rm -rf '" + m_dir + "'";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);  // survives a kill of our process group
    const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
    int rc = posix_spawn(&m_watchdog, "/bin/sh", &fa, &attr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[0]);
    if (rc != 0) {
        close(fds[1]);
        throw std::runtime_error("cannot start the PostgreSQL watchdog");
    }
    m_watchdog_fd = fds[1];

    // Only a unix socket in our own directory; fsync off: a test cluster needs no
    // durability against power loss (crashes of shcx processes are what the tests make).
    std::string opts = "-c listen_addresses='' -c unix_socket_directories='" + m_dir +
                       "' -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB";
    auto r = run_program(as_server_user(
        {m_bin + "/pg_ctl", "-D", data_dir(), "-l", m_dir + "/server.log", "-o", opts, "-w", "-t", "60", "start"}, 90));
    if (r.code != 0) {
        std::string log = fs::exists(m_dir + "/server.log") ? read_file(m_dir + "/server.log") : "";
        throw std::runtime_error("PostgreSQL did not start: " + r.err + log);
    }
}

PgServer::~PgServer() {
    if (m_watchdog_fd < 0) return;
    close(m_watchdog_fd);  // the watchdog stops the server now
    auto deadline = Clock::now() + std::chrono::seconds(90);
    while (Clock::now() < deadline) {
        int status = 0;
        if (waitpid(m_watchdog, &status, WNOHANG) != 0) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::string PgServer::uri(const std::string& dbname) const {
    return "postgresql://postgres@/" + dbname + "?host=" + m_dir;
}

std::string PgServer::create_database() {
    std::string name = "shcx_test_" + std::to_string(++m_next_db);
    query(uri("postgres"), "CREATE DATABASE " + name + " TEMPLATE template0");
    return uri(name);
}

std::optional<std::string> PgServer::query(const std::string& uri, const std::string& sql) {
    PGconn* c = connect_or_throw(uri);
    PGresult* r = PQexec(c, sql.c_str());
    auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        std::string msg = PQresultErrorMessage(r);
        PQclear(r);
        PQfinish(c);
        throw std::runtime_error("test SQL failed: " + msg + " in: " + sql);
    }
    std::optional<std::string> out;
    if (PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0)) out = PQgetvalue(r, 0, 0);
    PQclear(r);
    PQfinish(c);
    return out;
}

RunResult PgServer::run_tool(const std::string& tool, const std::vector<std::string>& args) const {
    std::vector<std::string> argv{m_bin + "/" + tool};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(as_server_user(argv));
}

}  // namespace shcx::test
