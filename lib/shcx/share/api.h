// The share HTTP API (docs/cli.md "Share server HTTP API") as a function from a request to a
// response, independent of the HTTP library: the server (server.cpp) adapts Beast to it, and
// tests and the fuzzer call it directly.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
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
    std::string user_agent;  // at most kMaxUserAgent bytes, recorded with emergency accesses
};

struct HttpResponse {
    int status = 200;
    std::string content_type, body;
    std::vector<std::pair<std::string, std::string>> headers;
};

inline constexpr size_t kMaxRevealBody = 1024;
inline constexpr size_t kMaxUserAgent = 256;

// Where a share answers (docs/share-protocol.md): {public}/s/{sid} the PIN page and its
// reveal, {public}/m/{sid} the SMART Health Links manifest, {public}/v the page as an SHL
// viewer ({public}/v#shlink:/...).
inline constexpr std::string_view kSharePath = "/s/";
inline constexpr std::string_view kManifestPath = "/m/";
inline constexpr std::string_view kViewerPath = "/v";
// {public}/e/{sid}: an emergency share (docs/emergency.md), #KEY_EMERGENCY.KEY_FULL.
inline constexpr std::string_view kEmergencyPath = "/e/";

// The owner's view of a share (GET /api/v1/shares/{id}, `share status --json`).
std::string status_json(const ShareStatus& status);
// The same for an emergency share, with "emergency": its label, break-glass state and
// every access (emergency_api.cpp).
std::string emergency_status_json(const EmergencyStatus& status);

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
    // POST {public}/m/{sid}: the same reveal as an SHL manifest request (docs/shl.md).
    HttpResponse manifest(const HttpRequest& req, const std::string& sid);
    // POST {public}/e/{sid} (emergency_api.cpp).
    HttpResponse emergency(const HttpRequest& req, const std::string& sid);
    // The owner's emergency-share requests (emergency_api.cpp).
    HttpResponse create_emergency(const HttpRequest& req, int64_t owner);
    HttpResponse rotate_emergency(const HttpRequest& req, int64_t owner, const std::string& id);
    HttpResponse resume_emergency(int64_t owner, const std::string& id);
    // The per-address limit on reveal requests, shared by both ways to reveal.
    std::optional<HttpResponse> rate_limited(const HttpRequest& req);
    HttpResponse create(const HttpRequest& req, int64_t owner);
    // The user behind the bearer token, or the 401 to answer.
    std::variant<int64_t, HttpResponse> owner_of(const HttpRequest& req);
    Service& m_service;
    const Clock& m_clock;
    std::string m_public_url;
    int m_reveal_limit;  // per client address per minute, counted in the store
};

}  // namespace shcx::share
