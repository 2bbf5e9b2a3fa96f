#include "shcx/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "shcx/detail/curl_api.h"

namespace shcx::url {
namespace {

using detail::CurlApi;
using Handle = std::unique_ptr<CURLU, void (*)(CURLU*)>;

// One part of a parsed URL; nullopt when absent.
std::optional<std::string> get_part(const CurlApi& api, CURLU* h, CURLUPart which, unsigned flags = 0) {
    char* out = nullptr;
    if (api.url_get(h, which, &out, flags) != CURLUE_OK || !out) return std::nullopt;
    std::string s(out);
    api.free(out);
    return s;
}

std::string part(const CurlApi& api, CURLU* h, CURLUPart which, unsigned flags = 0) {
    return get_part(api, h, which, flags).value_or("");
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

// Control characters and spaces never belong in a URL we send.
bool has_control_or_space(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}
constexpr const char* kControlOrSpace = "the URL contains spaces or control characters";

// The policy on a parsed URL: why it may not be fetched, or nullopt.
std::optional<std::string> policy_problem(const Url& u) {
    if (u.has_userinfo) return "a user name or password in a URL is not allowed";
    if (u.scheme == "https") return std::nullopt;
    if (u.scheme == "http" && is_loopback_host(u.host)) return std::nullopt;
    if (u.scheme == "http") return "only https:// URLs are fetched (http:// only to this machine)";
    return "only https:// URLs are fetched, not " + u.scheme + "://";
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
    auto loaded = detail::curl_api();
    if (!loaded) return loaded.error();
    const CurlApi& api = *loaded.value();
    Handle h(api.url(), api.url_cleanup);
    if (!h) return make_error(ErrorCode::INTERNAL, "curl_url failed");
    std::string s(text);  // curl_url_set needs a NUL-terminated string
    if (s.find('\0') != std::string::npos) return make_error(ErrorCode::URL_INVALID, "URL contains a NUL byte");
    // No guessing of a scheme for "example.org/x": a link must say what it means.
    if (CURLUcode rc = api.url_set(h.get(), CURLUPART_URL, s.c_str(), 0); rc != CURLUE_OK)
        return make_error(ErrorCode::URL_INVALID, shown(text) + ": " + api.url_strerror(rc));
    Url u;
    u.scheme = lower(part(api, h.get(), CURLUPART_SCHEME));
    u.host = lower(part(api, h.get(), CURLUPART_HOST));
    std::string port = part(api, h.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
    u.port = port.empty() ? 0 : std::stoi(port);  // curl_url accepts 0..65535 only
    u.path = part(api, h.get(), CURLUPART_PATH);
    if (u.path.empty()) u.path = "/";
    u.query = part(api, h.get(), CURLUPART_QUERY);
    auto fragment = get_part(api, h.get(), CURLUPART_FRAGMENT);
    u.has_fragment = fragment.has_value();
    u.fragment = fragment.value_or("");
    for (CURLUPart p : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS})
        if (get_part(api, h.get(), p)) u.has_userinfo = true;
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
    if (has_control_or_space(text)) return make_error(ErrorCode::URL_INVALID, shown(text) + ": " + kControlOrSpace);
    auto u = parse(text);
    if (!u) return u.error();
    if (auto problem = policy_problem(u.value()))
        return make_error(ErrorCode::URL_REFUSED, shown(text) + ": " + *problem);
    return u;
}

std::optional<Error> check_allowed(std::string_view text) {
    auto u = parse_allowed(text);
    if (!u) return u.error();
    return std::nullopt;
}

std::optional<std::string> fetch_problem(std::string_view text) {
    if (has_control_or_space(text)) return kControlOrSpace;
    auto u = parse(text);
    if (!u) return "not an absolute URL";
    return policy_problem(u.value());
}

bool same_origin(const Url& a, const Url& b) { return a.scheme == b.scheme && a.host == b.host && a.port == b.port; }

std::optional<Error> check_public_url(std::string_view text) {
    auto u = parse_allowed(text);
    if (!u) return u.error();
    if (!u.value().query.empty() || u.value().has_fragment || text.find_first_of("?#") != std::string_view::npos)
        return make_error(ErrorCode::URL_REFUSED, shown(text) + ": a base URL is https://HOST[/PATH], without ? or #");
    return std::nullopt;
}

std::optional<std::string> with_query_param(std::string_view text, std::string_view name, std::string_view value) {
    auto loaded = detail::curl_api();
    if (!loaded) return std::nullopt;
    const CurlApi& api = *loaded.value();
    Handle h(api.url(), api.url_cleanup);
    if (!h) return std::nullopt;
    std::string s(text);
    if (s.find('\0') != std::string::npos || api.url_set(h.get(), CURLUPART_URL, s.c_str(), 0) != CURLUE_OK)
        return std::nullopt;
    std::string pair = std::string(name) + "=" + std::string(value);
    if (api.url_set(h.get(), CURLUPART_QUERY, pair.c_str(), CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
        return std::nullopt;
    return get_part(api, h.get(), CURLUPART_URL);
}

}  // namespace shcx::url
