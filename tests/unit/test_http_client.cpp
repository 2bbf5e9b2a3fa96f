// lib/shcx/http_client over real HTTP to an in-process server on 127.0.0.1.
#include <doctest/doctest.h>

#include "shcx/http_client.h"
#include "support.h"
#include "vci_server.h"

using namespace shcx;

TEST_CASE("only https://, and plain http:// to loopback, are allowed") {
    CHECK(http::url_allowed("https://example.org/x"));
    CHECK(http::url_allowed("http://127.0.0.1:8080/x"));
    CHECK(http::url_allowed("http://localhost/x"));
    CHECK(http::url_allowed("http://[::1]:1/"));
    CHECK_FALSE(http::url_allowed("https://"));
    CHECK_FALSE(http::url_allowed("http://example.org/"));
    CHECK_FALSE(http::url_allowed("http://127.0.0.1.example.org/"));
    CHECK_FALSE(http::url_allowed("http://localhostevil.example/"));
    CHECK_FALSE(http::url_allowed("ftp://127.0.0.1/"));
    CHECK_FALSE(http::url_allowed("file:///etc/passwd"));
    http::Request refused;
    refused.url = "http://example.org/";
    auto r = http::send(refused);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::NETWORK_ERROR);
    CHECK(test::contains(r.error().message, "refusing"));
}

TEST_CASE("send: the method, headers and body arrive as given" * doctest::test_suite("conformance")) {
    test::VciServer server;
    http::Request req;
    req.url = server.url() + "/echo";
    req.headers = {{"X-Test", "h1"}};
    CHECK(http::send(req).value().body == "GET h1 ");
    req.method = "POST";
    req.body = std::string("a\0b", 3);
    auto post = http::send(req);
    REQUIRE(post.ok());
    CHECK(post.value().status == 200);
    CHECK(post.value().body == std::string("POST h1 a\0b", 11));
    req.method = "DELETE";
    req.body.clear();
    CHECK(http::send(req).value().body == "DELETE h1 ");
}

TEST_CASE("send: status codes are responses, validators are returned and honoured" *
          doctest::test_suite("conformance")) {
    test::VciServer server;
    http::Request req;
    req.url = server.url() + "/vci_snapshot.json";
    auto first = http::send(req);
    REQUIRE(first.ok());
    CHECK(first.value().status == 200);
    CHECK(first.value().etag == "\"snapshot-v1\"");
    CHECK(first.value().body == test::read_file(test::vectors_dir() / "vci/vci_snapshot.json"));
    req.headers = {{"If-None-Match", first.value().etag}};
    auto again = http::send(req);
    REQUIRE(again.ok());
    CHECK(again.value().status == 304);
    CHECK(again.value().body.empty());
    CHECK(server.not_modified_sent() == 1);

    http::Request missing;
    missing.url = server.url() + "/no-such-file";
    CHECK(http::send(missing).value().status == 404);
    server.set_mode(test::VciServer::Mode::Error500);
    CHECK(http::send(http::Request{server.url() + "/vci_snapshot.json"}).value().status == 500);
}

TEST_CASE("send: a body past max_bytes is INPUT_TOO_LARGE, a cut-short body is NETWORK_ERROR" *
          doctest::test_suite("conformance")) {
    test::VciServer server;
    http::Request req;
    req.url = server.url() + "/vci_snapshot.json";
    req.max_bytes = 1000;
    auto big = http::send(req);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().code == ErrorCode::INPUT_TOO_LARGE);
    CHECK(test::contains(big.error().message, "1000 bytes"));

    server.set_mode(test::VciServer::Mode::Truncated);
    req.max_bytes = 8u << 20;
    auto cut = http::send(req);
    REQUIRE_FALSE(cut.ok());
    CHECK(cut.error().code == ErrorCode::NETWORK_ERROR);
}

TEST_CASE("send: progress is reported, and a closed port is NETWORK_ERROR" * doctest::test_suite("conformance")) {
    uint64_t last = 0;
    {
        test::VciServer server;
        http::Request req;
        req.url = server.url() + "/vci_snapshot.json";
        req.on_progress = [&](uint64_t now, uint64_t) { last = now; };
        REQUIRE(http::send(req).ok());
        // Progress arrives while the body does (curl reports at least once per transfer).
        CHECK(last > 0);
        CHECK(last <= test::read_file(test::vectors_dir() / "vci/vci_snapshot.json").size());
    }
    // Bind a port, then free it: nothing listens there now.
    std::string closed_url;
    {
        test::VciServer gone;
        closed_url = gone.url() + "/vci_snapshot.json";
    }
    http::Request req;
    req.url = closed_url;
    req.connect_timeout_s = 5;
    auto r = http::send(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::NETWORK_ERROR);
}
