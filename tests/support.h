// Shared test helpers: where test data lives, running the shcx binary, temp dirs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace shcx::test {

namespace fs = std::filesystem;

fs::path vectors_dir();      // $SHCX_VECTORS or ../shared/vectors
fs::path spec_examples();    // vectors_dir()/spec-examples
fs::path testdata_dir();     // <repo>/testdata
std::string read_file(const fs::path& p);
void write_file(const fs::path& p, const std::string& data);

struct RunResult {
    int code = -1;
    std::string out, err;
};

// A child still running after kRunTimeoutSeconds is killed; its code is then kRunTimedOut.
inline constexpr int kRunTimeoutSeconds = 300;
inline constexpr int kRunTimedOut = -2;

// Runs the shcx binary with `args` (no shell interpretation of the arguments),
// feeding `stdin_data` on standard input.
RunResult run_shcx(const std::vector<std::string>& args, const std::string& stdin_data = "");
// Runs any program the same way.
RunResult run_program(const std::vector<std::string>& argv, const std::string& stdin_data = "");

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
inline bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace shcx::test
