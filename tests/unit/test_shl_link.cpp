// shl/link: the shlink:/ payload, each field valid and invalid; url.h's fetch policy; and
// input sniffing handing links over (text and QR) without opening them.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "shcx/base64url.h"
#include "shcx/issue/qr_write.h"
#include "shcx/read/input.h"
#include "shcx/shl/link.h"
#include "shcx/url.h"
#include "support.h"

using namespace shcx;
using nlohmann::json;

namespace {

const std::string kKeyBytes(32, '\x2a');
const std::string kKey = base64url::encode(kKeyBytes);  // 43 characters
const std::string kUrl = "https://shl.example.org/m/Y9xwkUdtmN9wwoJoN3ffJIhX2UGvCL1JnlPVNL3kDWM";

json base_payload() { return {{"url", kUrl}, {"key", kKey}}; }
std::string link_of(const json& payload) { return "shlink:/" + base64url::encode(payload.dump()); }

// The SHL_INVALID message for `payload`, which must be refused.
std::string refusal(const json& payload) {
    auto r = shl::parse_link(link_of(payload));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::SHL_INVALID);
    return r.error().message;
}

json with(const char* key, json value) {
    json p = base_payload();
    p[key] = std::move(value);
    return p;
}

}  // namespace

TEST_CASE("shl: a link with every field parses, and encode_link is its inverse") {
    std::string text = shl::encode_link({kUrl, kKeyBytes, 1893456000, "LP", "Back-to-school immunizations"});
    CHECK(text.rfind("shlink:/", 0) == 0);
    auto r = shl::parse_link(text);
    REQUIRE(r.ok());
    const auto& l = r.value();
    CHECK(l.url == kUrl);
    CHECK(l.key.str() == kKeyBytes);
    CHECK(l.exp == 1893456000);
    CHECK(l.flag == "LP");
    CHECK(l.long_term);
    CHECK(l.passcode);
    CHECK_FALSE(l.direct_file);
    CHECK(l.label == "Back-to-school immunizations");
    CHECK(l.version == 1);
    CHECK(l.viewer.empty());
    CHECK(shl::describe_flags(l) == "L (long-term), P (passcode)");

    auto minimal = shl::parse_link(link_of(base_payload()));
    REQUIRE(minimal.ok());
    CHECK_FALSE(minimal.value().exp.has_value());
    CHECK(minimal.value().flag.empty());
    CHECK(shl::describe_flags(minimal.value()) == "none");
}

TEST_CASE("shl: viewer URLs before #shlink:/ are accepted and kept, surrounding whitespace is not an error") {
    std::string bare = link_of(base_payload());
    for (std::string viewer : {"https://viewer.example/", "https://viewer.example.org", "http://localhost:8080/view"}) {
        auto r = shl::parse_link(viewer + "#" + bare + "\n");
        REQUIRE(r.ok());
        CHECK(r.value().viewer == viewer);
        CHECK(r.value().url == kUrl);
        CHECK(shl::looks_like_link(viewer + "#" + bare));
    }
    CHECK(shl::looks_like_link(bare));
    CHECK_FALSE(shl::looks_like_link("shc:/5676"));
    CHECK_FALSE(shl::looks_like_link("https://viewer.example/#shc:/5676"));
    CHECK_FALSE(shl::looks_like_link("ftp://viewer.example/#" + bare));
    CHECK_FALSE(shl::looks_like_link("see https://viewer.example/#" + bare));
    CHECK_FALSE(shl::looks_like_link("SHLINK:/" + bare.substr(8)));
}

TEST_CASE("shl: the link text itself: prefix, base64url, size, JSON object") {
    auto code_and_message = [](const std::string& text) {
        auto r = shl::parse_link(text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == ErrorCode::SHL_INVALID);
        return r.error().message;
    };
    CHECK(test::contains(code_and_message("shlnk:/abc"), "must start with shlink:/"));
    CHECK(code_and_message("shlink:/") == "the link has no payload after shlink:/");
    CHECK(code_and_message("shlink:/ab*d") == "the payload is not base64url");
    CHECK(code_and_message("shlink:/" + base64url::encode(base_payload().dump()) + "==") ==
          "the payload is padded base64url ('='); links use base64url without padding");
    CHECK(code_and_message("shlink:/" + std::string(4097, 'A')) == "the payload is longer than 4096 characters");
    CHECK(code_and_message("shlink:/" + base64url::encode("hello")) == "the payload is not a JSON object");
    CHECK(code_and_message("shlink:/" + base64url::encode("[1,2]")) == "the payload is not a JSON object");
    CHECK(code_and_message("shlink:/" + base64url::encode("{\"url\":\"\xff\"}")) == "the payload is not a JSON object");
}

