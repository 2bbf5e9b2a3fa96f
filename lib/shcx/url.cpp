#include "shcx/url.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace shcx::url {
namespace {

using Handle = std::unique_ptr<CURLU, void (*)(CURLU*)>;

// One part of a parsed URL; empty when absent.
std::string part(CURLU* h, CURLUPart which, unsigned flags = 0) {
    char* out = nullptr;
    if (curl_url_get(h, which, &out, flags) != CURLUE_OK || !out) return {};
    std::string s(out);
    curl_free(out);
    return s;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// Short enough for one error line, never the whole of a long (possibly secret) URL.
std::string shown(std::string_view text) {
    std::string s(text.substr(0, 80));
    if (auto hash = s.find('#'); hash != std::string::npos) s = s.substr(0, hash) + "#...";
    return s + (text.size() > 80 ? "..." : "");
}

}  // namespace

std::string Url::origin() const { return scheme + "://" + host + ":" + std::to_string(port); }

std::string Url::without_fragment() const {
    bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
    return scheme + "://" + host + (default_port ? "" : ":" + std::to_string(port)) + path +
           (query.empty() ? "" : "?" + query);
}

Result<Url> parse(std::string_view text) {
    if (text.size() > 8192) return make_error(ErrorCode::URL_INVALID, "URL longer than 8192 characters");
    Handle h(curl_url(), curl_url_cleanup);
    if (!h) return make_error(ErrorCode::INTERNAL, "curl_url failed");
    std::string s(text);
    if (s.find('\0') != std::string::npos) return make_error(ErrorCode::URL_INVALID, "URL contains a NUL byte");
    if (CURLUcode rc = curl_url_set(h.get(), CURLUPART_URL, s.c_str(), 0); rc != CURLUE_OK)
        return make_error(ErrorCode::URL_INVALID, shown(text) + ": " + curl_url_strerror(rc));
    Url u;
    u.scheme = lower(part(h.get(), CURLUPART_SCHEME));
    u.host = part(h.get(), CURLUPART_HOST);
    std::string port = part(h.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
    u.port = port.empty() ? 0 : std::stoi(port);  // curl_url accepts 0..65535 only
    u.path = part(h.get(), CURLUPART_PATH);
    if (u.path.empty()) u.path = "/";
    u.query = part(h.get(), CURLUPART_QUERY);
    u.fragment = part(h.get(), CURLUPART_FRAGMENT);
    char* out = nullptr;
    for (CURLUPart p : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS})
        if (curl_url_get(h.get(), p, &out, 0) == CURLUE_OK) {
            curl_free(out);
            u.has_userinfo = true;
        }
    if (u.host.empty()) return make_error(ErrorCode::URL_INVALID, shown(text) + ": no host");
    return u;
}

bool is_loopback_host(std::string_view host) {
    std::string h = lower(std::string(host));
    if (h == "localhost" || h == "[::1]" || h == "::1") return true;
    in_addr v4{};
    return inet_pton(AF_INET, h.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

Result<Url> parse_allowed(std::string_view text) {
    auto u = parse(text);
    if (!u) return u.error();
    const Url& v = u.value();
    if (v.has_userinfo)
        return make_error(ErrorCode::URL_REFUSED, shown(text) + ": a user name or password in a URL is not allowed");
    if (v.scheme == "https") return u;
    if (v.scheme == "http" && is_loopback_host(v.host)) return u;
    return make_error(ErrorCode::URL_REFUSED,
                      shown(text) + ": only https:// URLs (http:// only to 127.0.0.1, [::1] or localhost)");
}

std::optional<Error> check_allowed(std::string_view text) {
    auto u = parse_allowed(text);
    if (!u) return u.error();
    return std::nullopt;
}

bool same_origin(const Url& a, const Url& b) {
    return a.scheme == b.scheme && lower(a.host) == lower(b.host) && a.port == b.port;
}

std::optional<Error> check_public_url(std::string_view text) {
    auto u = parse_allowed(text);
    if (!u) return u.error();
    if (!u.value().query.empty() || !u.value().fragment.empty() || text.find_first_of("?#") != std::string_view::npos)
        return make_error(ErrorCode::URL_REFUSED, shown(text) + ": a base URL is https://HOST[/PATH], without ? or #");
    return std::nullopt;
}

}  // namespace shcx::url
