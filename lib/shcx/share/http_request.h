// The parts of turning bytes from a stranger into an HttpRequest that do not depend on
// the HTTP library (docs/share-server.md): IP addresses and --trusted-proxy ranges
// (X-Forwarded-For is believed only from those), the request target (libcurl's URL
// parser), log-field escaping, and wiping strings where they live.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/share/api.h"

namespace shcx::share {

// An IPv4 or IPv6 address; IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket
// reports for IPv4 peers) is stored as IPv4 so both spellings are one client.
struct IpAddress {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};  // the first 4 for IPv4
    bool operator==(const IpAddress&) const = default;
};

// inet_pton of either family; nullopt for anything else (ports, brackets, zones, names).
std::optional<IpAddress> parse_ip(std::string_view text);
std::string format_ip(const IpAddress& address);  // inet_ntop: one canonical spelling

// What the per-address connection cap counts: the IPv4 address, or the IPv6 /64 (a
// client usually holds a whole /64; counting single addresses would give it 2^64 caps).
std::string connection_group(const IpAddress& address);

struct Cidr {
    IpAddress network;
    int prefix = 0;
    bool contains(const IpAddress& address) const;
};

// "10.0.0.0/8", "2001:db8::/32", or a single address. USAGE for anything else, including
// a network with host bits set (a typo for a single host is likelier than intent).
Result<Cidr> parse_cidr(std::string_view text);

class TrustedProxies {
public:
    static Result<TrustedProxies> parse(const std::vector<std::string>& cidrs);
    bool trusts(const IpAddress& address) const;
    bool empty() const { return m_ranges.empty(); }
    // The client a request speaks for: the peer itself unless the peer is a trusted
    // proxy; then the right-most X-Forwarded-For entry that is not itself trusted (what a
    // client can write is only ever to the left of what our proxies appended). An entry
    // that is not an address stops the walk at the nearest trusted hop.
    std::string client_address(const IpAddress& peer, std::string_view forwarded_for) const;

private:
    std::vector<Cidr> m_ranges;
};

// An origin-form ("/path?query") or absolute-form (http[s]://host/path?query) request
// target, parsed by libcurl: the path percent-decoded with dot segments removed, the
// query split into form-decoded parameters (the first of a repeated name wins). False
// for anything else, and for a path that decodes to a NUL.
bool decode_target(std::string_view target, HttpRequest& out);

// One log field: printable ASCII except space and backslash as is, every other byte as
// \xNN, so a field can neither end a line nor pose as another field.
std::string escape_log_field(std::string_view field);
// A whole log line: control bytes (CR, LF, ESC ...) as \xNN; spaces stay.
std::string escape_log_line(std::string_view line);
// The path as logged: share ids cut to 4 characters ("/s/abcd..."), then escaped.
std::string log_path(std::string_view path);

// Overwrites a string's whole buffer (its capacity, including a short string's inline
// bytes that a move leaves behind), then empties it.
void wipe_string(std::string& s);
// Appends without leaving copies behind: when the buffer must grow, the old one is
// wiped after the copy (a plain append would free it with the bytes still in it).
void append_wiping(std::string& s, std::string_view more);

}  // namespace shcx::share