TEST_CASE("shl: url: required, at most 128 characters, https (http only to loopback), no user:password@") {
    json p = base_payload();
    p.erase("url");
    CHECK(refusal(p) == "url: missing, or not a string");
    CHECK(refusal(with("url", 42)) == "url: missing, or not a string");
    std::string long_url = "https://shl.example.org/" + std::string(129 - 24, 'a');
    REQUIRE(long_url.size() == 129);
    CHECK(refusal(with("url", long_url)) == "url: 129 characters; the limit is 128");
    CHECK(shl::parse_link(link_of(with("url", long_url.substr(0, 128)))).ok());
    CHECK(refusal(with("url", "http://shl.example.org/m")) ==
          "url: only https:// URLs are fetched (http:// only to this machine)");
    CHECK(refusal(with("url", "ftp://shl.example.org/m")) == "url: only https:// URLs are fetched, not ftp://");
    CHECK(refusal(with("url", "https://user:pw@shl.example.org/m")) ==
          "url: a user name or password in a URL is not allowed");
    CHECK(refusal(with("url", "/m/relative")) == "url: not an absolute URL");
    CHECK(refusal(with("url", "https://shl.example.org/a b")) == "url: the URL contains spaces or control characters");
    for (const char* loopback :
         {"http://127.0.0.1:8080/m", "http://127.5.6.7/m", "http://localhost/m", "http://[::1]:99/m"})
        CHECK_MESSAGE(shl::parse_link(link_of(with("url", loopback))).ok(), loopback);
}

TEST_CASE("shl: key: 43 base64url characters of 32 bytes") {
    json p = base_payload();
    p.erase("key");
    CHECK(refusal(p) == "key: missing, or not a string");
    CHECK(refusal(with("key", 7)) == "key: missing, or not a string");
    CHECK(refusal(with("key", kKey.substr(0, 42))) == "key: 42 characters; it must be 43");
    CHECK(refusal(with("key", kKey + "A")) == "key: 44 characters; it must be 43");
    CHECK(refusal(with("key", kKey.substr(0, 42) + "+")) == "key: not the base64url of 32 bytes");
    // 43 characters carry 258 bits: the last two must be zero in a canonical encoding.
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string noncanonical = kKey;
    noncanonical.back() = alphabet[alphabet.find(kKey.back()) + 1];
    CHECK(refusal(with("key", noncanonical)) == "key: not the base64url of 32 bytes");
}

TEST_CASE("shl: exp: a positive number of seconds, expiry is checked against the clock given") {
    CHECK(refusal(with("exp", "1893456000")) == "exp: not a number");
    CHECK(refusal(with("exp", 0)) == "exp: must be a positive number of seconds since the epoch");
    CHECK(refusal(with("exp", -5)) == "exp: must be a positive number of seconds since the epoch");
    CHECK(test::contains(refusal(with("exp", 1893456000000LL)), "milliseconds instead of seconds"));
    auto fractional = shl::parse_link(link_of(with("exp", 1893456000.75)));
    REQUIRE(fractional.ok());
    CHECK(fractional.value().exp == 1893456000);

    auto l = shl::parse_link(link_of(with("exp", 1700000000)));
    REQUIRE(l.ok());
    CHECK_FALSE(shl::check_not_expired(l.value(), 1699999999.5));
    auto e = shl::check_not_expired(l.value(), 1700000000);
    REQUIRE(e);
    CHECK(e->code == ErrorCode::SHL_EXPIRED);
    CHECK(e->message == "the link expired at 2023-11-14T22:13:20Z (exp)");
    auto no_exp = shl::parse_link(link_of(base_payload()));
    CHECK_FALSE(shl::check_not_expired(no_exp.value(), 4e9));
}

TEST_CASE("shl: flag: distinct letters, U never with P, unknown letters are ignored") {
    CHECK(refusal(with("flag", 1)) == "flag: not a string");
    CHECK(refusal(with("flag", "PU")) == "flag: U (a single file, fetched with GET) cannot go with P");
    CHECK(refusal(with("flag", "LPU")) == "flag: U (a single file, fetched with GET) cannot go with P");
    CHECK(refusal(with("flag", "LL")) == "flag: 'L' twice");
    CHECK(refusal(with("flag", "lp")) == "flag: \"lp\" holds something other than letters A-Z");
    CHECK(refusal(with("flag", "L P")) == "flag: \"L P\" holds something other than letters A-Z");
    auto u = shl::parse_link(link_of(with("flag", "LU")));
    REQUIRE(u.ok());
    CHECK(u.value().direct_file);
    CHECK(u.value().long_term);
    CHECK_FALSE(u.value().passcode);
    auto unknown = shl::parse_link(link_of(with("flag", "LQ")));
    REQUIRE(unknown.ok());
    CHECK(shl::describe_flags(unknown.value()) == "L (long-term), Q (unknown, ignored)");
    CHECK(shl::parse_link(link_of(with("flag", ""))).ok());
}

