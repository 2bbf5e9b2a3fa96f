// Shared test helpers: where test data lives, running the shcx binary, temp dirs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace shcx::test {

namespace fs = std::filesystem;

// The third-party conformance vectors: $SHCX_VECTORS, else ../shared/vectors beside the
// checkout, else the cache scripts/fetch-vectors.sh fills (the order of its --where).
// Throws, saying how to get them, when there are none: only tests in the doctest suite
// "conformance" may call it.
fs::path vectors_dir();
fs::path spec_examples();  // vectors_dir()/spec-examples
fs::path testdata_dir();   // <repo>/testdata
std::string read_file(const fs::path& p);
void write_file(const fs::path& p, const std::string& data);

struct RunResult {
    int code = -1;
    std::string out, err;
};

// How long a test waits for a child process before killing it: generous, because the
// machine may be loaded, but a hung child fails its test instead of hanging the suite.
inline constexpr std::chrono::seconds kChildTimeout{300};

// Runs the shcx binary with `args` (no shell interpretation of the arguments),
// feeding `stdin_data` on standard input. Throws if it runs longer than `timeout`.
RunResult run_shcx(const std::vector<std::string>& args, const std::string& stdin_data = "",
                   std::chrono::seconds timeout = kChildTimeout);
// Runs any program the same way.
RunResult run_program(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                      std::chrono::seconds timeout = kChildTimeout);

// Waits for child `pid` to exit, at most `timeout`; past it, kills it (SIGKILL) and reaps
// it. Returns the exit code (128+N when killed by signal N); sets *timed_out if given.
int wait_child(pid_t pid, std::chrono::milliseconds timeout, bool* timed_out = nullptr);

// A fresh directory removed when the object goes away.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const fs::path& path() const { return m_path; }
    fs::path operator/(const std::string& name) const { return m_path / name; }

private:
    fs::path m_path;
};

// "0aff" -> "\x0a\xff" (Wycheproof and other hex vectors).
std::string unhex(const std::string& hex);

// True when `needle` occurs in `hay`; for readable CHECK lines.
// The share server's per-minute limits count in calendar minutes (Service::minute_limit):
// a test that must stay inside one window first waits, if fewer than `room` seconds of
// the current minute are left, for the next one to begin.
void wait_for_minute_room(double room_seconds);

inline bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

}  // namespace shcx::test
