// The one URL policy of shcx, on libcurl's URL API (curl_url) so that what we check is
// exactly what libcurl will connect to: https:// to any host; http:// only to loopback
// (127.0.0.0/8, [::1], localhost: local mirrors and test servers); never user:password@,
// which would be sent and could end up in logs ("http://127.0.0.1:x@evil.example/" has
// the host evil.example). Used by every HTTP client (trust sync, SMART Health Links, the
// share client) and by the share server for --public-url.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "shcx/error.h"

namespace shcx::url {

struct Url {
    std::string scheme;         // lower case
    std::string host;           // lower case, as curl normalises it; IPv6 in brackets ("[::1]")
    int port = 0;               // explicit, or the scheme's default
    std::string path;           // "/" at least
    std::string query;          // without '?'; empty when absent
    std::string fragment;       // without '#'; empty when absent
    bool has_fragment = false;  // a '#', even an empty one
    bool has_userinfo = false;

    // "scheme://host:port": what may be shown of a URL whose path or query holds a
    // secret, and what two URLs must share to be the same origin.
    std::string origin() const;
    // scheme://host[:port]/path[?query], without the fragment (what goes on the wire).
    std::string without_fragment() const;
};

// Any absolute URL curl_url accepts. URL_INVALID otherwise (the message names the part).
Result<Url> parse(std::string_view text);

// parse() plus the policy. URL_INVALID for what is not a URL (or holds spaces or control
// characters), URL_REFUSED when the policy says no.
Result<Url> parse_allowed(std::string_view text);
std::optional<Error> check_allowed(std::string_view text);

// The same policy as a reason only: why `text` may not be fetched, or nullopt when it may.
std::optional<std::string> fetch_problem(std::string_view text);

// 127.0.0.0/8, ::1 and "localhost" (any case).
bool is_loopback_host(std::string_view host);

bool same_origin(const Url& a, const Url& b);

// The share server's --public-url (and `share create --db --public-url`): an allowed
// base URL that links are built on, so no query and no fragment either.
// URL_INVALID / URL_REFUSED with a message that says "https://".
std::optional<Error> check_public_url(std::string_view text);

// `text` with name=value (URL-encoded) appended to its query; nullopt if `text` is not a URL.
std::optional<std::string> with_query_param(std::string_view text, std::string_view name, std::string_view value);

}  // namespace shcx::url
