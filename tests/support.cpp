#include "support.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace shcx::test {

fs::path vectors_dir() {
    if (const char* v = std::getenv("SHCX_VECTORS"); v && *v) return v;
    return SHCX_VECTORS_DEFAULT;
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

RunResult run_program(const std::vector<std::string>& argv, const std::string& stdin_data) {
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
    // Never wait without a deadline: a child that hangs is killed and reported, so the
    // test fails with a message instead of stalling the suite.
    int status = 0;
    bool timed_out = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kRunTimeoutSeconds);
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    RunResult r;
    r.code = timed_out ? kRunTimedOut : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
}

RunResult run_shcx(const std::vector<std::string>& args, const std::string& stdin_data) {
    std::vector<std::string> argv{SHCX_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, stdin_data);
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

}  // namespace shcx::test
