#include "support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <future>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace shcx::test {

fs::path vectors_dir() {
    if (const char* v = std::getenv("SHCX_VECTORS"); v && *v) return v;
    fs::path beside = fs::path(SHCX_SOURCE_DIR).parent_path() / "shared" / "vectors";
    if (fs::is_directory(beside)) return beside;
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    fs::path cache = xdg && *xdg ? fs::path(xdg) : fs::path(home ? home : "/nonexistent") / ".cache";
    cache /= "shcx/vectors";
    if (fs::is_directory(cache)) return cache;
    throw std::runtime_error("third-party conformance vectors not found (SHCX_VECTORS, " + beside.string() + ", " +
                             cache.string() +
                             "): run scripts/fetch-vectors.sh, or exclude them with ctest -LE conformance");
}
fs::path spec_examples() { return vectors_dir() / "spec-examples"; }
fs::path testdata_dir() { return fs::path(SHCX_SOURCE_DIR) / "testdata"; }

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw std::runtime_error("test cannot read " + p.string());
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, const std::string& data) {
    std::ofstream f(p, std::ios::binary);
    f << data;
    if (!f) throw std::runtime_error("test cannot write " + p.string());
}

std::string unhex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

int wait_child(pid_t pid, std::chrono::milliseconds timeout, bool* timed_out) {
    // waitpid has no timeout: a helper thread blocks in it while this one waits on the
    // result with a deadline, and kills the child if the deadline passes.
    std::promise<int> exited;
    auto status = exited.get_future();
    std::thread waiter([pid, &exited] {
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        exited.set_value(st);
    });
    bool late = status.wait_for(timeout) == std::future_status::timeout;
    if (late) kill(pid, SIGKILL);
    int st = status.get();
    waiter.join();
    if (timed_out) *timed_out = late;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

RunResult run_program(const std::vector<std::string>& argv, const std::string& stdin_data,
                      std::chrono::seconds timeout) {
    TempDir tmp;
    fs::path in = tmp / "stdin", out = tmp / "stdout", err = tmp / "stderr";
    write_file(in, stdin_data);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
    bool timed_out = false;
    RunResult r;
    r.code = wait_child(pid, timeout, &timed_out);
    if (timed_out)
        throw std::runtime_error(argv[0] + " did not finish within " + std::to_string(timeout.count()) +
                                 " s and was killed; stderr: " + read_file(err));
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
}

RunResult run_shcx(const std::vector<std::string>& args, const std::string& stdin_data, std::chrono::seconds timeout) {
    std::vector<std::string> argv{SHCX_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, stdin_data, timeout);
}

TempDir::TempDir() {
    std::random_device rd;
    auto base = fs::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
        fs::path p = base / ("shcx-test-" + std::to_string(rd()) + std::to_string(rd()));
        if (fs::create_directory(p)) {
            m_path = p;
            return;
        }
    }
    throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
}

void wait_for_minute_room(double room_seconds) {
    using namespace std::chrono;
    auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    auto left_ms = 60000 - now % 60000;
    if (static_cast<double>(left_ms) < room_seconds * 1000) std::this_thread::sleep_for(milliseconds(left_ms + 100));
}

}  // namespace shcx::test
