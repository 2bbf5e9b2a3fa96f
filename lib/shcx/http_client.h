// HTTP requests through libcurl with the limits a cron job needs: connect and total timeouts,
// a body size cap, TLS verification on, https only (plain http only to loopback, for
// local mirrors and tests), and the validators (ETag, Last-Modified) for conditional GETs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "shcx/error.h"

namespace shcx::http {

struct Request {
    std::string url;
    std::string method = "GET";  // GET, POST, DELETE
    std::string body;            // sent with POST
    std::vector<std::pair<std::string, std::string>> headers;
    size_t max_bytes = 8u << 20;
    long connect_timeout_s = 15;
    long total_timeout_s = 120;
    // false: a 3xx is returned as it is, with Response::redirect_url, for callers with a
    // stricter redirect rule than "https only" (SMART Health Links and the share client:
    // same origin only).
    bool follow_redirects = true;
    std::string user_agent = "shcx/0.1 (+trust sync)";
    // Called with bytes received so far and the expected total (0 when unknown).
    std::function<void(uint64_t now, uint64_t total)> on_progress;
    // When set: the transfer is aborted (NETWORK_ERROR) soon after *cancel turns true, so
    // a server's background sender stops promptly.
    const std::atomic<bool>* cancel = nullptr;
};

struct Response {
    long status = 0;
    std::string body;
    std::string etag, last_modified, retry_after;
    std::string redirect_url;  // absolute; set for a 3xx when follow_redirects is false
};

// url::fetch_problem (shcx/url.h) says no: https://, or http:// to a loopback host.
bool url_allowed(const std::string& url);

// Sends request.method to request.url. NETWORK_ERROR for transport failures (DNS, TLS,
// timeouts, a body cut short) and refused URLs, INPUT_TOO_LARGE past max_bytes. Any HTTP
// status is returned as a Response.
Result<Response> send(const Request& request);

}  // namespace shcx::http
