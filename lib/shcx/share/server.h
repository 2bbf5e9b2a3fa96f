// The share HTTP server (docs/cli.md "Share server HTTP API") on cpp-httplib: PIN page,
// reveal, the owner API, security headers on every response, per-address limits, one
// access-log line per request (no sids, PINs, keys or content), a sweeper thread and a
// clean stop on SIGTERM / SIGINT.
#pragma once

#include <functional>
#include <string>

#include "shcx/error.h"
#include "shcx/share/service.h"

namespace shcx::share {

struct ServerConfig {
    std::string host = "127.0.0.1";
    int port = 8443;
    std::string public_url;  // https://..., or http:// for loopback hosts
    std::string tls_cert, tls_key;
    int reveal_limit_per_minute = 30;  // POST /s/{sid} per client address
    double sweep_interval_s = 60;
    int threads = 16;
    std::string ready_file;  // written with the base URL once listening (for scripts and tests)
};

// "https://" URLs, or "http://" with a loopback host. USAGE otherwise.
std::optional<Error> check_public_url(const std::string& url);

// Serves until SIGTERM or SIGINT. The log callback receives one line per request.
std::optional<Error> serve(Service& service, const ServerConfig& config, const std::function<void(const std::string&)>& log);

}  // namespace shcx::share
