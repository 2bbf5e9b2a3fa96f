// The share server's HTTP request parser (server_connection.cpp). Private to
// lib/shcx/share: includes Boost.Beast; include only from the server's .cpp files.
#pragma once

#include <utility>  // ahead of Boost: Boost 1.74's asio/awaitable.hpp uses std::exchange without it

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string>

#include "shcx/share/http_request.h"
#include "shcx/share/server.h"

namespace shcx::share {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

// Beast's push parser, keeping only what the Api reads: no header map grows with what a
// client sends (fields are counted and dropped), the body goes straight into the
// request, and a repeated Authorization or Content-Type is refused as ambiguous.
class RequestParser final : public http::basic_parser<true> {
public:
    explicit RequestParser(HttpRequest& out) : m_out(out) {
        header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
        body_limit(kMaxRequestBody);
    }
    std::string target, forwarded_for;
    int version = 11;
    bool expect_continue = false;

private:
    void on_request_impl(http::verb, beast::string_view method, beast::string_view tgt, int v, error_code&) override {
        m_out.method.assign(method.data(), method.size());
        target.assign(tgt.data(), tgt.size());
        version = v;
    }
    void on_response_impl(int, beast::string_view, int, error_code& ec) override { ec = http::error::bad_version; }
    void on_field_impl(http::field f, beast::string_view name, beast::string_view value, error_code& ec) override {
        if (++m_fields > kMaxHeaderFields) {
            ec = http::error::header_limit;
            return;
        }
        auto once = [&](bool& seen, std::string& into) {
            if (seen) ec = http::error::bad_field;
            seen = true;
            into.assign(value.data(), value.size());
        };
        if (f == http::field::content_type) once(m_seen_type, m_out.content_type);
        else if (f == http::field::authorization) once(m_seen_auth, m_out.authorization);
        else if (f == http::field::user_agent)
            m_out.user_agent.assign(value.data(), std::min<size_t>(value.size(), kMaxUserAgent));
        else if (f == http::field::expect) expect_continue = beast::iequals(value, "100-continue");
        else if (beast::iequals(name, "X-Forwarded-For")) {
            if (!forwarded_for.empty()) forwarded_for += ',';
            forwarded_for.append(value.data(), value.size());
        }
    }
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
        // Already checked against body_limit: reserving once means no reallocation leaves
        // a copy of the body (a PIN, a sealed record) in freed memory.
        if (length) m_out.body.reserve(static_cast<size_t>(*length));
    }
    std::size_t on_body_impl(beast::string_view s, error_code&) override {
        append_wiping(m_out.body, std::string_view(s.data(), s.size()));
        return s.size();
    }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view s, error_code&) override {
        append_wiping(m_out.body, std::string_view(s.data(), s.size()));
        return s.size();
    }
    void on_finish_impl(error_code&) override {}

    HttpRequest& m_out;
    size_t m_fields = 0;
    bool m_seen_type = false, m_seen_auth = false;
};

}  // namespace shcx::share
