// shcx_test_shl_serve: the test SHL server (tests/shl_server) as a program, for the
// interop test, where an independent reader (kill-the-clipboard's SHLViewer) opens links
// whose manifest and JWE files shcx made.
//
//   shcx_test_shl_serve [--flag F] [--passcode P] MODE CONTENT-TYPE FILE...
//   MODE: embedded | location | embedded+zip | location+zip
//
// Prints the shlink:/ line on stdout, then serves until stdin is closed (at most 300 s).
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "shl_server.h"

namespace {
std::string read_file(const char* path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(std::string("cannot read ") + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}
}  // namespace

int main(int argc, char** argv) {
    try {
        std::string flag, passcode;
        int i = 1;
        for (; i + 1 < argc && std::string(argv[i]).rfind("--", 0) == 0; i += 2) {
            std::string opt = argv[i];
            if (opt == "--flag") flag = argv[i + 1];
            else if (opt == "--passcode") passcode = argv[i + 1];
            else throw std::runtime_error("unknown option " + opt);
        }
        if ((argc - i) % 3 != 0 || argc == i)
            throw std::runtime_error("usage: [--flag F] [--passcode P] MODE TYPE FILE...");
        shcx::test::ShlServer server;
        if (!passcode.empty()) server.set_passcode(passcode, 5);
        for (; i < argc; i += 3) {
            std::string mode = argv[i];
            bool zip = mode.size() > 4 && mode.substr(mode.size() - 4) == "+zip";
            if (zip) mode.resize(mode.size() - 4);
            if (mode != "embedded" && mode != "location") throw std::runtime_error("bad MODE " + mode);
            server.add_file(argv[i + 1], read_file(argv[i + 2]), mode == "embedded", zip);
        }
        std::cout << server.link(flag) << std::endl;
        // Serve until the parent closes our stdin (or 300 s pass).
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
        char buf[256];
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{STDIN_FILENO, POLLIN, 0};
            if (poll(&p, 1, 1000) > 0 && read(STDIN_FILENO, buf, sizeof buf) <= 0) break;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shcx_test_shl_serve: %s\n", e.what());
        return 2;
    }
}
