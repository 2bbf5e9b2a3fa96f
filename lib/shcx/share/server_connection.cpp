// One HTTP/1.1 connection of the share server, plain or TLS (server_impl.h): deadlines,
// header and body caps, hand-off to the worker pool, the access-log line, and wiping of
// every buffer that held a request or a reply.
#include "shcx/share/server_impl.h"

#include <openssl/crypto.h>

#include <array>
#include <cstring>
#include <map>
#include <memory>

#include "shcx/share/request_parser.h"
#include "shcx/timeutil.h"

namespace shcx::share {
namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = asio::ssl::stream<beast::tcp_stream>;

const char* kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// One connection, plain or TLS. Every socket operation runs on the connection's strand;
// the parsed request is handed to the worker pool and the reply posted back.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

public:
    template <class... Args>
    Connection(ServerImpl& server, ServerImpl::Admission admission, IpAddress peer, Args&&... stream_args)
        : m_server(server),
          m_admission(std::move(admission)),
          m_peer(peer),
          m_stream(std::forward<Args>(stream_args)...) {}
    ~Connection() {
        wipe_buffer(false);
        wipe_request();
        wipe_string(m_response.body());
        wipe_string(m_reply.body);
    }

    void start() {
        if constexpr (kTls) {
            tcp().expires_after(seconds(m_server.cfg.request_timeout_s));
            m_stream.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
                if (ec) return self->close_now(ec);
                self->next_request();
            });
        } else {
            next_request();
        }
    }

