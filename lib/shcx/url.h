// The one URL policy of shcx, on libcurl's URL API (curl_url) so that what we check is
// what curl will fetch: https, or http only to a loopback host; never userinfo
// ("http://127.0.0.1:x@evil.example/" has the host evil.example). Used by every HTTP
// client (trust sync, the share client) and by the share server for --public-url.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "shcx/error.h"

namespace shcx::url {

struct Url {
    std::string scheme;    // lower case
    std::string host;      // as curl normalises it; IPv6 in brackets ("[::1]")
    int port = 0;          // explicit, or the scheme's default
    std::string path;      // "/" at least
    std::string query;     // without '?'; empty when absent
    std::string fragment;  // without '#'; empty when absent
    bool has_userinfo = false;

    // "scheme://host:port": two URLs with the same origin reach the same server.
    std::string origin() const;
    // scheme://host[:port]/path[?query], without the fragment (what goes on the wire).
    std::string without_fragment() const;
};

// Any absolute URL curl_url accepts. URL_INVALID otherwise (the message names the part).
Result<Url> parse(std::string_view text);

// parse() plus the policy: http or https only, http only to a loopback host, no
// userinfo. URL_REFUSED when the policy says no.
Result<Url> parse_allowed(std::string_view text);
std::optional<Error> check_allowed(std::string_view text);

// 127.0.0.0/8, ::1 and "localhost" (any case).
bool is_loopback_host(std::string_view host);

bool same_origin(const Url& a, const Url& b);

// The share server's --public-url (and `share create --db --public-url`): an allowed
// base URL that links are built on, so no query and no fragment either.
// URL_INVALID / URL_REFUSED with a message that says "https://".
std::optional<Error> check_public_url(std::string_view text);

}  // namespace shcx::url
