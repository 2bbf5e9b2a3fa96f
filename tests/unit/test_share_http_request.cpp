// share/http_request: the share server's pieces that do not depend on the HTTP library:
// addresses and trusted-proxy ranges, X-Forwarded-For, request targets, log escaping,
// wiping strings in place.
#include <doctest/doctest.h>

#include <algorithm>

#include "shcx/share/http_request.h"

using namespace shcx;
using namespace shcx::share;

namespace {

IpAddress ip(const std::string& s) {
    auto a = parse_ip(s);
    REQUIRE(a);
    return *a;
}

TrustedProxies proxies(std::vector<std::string> cidrs) {
    auto t = TrustedProxies::parse(cidrs);
    REQUIRE(t);
    return t.value();
}

}  // namespace

TEST_CASE("parse_ip: both families, IPv4-mapped IPv6 is the IPv4 client, nothing else") {
    CHECK(format_ip(ip("192.0.2.7")) == "192.0.2.7");
    CHECK(format_ip(ip("2001:DB8:0:0:0:0:0:1")) == "2001:db8::1");
    CHECK(ip("::ffff:192.0.2.7") == ip("192.0.2.7"));
    CHECK_FALSE(ip("::ffff:192.0.2.7").v6);
    CHECK(ip("::1").v6);
    for (const char* bad : {"", "192.0.2", "192.0.2.7:80", "[2001:db8::1]", "fe80::1%eth0", "example.org", " 192.0.2.7",
                            "192.0.2.256", "1.2.3.4\n"})
        CHECK_FALSE(parse_ip(bad));
}