private:
    beast::tcp_stream& tcp() {
        if constexpr (kTls) return m_stream.next_layer();
        else return m_stream;
    }

    void next_request() {
        wipe_request();
        m_parser.emplace(m_request);
        m_got_bytes = false;
        m_continue_sent = false;
        m_head = false;
        m_header_bytes = 0;
        m_log_method = "-";
        m_log_path = "-";
        m_client = format_ip(m_peer);
        // Waiting for a request costs a socket and a timer; the idle clock runs until its
        // first byte, then one deadline covers the rest of it, however it trickles in.
        tcp().expires_after(seconds(m_server.cfg.idle_timeout_s));
        if (m_buffer.size()) {  // pipelined: it has begun already
            m_got_bytes = true;
            tcp().expires_after(seconds(m_server.cfg.request_timeout_s));
        }
        parse_or_read();
    }

    // Beast's parser fed by hand (what http::async_read does inside), so that the first
    // byte of a request can switch the idle deadline to the request deadline, and the
    // request line and fields together can be held to kMaxHeaderBytes (Beast limits the
    // two separately).
    void parse_or_read() {
        while (m_buffer.size()) {
            bool header_was_done = m_parser->is_header_done();
            error_code ec;
            size_t used = m_parser->put(m_buffer.data(), ec);
            m_buffer.consume(used);
            if (!header_was_done) m_header_bytes += used;
            if (ec == http::error::need_more) {
                bool in_header = !m_parser->is_header_done();
                if (in_header && m_header_bytes + m_buffer.size() > kMaxHeaderBytes)
                    return on_read_error(http::error::header_limit);
                if (m_buffer.size() == m_buffer.max_size())  // a chunk header longer than the buffer
                    return on_read_error(in_header ? http::error::header_limit : http::error::bad_chunk);
                break;
            }
            if (ec) return on_read_error(ec);
            if (!header_was_done && m_header_bytes > kMaxHeaderBytes) return on_read_error(http::error::header_limit);
            if (m_parser->is_done()) return dispatch();
            if (m_parser->is_header_done() && m_parser->expect_continue && !m_continue_sent) {
                m_continue_sent = true;
                asio::async_write(m_stream, asio::buffer(kContinue, std::strlen(kContinue)),
                                  [self = this->shared_from_this()](error_code ec, std::size_t) {
                                      if (ec) return self->close_now(ec);
                                      self->parse_or_read();
                                  });
                return;
            }
            if (used == 0) break;
        }
        m_stream.async_read_some(
            m_buffer.prepare(m_buffer.max_size() - m_buffer.size()),
            [self = this->shared_from_this()](error_code ec, std::size_t n) { self->on_bytes(ec, n); });
    }

    void on_bytes(error_code ec, std::size_t n) {
        if (ec == beast::error::timeout) ++m_server.timed_out;
        if (ec) return close_now(ec);  // closed, reset or timed out: nothing to answer
        m_buffer.commit(n);
        if (!m_got_bytes && n) {
            m_got_bytes = true;
            tcp().expires_after(seconds(m_server.cfg.request_timeout_s));
        }
        parse_or_read();
    }

    // The request cannot be parsed or is over a limit: answer, then close (where the
    // next request would start is unknown).
    void on_read_error(error_code ec) {
        if (!m_parser->target.empty()) {
            m_log_method = escape_log_field(m_request.method);
            m_log_path = log_path(m_parser->target);
        }
        m_keep_alive = false;
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) return send_error(431);
        if (ec == http::error::body_limit) return send_error(413);
        send_error(400);
    }

    void dispatch() {
        RequestParser& p = *m_parser;
        m_keep_alive = p.keep_alive();
        m_version = p.version;
        m_log_method = escape_log_field(m_request.method);
        if (!decode_target(p.target, m_request)) {
            m_log_path = log_path(p.target);
            m_keep_alive = false;
            return send_error(400);
        }
        m_log_path = log_path(m_request.path);
        m_request.remote_addr = m_server.proxies.client_address(m_peer, p.forwarded_for);
        m_client = m_request.remote_addr;
        // HEAD is GET without the body: same status, headers and Content-Length.
        m_head = m_request.method == "HEAD";
        if (m_head) m_request.method = "GET";
        m_parser.reset();
        wipe_buffer(true);  // everything of this request (PIN, token) now lives in m_request
        if (!m_server.pool.try_post([self = this->shared_from_this()] { self->handle(); })) {
            ++m_server.busy;
            wipe_request();
            send_error(503);
        }
    }

    // On a worker thread; the connection does nothing else until the reply is posted.
    void handle() {
        HttpResponse r;
        try {
            r = m_server.api.handle(m_request);
        } catch (const std::exception& e) {
            m_server.log(std::string("handler failed: ") + e.what());
            r = HttpResponse{500, "application/json", "{\"error\":\"internal\"}\n", {}};
        } catch (...) {
            m_server.log("handler failed");
            r = HttpResponse{500, "application/json", "{\"error\":\"internal\"}\n", {}};
        }
        wipe_request();
        m_reply = std::move(r);
        // A short body is copied by the move and stays in r's own buffer: wipe it there.
        wipe_string(r.body);  // NOLINT(bugprone-use-after-move)
        ++m_server.replies_pending;
        asio::post(m_stream.get_executor(), [self = this->shared_from_this()] { self->write_reply(); });
    }

    void send_error(int status) {
        static const std::map<int, std::string> bodies = {
            {400, "bad_request"}, {413, "too_large"}, {431, "header_too_large"}, {503, "busy"}};
        m_reply = HttpResponse{status, "application/json", "{\"error\":\"" + bodies.at(status) + "\"}\n", {}};
        if (status == 503) m_reply.headers.push_back({"Retry-After", "1"});
        ++m_server.replies_pending;
        write_reply();
    }

    void write_reply() {
        m_response = {};
        m_response.version(m_version);
        m_response.result(static_cast<unsigned>(m_reply.status));
        if (!m_reply.content_type.empty()) m_response.set(http::field::content_type, m_reply.content_type);
        for (const auto& [k, v] : m_reply.headers) m_response.set(k, v);
        for (const auto& [k, v] : Api::security_headers()) m_response.set(k, v);
        m_response.keep_alive(m_keep_alive && !m_server.stopping);
        size_t size = m_reply.body.size();
        if (!m_head) m_response.body() = std::move(m_reply.body);
        wipe_string(m_reply.body);
        m_response.content_length(size);
        // Logged as the reply is committed: a stop right after it must not lose the line.
        m_server.log(timeutil::format_utc(timeutil::now()) + " " + m_server.service.client_tag(m_client) + " " +
                     m_log_method + " " + m_log_path + " " + std::to_string(m_reply.status) + " " +
                     std::to_string(m_head ? 0 : size));
        tcp().expires_after(seconds(m_server.cfg.write_timeout_s));
        http::async_write(m_stream, m_response,
                          [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(error_code ec) {
        wipe_string(m_response.body());
        --m_server.replies_pending;
        if (ec) return close_now(ec);
        if (!m_response.keep_alive()) return close_gracefully();
        next_request();
    }

    // After the last response: tell the peer, let it read what was sent, then close.
    // Closing with unread input would reset the connection and could destroy the
    // response in flight (a 413 arrives while the client is still sending its body).
    void close_gracefully() {
        tcp().expires_after(std::chrono::seconds(2));
        if constexpr (kTls) {
            m_stream.async_shutdown([self = this->shared_from_this()](error_code ec) { self->close_now(ec); });
        } else {
            error_code ignored;
            tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
            drain();
        }
    }
    void drain() {
        m_buffer.clear();
        tcp().async_read_some(m_buffer.prepare(m_buffer.max_size()),
                              [self = this->shared_from_this()](error_code ec, std::size_t n) {
                                  self->m_drained += n;
                                  if (ec || self->m_drained > kMaxRequestBody + kMaxHeaderBytes)
                                      return self->close_now(ec);
                                  self->drain();
                              });
    }
    void close_now(error_code = {}) {
        error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp().close();
    }

    // Overwrites the read buffer's whole storage, keeping (when asked) the bytes of a
    // pipelined next request that already arrived.
    void wipe_buffer(bool keep_unread) {
        std::array<char, kMaxHeaderBytes> keep;
        size_t n = keep_unread ? m_buffer.size() : 0;
        asio::buffer_copy(asio::buffer(keep.data(), n), m_buffer.data());
        m_buffer.clear();
        auto all = m_buffer.prepare(m_buffer.max_size());
        OPENSSL_cleanse(all.data(), all.size());
        if (n) {
            asio::buffer_copy(m_buffer.prepare(n), asio::buffer(keep.data(), n));
            m_buffer.commit(n);
            OPENSSL_cleanse(keep.data(), n);
        }
    }
    void wipe_request() {
        wipe_string(m_request.body);
        wipe_string(m_request.authorization);
        m_request.method.clear();
        m_request.path.clear();
        m_request.query.clear();
        m_request.content_type.clear();
        m_request.remote_addr.clear();
        m_request.user_agent.clear();
    }

    ServerImpl& m_server;
    ServerImpl::Admission m_admission;
    IpAddress m_peer;
    Stream m_stream;
    beast::flat_static_buffer<kMaxHeaderBytes> m_buffer;
    HttpRequest m_request;
    std::optional<RequestParser> m_parser;
    HttpResponse m_reply;
    http::response<http::string_body> m_response;
    int m_version = 11;
    bool m_keep_alive = false, m_head = false, m_got_bytes = false, m_continue_sent = false;
    size_t m_drained = 0, m_header_bytes = 0;
    std::string m_client, m_log_method, m_log_path;
};

}  // namespace

void start_connection(ServerImpl& server, ServerImpl::Admission admission, const IpAddress& peer, tcp::socket socket) {
    if (server.tls)
        std::make_shared<Connection<TlsStream>>(server, std::move(admission), peer, std::move(socket), *server.tls)
            ->start();
    else std::make_shared<Connection<PlainStream>>(server, std::move(admission), peer, std::move(socket))->start();
}

}  // namespace shcx::share
