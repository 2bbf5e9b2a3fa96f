// The URL policy (shcx/url.h) on libcurl's URL parser, and the share client's parsers
// that stand on it: share links, durations, media types.
#include <doctest/doctest.h>

#include "shcx/base64url.h"
#include "shcx/http_client.h"
#include "shcx/share/client.h"
#include "shcx/url.h"
#include "support.h"

using namespace shcx;

TEST_CASE("allowed: https anywhere, http only to loopback hosts") {
    for (const char* ok : {"https://share.example", "https://share.example:8443/prefix/", "http://127.0.0.1:8080/x",
                           "http://127.0.0.1", "http://127.1.2.3/", "http://localhost:1/", "http://LOCALHOST/",
                           "http://[::1]:9/", "HTTPS://Share.Example/"}) {
        CAPTURE(ok);
        CHECK_FALSE(url::check_allowed(ok).has_value());
        CHECK(http::url_allowed(ok));
    }
    for (const char* refused :
         {"http://share.example/", "http://127.0.0.1.evil.example/", "http://localhost.evil.example/",
          "http://128.0.0.1/", "http://[::2]/", "ftp://127.0.0.1/", "http://0x7f000001.example/"}) {
        CAPTURE(refused);
        auto e = url::check_allowed(refused);
        REQUIRE(e.has_value());
        CHECK((e->code == ErrorCode::URL_REFUSED || e->code == ErrorCode::URL_INVALID));
        CHECK_FALSE(http::url_allowed(refused));
    }
    CHECK(url::check_allowed("http://share.example/")->code == ErrorCode::URL_REFUSED);
    CHECK(url::check_allowed("not a url")->code == ErrorCode::URL_INVALID);
    CHECK(url::check_allowed("https://")->code == ErrorCode::URL_INVALID);
    CHECK(url::check_allowed("")->code == ErrorCode::URL_INVALID);
    CHECK(url::check_allowed(std::string("https://a.example/\0x", 21))->code == ErrorCode::URL_INVALID);
}

TEST_CASE("userinfo is refused whatever it says: the host after @ is the one curl would contact") {
    for (const char* sneaky :
         {"http://127.0.0.1:x@evil.example/", "http://127.0.0.1@evil.example/", "https://user:pass@share.example/",
          "http://user@127.0.0.1/", "http://localhost:80@evil.example:80/s/AAAAAAAAAAAAAAAAAAAAAA"}) {
        CAPTURE(sneaky);
        auto e = url::check_allowed(sneaky);
        REQUIRE(e.has_value());
        CHECK(e->code == ErrorCode::URL_REFUSED);
        CHECK(test::contains(e->message, "user name or password"));
        CHECK_FALSE(http::url_allowed(sneaky));
        CHECK(url::check_public_url(sneaky)->code == ErrorCode::URL_REFUSED);
    }
    auto parsed = url::parse("http://127.0.0.1:x@evil.example/").value();
    CHECK(parsed.host == "evil.example");
    CHECK(parsed.has_userinfo);
}

TEST_CASE("public URLs: the policy, and no query or fragment to build links on") {
    CHECK_FALSE(url::check_public_url("https://share.example").has_value());
    CHECK_FALSE(url::check_public_url("https://share.example/prefix").has_value());
    CHECK_FALSE(url::check_public_url("http://127.0.0.1:8443").has_value());
    auto plain = url::check_public_url("http://share.example");
    REQUIRE(plain.has_value());
    CHECK(plain->code == ErrorCode::URL_REFUSED);
    CHECK(test::contains(plain->message, "https://"));
    CHECK(url::check_public_url("https://share.example/?a=b")->code == ErrorCode::URL_REFUSED);
    CHECK(url::check_public_url("https://share.example/#x")->code == ErrorCode::URL_REFUSED);
    CHECK(url::check_public_url("https://share.example/?")->code == ErrorCode::URL_REFUSED);
}

TEST_CASE("origins: scheme, host and port, default ports filled in") {
    auto a = url::parse("https://Share.Example/a").value();
    auto b = url::parse("https://share.example:443/b?c").value();
    auto c = url::parse("http://share.example:443/").value();
    auto d = url::parse("https://share.example:8443/").value();
    CHECK(a.port == 443);
    CHECK(url::same_origin(a, b));
    CHECK_FALSE(url::same_origin(a, c));
    CHECK_FALSE(url::same_origin(a, d));
    CHECK(b.without_fragment() == "https://share.example/b?c");
    CHECK(d.origin() == "https://share.example:8443");
    CHECK(url::parse("http://[::1]:9/x#frag").value().without_fragment() == "http://[::1]:9/x");
}

