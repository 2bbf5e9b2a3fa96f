// URLs we are about to fetch, parsed by libcurl's own URL parser (curl_url) so that what we
// check is exactly what libcurl will connect to. The fetch policy lives here, once: https://
// to any host; http:// only to loopback (127.0.0.0/8, [::1], localhost: local mirrors and
// test servers); never user:password@, which would be sent and could end up in logs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shcx::url {

struct Parts {
    std::string scheme;  // lower case
    std::string host;    // as libcurl normalises it; IPv6 in brackets ("[::1]")
    std::string port;    // explicit, or the scheme's default ("443")
    bool has_userinfo = false;
    bool has_fragment = false;
};

// nullopt unless `text` is an absolute URL libcurl accepts.
std::optional<Parts> parse(std::string_view text);

bool is_loopback_host(std::string_view host);

// Why `text` may not be fetched, or nullopt when it may.
std::optional<std::string> fetch_problem(std::string_view text);

// "https://host:port": what may be shown of a URL whose path or query holds a secret, and
// what two URLs must share to be the same origin.
std::string origin(const Parts& parts);

// `text` with name=value (URL-encoded) appended to its query; nullopt if `text` is not a URL.
std::optional<std::string> with_query_param(std::string_view text, std::string_view name, std::string_view value);

}  // namespace shcx::url
