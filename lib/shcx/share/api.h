// The share HTTP API (docs/cli.md "Share server HTTP API") as a function from a request to a
// response, independent of the HTTP library: the server (server.cpp) adapts Beast to it, and
// tests and the fuzzer call it directly.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "shcx/share/service.h"

namespace shcx::share {

struct HttpRequest {
    std::string method;  // GET, POST, DELETE, ...
    std::string path;    // without the query string
    std::map<std::string, std::string> query;
    std::string content_type, authorization;
    std::string body;
    std::string remote_addr;
};

struct HttpResponse {
    int status = 200;
    std::string content_type, body;
    std::vector<std::pair<std::string, std::string>> headers;
};

inline constexpr size_t kMaxRevealBody = 1024;

// The owner's view of a share (GET /api/v1/shares/{id}, `share status --json`).
std::string status_json(const ShareStatus& status);

class Api {
public:
    Api(Service& service, const Clock& clock, std::string public_url, int reveal_limit_per_minute);
    HttpResponse handle(const HttpRequest& request);
    // Cache-Control, Referrer-Policy, X-Robots-Tag, CSP ...: for every response.
    static const std::vector<std::pair<std::string, std::string>>& security_headers();
    // The same bytes for every dead share, GET and POST alike.
    static std::string not_found_body();

private:
    HttpResponse reveal(const HttpRequest& req, const std::string& sid);
    HttpResponse create(const HttpRequest& req, int64_t owner);
    std::optional<int64_t> owner_of(const HttpRequest& req);
    // 0 when allowed, else seconds until the address's window ends.
    int rate_check(const std::string& address);

    Service& m_service;
    const Clock& m_clock;
    std::string m_public_url;
    int m_reveal_limit;
    std::mutex m_rate_mutex;
    int64_t m_rate_window = 0;
    std::map<std::string, int> m_rate_counts;
};

}  // namespace shcx::share