TEST_CASE("share links: the key from the fragment, the PIN's address without it, anything else refused") {
    std::string key = base64url::encode(std::string(32, '\x42'));
    auto link = share::parse_link("https://share.example/s/AAAAAAAAAAAAAAAAAAAAAA#" + key);
    REQUIRE(link.ok());
    CHECK(link.value().post_url == "https://share.example/s/AAAAAAAAAAAAAAAAAAAAAA");
    CHECK(link.value().key.str() == std::string(32, '\x42'));
    auto prefixed = share::parse_link("http://127.0.0.1:8443/shcx/s/AAAAAAAAAAAAAAAAAAAAAA#" + key);
    REQUIRE(prefixed.ok());
    CHECK(prefixed.value().post_url == "http://127.0.0.1:8443/shcx/s/AAAAAAAAAAAAAAAAAAAAAA");

    CHECK(share::parse_link("hello").error().code == ErrorCode::SHARE_LINK_INVALID);
    CHECK(share::parse_link("https://share.example/x/AAAAAAAAAAAAAAAAAAAAAA#" + key).error().code ==
          ErrorCode::SHARE_LINK_INVALID);
    CHECK(share::parse_link("https://share.example/s/AAAA#" + key).error().code == ErrorCode::SHARE_LINK_INVALID);
    CHECK(share::parse_link("https://share.example/s/AAAAAAAAAAAAAAAAAAAAAA?x=1#" + key).error().code ==
          ErrorCode::SHARE_LINK_INVALID);
    auto no_key = share::parse_link("https://share.example/s/AAAAAAAAAAAAAAAAAAAAAA");
    CHECK(no_key.error().code == ErrorCode::SHARE_LINK_INVALID);
    CHECK(test::contains(no_key.error().message, "key"));
    CHECK(share::parse_link("https://share.example/s/AAAAAAAAAAAAAAAAAAAAAA#" + key.substr(1)).error().code ==
          ErrorCode::SHARE_LINK_INVALID);
    CHECK(share::parse_link("http://share.example/s/AAAAAAAAAAAAAAAAAAAAAA#" + key).error().code ==
          ErrorCode::URL_REFUSED);
    auto sneaky = share::parse_link("http://127.0.0.1:x@evil.example/s/AAAAAAAAAAAAAAAAAAAAAA#" + key);
    CHECK(sneaky.error().code == ErrorCode::URL_REFUSED);
    CHECK_FALSE(test::contains(sneaky.error().message, key));  // errors never show the key
}

TEST_CASE("link text from a file: trimmed text, the QR code of an image, nothing else") {
    CHECK(share::link_text_of("  https://share.example/s/x#y \r\n").value() == "https://share.example/s/x#y");
    CHECK(share::link_text_of(" \n").error().code == ErrorCode::SHARE_LINK_INVALID);
    CHECK(share::link_text_of(std::string(9000, 'a')).error().code == ErrorCode::SHARE_LINK_INVALID);
    auto png = test::read_file(test::testdata_dir() / "cards/covid-three-doses.png");
    auto text = share::link_text_of(png);
    REQUIRE(text.ok());
    CHECK(text.value().rfind("shc:/", 0) == 0);  // the QR's text, whatever it is
}

TEST_CASE("durations: s, m, h, d, combined, or bare seconds") {
    CHECK(share::parse_duration("45s") == 45);
    CHECK(share::parse_duration("90m") == 5400);
    CHECK(share::parse_duration("1h30m") == 5400);
    CHECK(share::parse_duration("6h") == 21600);
    CHECK(share::parse_duration("90d") == 90 * 86400);
    CHECK(share::parse_duration("120") == 120);
    CHECK(share::parse_duration("1h5") == 3605);
    for (const char* bad : {"", "h", "1x", "-5m", "1.5h", "1 h", "999999999999999999999999999999999"}) {
        CAPTURE(bad);
        CHECK_FALSE(share::parse_duration(bad).has_value());
    }
}

TEST_CASE("media types by content") {
    CHECK(share::media_type("%PDF-1.7 ...") == "application/pdf");
    CHECK(share::media_type(R"({"verifiableCredential":["x"]})") == "application/smart-health-card");
    CHECK(share::media_type(R"({"resourceType":"Bundle"})") == "application/fhir+json");
    CHECK(share::media_type(R"({"a":1})") == "application/json");
    CHECK(share::media_type("plain words\n") == "text/plain; charset=utf-8");
    CHECK(share::media_type(std::string("\x01\x02", 2)) == "application/octet-stream");
    CHECK(share::media_type(test::read_file(test::testdata_dir() / "cards/covid-three-doses.png")) == "image/png");
}
