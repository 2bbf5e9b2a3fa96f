#include "shcx/url.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace shcx::url {
namespace {

using UrlHandle = std::unique_ptr<CURLU, void (*)(CURLU*)>;

UrlHandle make_handle(std::string_view text) {
    UrlHandle h(curl_url(), curl_url_cleanup);
    if (!h) return h;
    std::string s(text);  // curl_url_set needs a NUL-terminated string
    // No guessing of a scheme for "example.org/x": a link must say what it means.
    if (s.find('\0') != std::string::npos || curl_url_set(h.get(), CURLUPART_URL, s.c_str(), 0) != CURLUE_OK)
        h.reset();
    return h;
}

std::optional<std::string> get_part(CURLU* h, CURLUPart part, unsigned flags = 0) {
    char* out = nullptr;
    if (curl_url_get(h, part, &out, flags) != CURLUE_OK || !out) return std::nullopt;
    std::string s(out);
    curl_free(out);
    return s;
}

bool is_ipv4_loopback(std::string_view host) {
    // Four decimal octets, the first 127 (libcurl has already normalised "127.1" and the like).
    int octets = 0;
    size_t i = 0;
    std::string first;
    while (i <= host.size()) {
        size_t dot = host.find('.', i);
        if (dot == std::string_view::npos) dot = host.size();
        std::string_view part = host.substr(i, dot - i);
        if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
        if (std::stoi(std::string(part)) > 255) return false;
        if (octets == 0) first = std::string(part);
        ++octets;
        i = dot + 1;
        if (dot == host.size()) break;
    }
    return octets == 4 && first == "127";
}

}  // namespace

std::optional<Parts> parse(std::string_view text) {
    auto h = make_handle(text);
    if (!h) return std::nullopt;
    Parts p;
    auto scheme = get_part(h.get(), CURLUPART_SCHEME);
    auto host = get_part(h.get(), CURLUPART_HOST);
    auto port = get_part(h.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
    if (!scheme || !host || host->empty()) return std::nullopt;
    p.scheme = *scheme;
    std::transform(p.scheme.begin(), p.scheme.end(), p.scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    p.host = *host;
    std::transform(p.host.begin(), p.host.end(), p.host.begin(), [](unsigned char c) { return std::tolower(c); });
    p.port = port.value_or("");
    p.has_userinfo = get_part(h.get(), CURLUPART_USER).has_value() || get_part(h.get(), CURLUPART_PASSWORD).has_value();
    p.has_fragment = get_part(h.get(), CURLUPART_FRAGMENT).has_value();
    return p;
}

bool is_loopback_host(std::string_view host) {
    return host == "localhost" || host == "[::1]" || is_ipv4_loopback(host);
}

std::optional<std::string> fetch_problem(std::string_view text) {
    // Control characters and spaces never belong in a URL we send.
    if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
        return "the URL contains spaces or control characters";
    auto p = parse(text);
    if (!p) return "not an absolute URL";
    if (p->has_userinfo) return "the URL carries a user name or password";
    if (p->scheme == "https") return std::nullopt;
    if (p->scheme == "http" && is_loopback_host(p->host)) return std::nullopt;
    if (p->scheme == "http") return "only https:// URLs are fetched (http:// only to this machine)";
    return "only https:// URLs are fetched, not " + p->scheme + "://";
}

std::string origin(const Parts& parts) { return parts.scheme + "://" + parts.host + ":" + parts.port; }

std::optional<std::string> with_query_param(std::string_view text, std::string_view name, std::string_view value) {
    auto h = make_handle(text);
    if (!h) return std::nullopt;
    std::string pair = std::string(name) + "=" + std::string(value);
    if (curl_url_set(h.get(), CURLUPART_QUERY, pair.c_str(), CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
        return std::nullopt;
    return get_part(h.get(), CURLUPART_URL);
}

}  // namespace shcx::url