TEST_CASE("connection caps count an IPv4 address, or an IPv6 /64") {
    CHECK(connection_group(ip("192.0.2.7")) == "192.0.2.7");
    CHECK(connection_group(ip("::ffff:192.0.2.7")) == "192.0.2.7");
    CHECK(connection_group(ip("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64");
    CHECK(connection_group(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")) == "2001:db8:1:2::/64");
    CHECK(connection_group(ip("2001:db8:1:3::1")) == "2001:db8:1:3::/64");
    CHECK(connection_group(ip("::1")) == "::/64");
}

TEST_CASE("parse_cidr: prefixes in range, host bits refused, usage errors name the option") {
    auto c = parse_cidr("10.0.0.0/8");
    REQUIRE(c);
    CHECK(c.value().contains(ip("10.255.1.2")));
    CHECK_FALSE(c.value().contains(ip("11.0.0.1")));
    CHECK_FALSE(c.value().contains(ip("::ffff:11.0.0.1")));
    auto v6 = parse_cidr("2001:db8::/33");
    REQUIRE(v6);
    CHECK(v6.value().contains(ip("2001:db8:7fff::1")));
    CHECK_FALSE(v6.value().contains(ip("2001:db8:8000::1")));
    CHECK_FALSE(v6.value().contains(ip("10.0.0.1")));
    auto host = parse_cidr("192.0.2.7");
    REQUIRE(host);
    CHECK(host.value().prefix == 32);
    CHECK(parse_cidr("0.0.0.0/0").value().contains(ip("203.0.113.1")));
    CHECK(parse_cidr("192.0.2.0/25").value().contains(ip("192.0.2.127")));
    CHECK_FALSE(parse_cidr("192.0.2.0/25").value().contains(ip("192.0.2.128")));
    for (const char* bad :
         {"10.0.0.1/8", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "10/8", "proxy"}) {
        CAPTURE(bad);
        auto e = parse_cidr(bad);
        REQUIRE_FALSE(e);
        CHECK(e.error().code == ErrorCode::USAGE);
        CHECK(e.error().message.rfind(std::string("--trusted-proxy ") + bad + ": ", 0) == 0);
    }
    CHECK_FALSE(TrustedProxies::parse({"10.0.0.0/8", "nonsense"}));
}

TEST_CASE("X-Forwarded-For: only from a trusted peer, the right-most untrusted entry wins") {
    auto t = proxies({"127.0.0.2/32", "10.0.0.0/8", "2001:db8::/32"});
    // An untrusted peer's header is ignored whatever it says.
    CHECK(t.client_address(ip("203.0.113.5"), "198.51.100.1") == "203.0.113.5");
    CHECK(t.client_address(ip("::ffff:203.0.113.5"), "198.51.100.1") == "203.0.113.5");
    // From the proxy: the entry it appended.
    CHECK(t.client_address(ip("127.0.0.2"), "198.51.100.1") == "198.51.100.1");
    // A client's forged entries are to the left of what the proxy appended.
    CHECK(t.client_address(ip("127.0.0.2"), "1.1.1.1, 198.51.100.1") == "198.51.100.1");
    // Hops inside the trusted ranges are skipped, IPv6 too, spaces and tabs ignored.
    CHECK(t.client_address(ip("127.0.0.2"), "1.1.1.1,198.51.100.1 ,\t10.1.2.3") == "198.51.100.1");
    CHECK(t.client_address(ip("127.0.0.2"), "2001:db8::7, 2001:db9::1, 2001:db8::5") == "2001:db9::1");
    // No header, or an empty one: the proxy itself.
    CHECK(t.client_address(ip("127.0.0.2"), "") == "127.0.0.2");
    // Every entry trusted: the left-most.
    CHECK(t.client_address(ip("127.0.0.2"), "10.0.0.9, 10.0.0.8") == "10.0.0.9");
    // Garbage stops the walk at the nearest trusted hop, never further left.
    CHECK(t.client_address(ip("127.0.0.2"), "198.51.100.1, unknown") == "127.0.0.2");
    CHECK(t.client_address(ip("127.0.0.2"), "198.51.100.1, 10.0.0.4, 1.2.3.4:80") == "127.0.0.2");
    CHECK(t.client_address(ip("127.0.0.2"), "1.1.1.1, 198.51.100.1:99, 10.0.0.4") == "10.0.0.4");
    CHECK(t.client_address(ip("127.0.0.2"), ",,") == "127.0.0.2");
    // The canonical spelling, so one client has one rate-limit budget.
    CHECK(t.client_address(ip("127.0.0.2"), "2001:DB9:0::1") == "2001:db9::1");
    CHECK(t.client_address(ip("127.0.0.2"), "::ffff:198.51.100.1") == "198.51.100.1");
    // No trusted proxies configured: the peer, always.
    CHECK(proxies({}).client_address(ip("127.0.0.2"), "198.51.100.1") == "127.0.0.2");
}

TEST_CASE("decode_target: decoded path without dot segments, form-decoded query, refusals") {
    HttpRequest r;
    REQUIRE(decode_target("/api/v1/shares?reveals=3&ttl=60", r));
    CHECK(r.path == "/api/v1/shares");
    CHECK(r.query == std::map<std::string, std::string>{{"reveals", "3"}, {"ttl", "60"}});
    REQUIRE(decode_target("/s/ab%43d?x=a+b%26c&x=second&flag&=v", r));
    CHECK(r.path == "/s/abCd");
    CHECK(r.query.at("x") == "a b&c");
    CHECK(r.query.at("flag").empty());
    CHECK(r.query.at("") == "v");
    REQUIRE(decode_target("/static/../healthz", r));
    CHECK(r.path == "/healthz");
    CHECK(r.query.empty());
    REQUIRE(decode_target("http://share.example/s/abc?ttl=1", r));
    CHECK(r.path == "/s/abc");
    CHECK(r.query.at("ttl") == "1");
    CHECK_FALSE(decode_target("*", r));
    CHECK_FALSE(decode_target("share.example:443", r));
    CHECK_FALSE(decode_target("", r));
    CHECK_FALSE(decode_target("ftp://share.example/x", r));
    CHECK_FALSE(decode_target("/s/a%00b", r));
}

TEST_CASE("log escaping: a field cannot end a line or pose as two fields") {
    CHECK(escape_log_field("GET") == "GET");
    CHECK(escape_log_field("/a b\n2026 forged\r\x1b[31m\\") == "/a\\x20b\\x0a2026\\x20forged\\x0d\\x1b[31m\\x5c");
    CHECK(escape_log_field(std::string("\0\x7f\xc3\xa9", 4)) == "\\x00\\x7f\\xc3\\xa9");
    CHECK(escape_log_line("sweeper: disk I/O error\nforged line") == "sweeper: disk I/O error\\x0aforged line");
    // Share ids are cut to 4 characters before escaping.
    CHECK(log_path("/s/p5FtXkG6y1RhkRUTwqK3Jw") == "/s/p5Ft...");
    CHECK(log_path("/s/p5F") == "/s/p5F");
    CHECK(log_path("/m/p5FtXkG6y1RhkRUTwqK3Jw") == "/m/p5Ft...");  // the SHL manifest URL
    CHECK(log_path("/e/p5FtXkG6y1RhkRUTwqK3Jw") == "/e/p5Ft...");  // an emergency link
    CHECK(log_path("/s/\n\n\n\nsecret") == "/s/\\x0a\\x0a\\x0a\\x0a...");
    CHECK(log_path("/api/v1/shares/Dex 1") == "/api/v1/shares/Dex\\x201");
}

TEST_CASE("wipe_string clears the whole buffer, including bytes a move left behind") {
    std::string big(100, 'P');
    const char* data = big.data();
    size_t capacity = big.capacity();
    wipe_string(big);
    CHECK(big.empty());
    CHECK(big.capacity() == capacity);  // the same buffer, not a new one
    CHECK(std::all_of(data, data + capacity, [](char c) { return c == 0; }));

    std::string small = "PIN12345";  // short: stored inline
    std::string taken = std::move(small);
    CHECK(taken == "PIN12345");
    const char* inline_bytes = small.data();
    wipe_string(small);
    CHECK(std::all_of(inline_bytes, inline_bytes + small.capacity(), [](char c) { return c == 0; }));

    std::string grown;
    for (int i = 0; i < 1000; ++i) append_wiping(grown, "0123456789");
    CHECK(grown.size() == 10000);
    CHECK(grown.substr(9990) == "0123456789");
}