TEST_CASE("shl: label: at most 80 characters (not bytes), no control characters") {
    CHECK(refusal(with("label", 5)) == "label: not a string");
    CHECK(shl::parse_link(link_of(with("label", std::string(80, 'x')))).ok());
    CHECK(refusal(with("label", std::string(81, 'x'))) == "label: longer than 80 characters");
    std::string accented;
    for (int i = 0; i < 80; ++i) accented += "\xC3\xA9";  // 80 x U+00E9, 160 bytes
    auto ok = shl::parse_link(link_of(with("label", accented)));
    REQUIRE(ok.ok());
    CHECK(ok.value().label == accented);
    CHECK(refusal(with("label", accented + "\xC3\xA9")) == "label: longer than 80 characters");
    CHECK(refusal(with("label", "red \x1b[31mALERT")) == "label: holds control characters");
    CHECK(refusal(with("label", "two\nlines")) == "label: holds control characters");
    CHECK(refusal(with("label", "c1 \xC2\x9b control")) == "label: holds control characters");
}

TEST_CASE("shl: v: absent or 1, other versions are not opened") {
    CHECK(shl::parse_link(link_of(with("v", 1))).ok());
    CHECK(refusal(with("v", 2)) == "v: version 2 is not supported (shcx reads version 1)");
    CHECK(refusal(with("v", "1")) == "v: not an integer");
    CHECK(refusal(with("v", 1.5)) == "v: not an integer");
}

TEST_CASE("shl: unknown members, extension and _underscored ones, are ignored") {
    json p = base_payload();
    p["extension"] = {{"x", 1}};
    p["_vendor"] = "anything";
    CHECK(shl::parse_link(link_of(p)).ok());
}

TEST_CASE("shl: url policy: what may be fetched, origins, query parameters") {
    CHECK_FALSE(url::fetch_problem("https://example.org/x"));
    CHECK_FALSE(url::fetch_problem("http://127.0.0.1:5/x"));
    CHECK_FALSE(url::fetch_problem("http://[::1]/x"));
    CHECK(url::fetch_problem("http://128.0.0.1/x") == "only https:// URLs are fetched (http:// only to this machine)");
    CHECK(url::fetch_problem("http://127.0.0.1.example.org/x") ==
          "only https:// URLs are fetched (http:// only to this machine)");
    CHECK(url::fetch_problem("https://a@example.org/") == "a user name or password in a URL is not allowed");
    CHECK(url::fetch_problem("file:///etc/passwd").has_value());
    CHECK(url::fetch_problem("example.org/x") == "not an absolute URL");
    CHECK(url::fetch_problem("https://example.org/\x01") == "the URL contains spaces or control characters");

    auto a = url::parse("HTTPS://Example.ORG/a?b#c");
    REQUIRE(a);
    CHECK(a.value().origin() == "https://example.org:443");
    CHECK(a.value().has_fragment);
    auto b = url::parse("https://example.org:443/other");
    REQUIRE(b);
    CHECK(a.value().origin() == b.value().origin());
    CHECK(url::parse("http://127.0.0.1:8080/").value().origin() == "http://127.0.0.1:8080");

    CHECK(url::with_query_param("https://example.org/f", "recipient", "Dr. A & B") ==
          "https://example.org/f?recipient=Dr.+A+%26+B");
    CHECK(url::with_query_param("https://example.org/f?x=1", "recipient", "shcx") ==
          "https://example.org/f?x=1&recipient=shcx");
    CHECK_FALSE(url::with_query_param("not a url", "a", "b"));
}

TEST_CASE("shl: input sniffing hands links over, from text and from QR images, without opening them") {
    std::string link = link_of(base_payload());
    auto text = input::extract_cards({{"link.txt", link + "\n"}});
    CHECK(text.cards.empty());
    CHECK(text.errors.empty());
    REQUIRE(text.links.size() == 1);
    CHECK(text.links[0].text == link);
    CHECK(text.links[0].origin == "link.txt");
    CHECK(text.links[0].kind == input::Kind::QrText);

    auto viewer = input::extract_cards({{"v.txt", "https://viewer.example/#" + link}});
    REQUIRE(viewer.links.size() == 1);
    CHECK(viewer.links[0].text == "https://viewer.example/#" + link);

    auto symbol = qr_write::encode_text("https://viewer.example/#" + link);
    REQUIRE(symbol.ok());
    auto image = input::extract_cards({{"link.png", qr_write::render_png({symbol.value()})}});
    CHECK(image.cards.empty());
    CHECK(image.errors.empty());
    REQUIRE(image.links.size() == 1);
    CHECK(image.links[0].text == "https://viewer.example/#" + link);
    CHECK(image.links[0].kind == input::Kind::Image);

    // Cards and links from several inputs keep their own lists, in input order.
    auto mixed = input::extract_cards({{"a", "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln"}, {"b", link}, {"c", link}});
    CHECK(mixed.cards.size() == 1);
    REQUIRE(mixed.links.size() == 2);
    CHECK(mixed.links[0].origin == "b");
    CHECK(mixed.links[1].origin == "c");
}
