// Boost.Beast over Asio (docs/share-server.md says why): a few I/O threads multiplex every
// connection, so slow or idle clients cost a socket and a timer, never a thread; handlers
// (Argon2id, SQLite) run on a separate bounded pool. Boost stays inside this file.
#include "shcx/share/server.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "shcx/share/api.h"
#include "shcx/share/http_request.h"
#include "shcx/timeutil.h"
#include "shcx/url.h"

namespace shcx::share {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using PlainStream = beast::tcp_stream;
using TlsStream = asio::ssl::stream<beast::tcp_stream>;

std::chrono::steady_clock::duration seconds(double s) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

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

// Runs handlers off the I/O threads; a full queue refuses instead of growing.
class WorkerPool {
public:
    bool try_post(std::function<void()> task) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_stopping || m_queue.size() >= m_capacity) return false;
            m_queue.push_back(std::move(task));
        }
        m_cv.notify_one();
        return true;
    }
    void start(int threads, size_t capacity) {
        m_capacity = capacity;
        for (int i = 0; i < threads; ++i) m_threads.emplace_back([this] { work(); });
    }
    void request_stop() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stopping = true;
        }
        m_cv.notify_all();
    }
    // Handlers running now (not queued ones).
    int running() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_running;
    }
    // Running handlers finish; queued ones are dropped (their connections close).
    void stop_and_join() {
        request_stop();
        for (auto& t : m_threads) t.join();
        m_threads.clear();
        std::deque<std::function<void()>> dropped;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            dropped.swap(m_queue);
        }
    }

private:
    void work() {
        for (;;) {
            std::function<void()> task;
            {
                std::unique_lock<std::mutex> lock(m_mutex);
                m_cv.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
                if (m_stopping) return;
                task = std::move(m_queue.front());
                m_queue.pop_front();
                ++m_running;
            }
            task();
            task = nullptr;  // what it held (the connection) goes before the count drops
            std::lock_guard<std::mutex> lock(m_mutex);
            --m_running;
        }
    }
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::function<void()>> m_queue;
    size_t m_capacity = 0;
    int m_running = 0;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
};

IpAddress peer_address(const asio::ip::address& a) {
    IpAddress out;
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), out.bytes.begin());
    } else if (a.to_v6().is_v4_mapped()) {
        auto b = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_bytes();
        std::copy(b.begin(), b.end(), out.bytes.begin());
    } else {
        auto b = a.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), out.bytes.begin());
        out.v6 = true;
    }
    return out;
}

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "unknown error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

const char* kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr auto kStopGrace = std::chrono::milliseconds(500);

}  // namespace

struct ServerImpl {
    ServerImpl(Service& s, const ServerConfig& c, LogFn l, TrustedProxies p)
        : service(s),
          cfg(c),
          log_fn(std::move(l)),
          proxies(std::move(p)),
          api(s, clock, c.public_url, c.reveal_limit_per_minute),
          ioc(c.io_threads),
          acceptor(ioc),
          accept_retry(ioc),
          sweep_timer(ioc),
          stop_timer(ioc) {}
    ~ServerImpl() {
        request_stop();
        ioc.stop();  // run() has returned, or never ran
        // Queued handlers hold connections whose sockets belong to the io_context.
        pool.stop_and_join();
    }

    void log(std::string_view line) { log_fn(escape_log_line(line)); }

    // No new connections or handlers; handlers already running finish and their replies
    // are handed to the kernel (a reveal that was granted is delivered), for at most
    // kStopGrace; then the I/O threads stop and every other connection is dropped.
    void request_stop() {
        if (stopping.exchange(true)) return;
        pool.request_stop();
        asio::post(ioc, [this] {
            error_code ignored;
            acceptor.close(ignored);
            accept_retry.cancel();
            sweep_timer.cancel();
            finish_stop(std::chrono::steady_clock::now() + kStopGrace);
        });
    }
    void finish_stop(std::chrono::steady_clock::time_point deadline) {
        if ((pool.running() == 0 && replies_pending == 0) || std::chrono::steady_clock::now() >= deadline) {
            ioc.stop();
            return;
        }
        stop_timer.expires_after(std::chrono::milliseconds(5));
        stop_timer.async_wait([this, deadline](error_code) { finish_stop(deadline); });
    }

    // Connection admission: a slot in the total, and one of the peer's own.
    struct Admission {
        ServerImpl* server = nullptr;
        std::string address;
        bool counted_per_address = false;
        Admission() = default;
        Admission(ServerImpl* s, std::string a, bool per)
            : server(s), address(std::move(a)), counted_per_address(per) {}
        Admission(Admission&& o) noexcept
            : server(std::exchange(o.server, nullptr)),
              address(std::move(o.address)),
              counted_per_address(o.counted_per_address) {}
        Admission& operator=(Admission&&) = delete;
        ~Admission() {
            if (server) server->release(address, counted_per_address);
        }
    };
    std::optional<Admission> admit(const IpAddress& peer, bool trusted) {
        std::string key = connection_group(peer);
        std::lock_guard<std::mutex> lock(admit_mutex);
        if (open_connections >= cfg.max_connections) {
            ++refused_total_cap;
            return std::nullopt;
        }
        if (!trusted) {
            int& n = per_address[key];
            if (n >= cfg.max_connections_per_address) {
                ++refused_address_cap;
                return std::nullopt;
            }
            ++n;
        }
        ++open_connections;
        return Admission(this, std::move(key), !trusted);
    }
    void release(const std::string& address, bool per) {
        std::lock_guard<std::mutex> lock(admit_mutex);
        --open_connections;
        if (per) {
            auto it = per_address.find(address);
            if (it != per_address.end() && --it->second <= 0) per_address.erase(it);
        }
    }

    void do_accept();
    void on_accept(error_code ec, tcp::socket socket);
    void schedule_sweep();
    void sweep();

    Service& service;
    ServerConfig cfg;
    LogFn log_fn;
    TrustedProxies proxies;
    SystemClock clock;
    Api api;
    std::optional<asio::ssl::context> tls;
    std::string url;

    std::mutex admit_mutex;
    std::map<std::string, int> per_address;
    int open_connections = 0;
    std::atomic<uint64_t> refused_total_cap{0}, refused_address_cap{0}, timed_out{0}, busy{0}, accept_errors{0};

    std::atomic<bool> stopping{false}, ran{false};
    std::atomic<int> replies_pending{0};  // from a handler's end until its reply is written
    WorkerPool pool;
    // Destroyed before everything above: pending handlers own the connections.
    asio::io_context ioc;
    tcp::acceptor acceptor;
    asio::steady_timer accept_retry, sweep_timer, stop_timer;
};

namespace {

using Impl = ServerImpl;

// One connection, plain or TLS. Every socket operation runs on the connection's strand;
// the parsed request is handed to the worker pool and the reply posted back.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

public:
    template <class... Args>
    Connection(Impl& server, Impl::Admission admission, IpAddress peer, Args&&... stream_args)
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
        wipe_string(r.body);
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

    Impl& m_server;
    Impl::Admission m_admission;
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

void ServerImpl::do_accept() {
    acceptor.async_accept(asio::make_strand(ioc),
                          [this](error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void ServerImpl::on_accept(error_code ec, tcp::socket socket) {
    if (stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
        // Out of descriptors or buffers: pause rather than spin; the backlog waits.
        ++accept_errors;
        accept_retry.expires_after(std::chrono::milliseconds(100));
        accept_retry.async_wait([this](error_code e) {
            if (!e) do_accept();
        });
        return;
    }
    // Admit before accepting the next one, so admission follows the order of arrival.
    error_code e;
    auto endpoint = socket.remote_endpoint(e);
    IpAddress peer = e ? IpAddress{} : peer_address(endpoint.address());
    std::optional<Admission> admission = e ? std::nullopt : admit(peer, proxies.trusts(peer));
    do_accept();
    if (!admission) return;  // gone already, or over a cap: closed here, before any byte is read
    socket.set_option(tcp::no_delay(true), e);
    if (tls)
        std::make_shared<Connection<TlsStream>>(*this, std::move(*admission), peer, std::move(socket), *tls)->start();
    else std::make_shared<Connection<PlainStream>>(*this, std::move(*admission), peer, std::move(socket))->start();
}

void ServerImpl::schedule_sweep() {
    sweep_timer.expires_after(seconds(cfg.sweep_interval_s));
    sweep_timer.async_wait([this](error_code ec) {
        if (ec || stopping) return;
        pool.try_post([this] { sweep(); });  // when every handler is busy, the next round catches up
        schedule_sweep();
    });
}

void ServerImpl::sweep() {
    try {
        int n = service.sweep();
        if (n) log("sweeper: " + std::to_string(n) + " expired share(s) wiped");
    } catch (const std::exception& e) {
        log(std::string("sweeper: ") + e.what());
    }
    // Refusals are counted, not logged one by one: a flood must not become a log flood.
    uint64_t total = refused_total_cap.exchange(0), per = refused_address_cap.exchange(0), slow = timed_out.exchange(0),
             full = busy.exchange(0), failed = accept_errors.exchange(0);
    if (total || per || slow || full || failed)
        log("guard: since the last sweep " + std::to_string(total) + " connection(s) refused over --max-connections, " +
            std::to_string(per) + " over --max-connections-per-address, " + std::to_string(slow) + " timed out, " +
            std::to_string(full) + " request(s) answered 503, " + std::to_string(failed) + " accept error(s)");
}

Server::Server(std::unique_ptr<ServerImpl> impl) : m(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::start(Service& service, const ServerConfig& cfg, LogFn log) {
    auto usage = [](const std::string& msg) { return make_error(ErrorCode::USAGE, msg); };
    if (auto e = url::check_public_url(cfg.public_url)) return *e;
    if (cfg.tls_cert.empty() != cfg.tls_key.empty()) return usage("--tls-cert and --tls-key go together");
    if (cfg.port < 0 || cfg.port > 65535) return usage("the port must be 0 to 65535");
    if (cfg.io_threads < 1 || cfg.io_threads > 64) return usage("I/O threads must be 1 to 64");
    if (cfg.handler_threads < 1 || cfg.handler_threads > 256) return usage("--threads must be 1 to 256");
    if (cfg.handler_queue < 1) return usage("the handler queue must hold at least 1 request");
    if (cfg.max_connections < 1) return usage("--max-connections must be at least 1");
    if (cfg.max_connections_per_address < 1) return usage("--max-connections-per-address must be at least 1");
    if (!(cfg.idle_timeout_s > 0 && cfg.request_timeout_s > 0 && cfg.write_timeout_s > 0 && cfg.sweep_interval_s > 0))
        return usage("timeouts and the sweep interval must be more than 0 seconds");
    auto proxies = TrustedProxies::parse(cfg.trusted_proxies);
    if (!proxies) return proxies.error();

    auto impl = std::make_unique<ServerImpl>(service, cfg, std::move(log), std::move(proxies.value()));
    if (!cfg.tls_cert.empty()) {
        impl->tls.emplace(asio::ssl::context::tls_server);
        SSL_CTX* ctx = impl->tls->native_handle();
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        // Decrypted requests are wiped from OpenSSL's record buffer once handed over;
        // idle connections give their buffers back; no client-started renegotiation.
        SSL_CTX_set_options(ctx, SSL_OP_CLEANSE_PLAINTEXT | SSL_OP_NO_RENEGOTIATION);
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        ERR_clear_error();
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg.tls_cert.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, cfg.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            return usage("cannot load --tls-cert / --tls-key: " + openssl_error());
    }

    std::string where = cfg.host + ":" + std::to_string(cfg.port);
    error_code ec;
    tcp::resolver resolver(impl->ioc);
    auto endpoints = resolver.resolve(cfg.host, std::to_string(cfg.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) return make_error(ErrorCode::IO_ERROR, "cannot listen on " + where + ": " + ec.message());
    bool listening = false;
    for (const auto& entry : endpoints) {
        auto& a = impl->acceptor;
        error_code e;
        a.open(entry.endpoint().protocol(), e);
        if (!e) a.set_option(tcp::acceptor::reuse_address(true), e);
        if (!e) a.bind(entry.endpoint(), e);
        if (!e) a.listen(asio::socket_base::max_listen_connections, e);
        if (!e) {
            listening = true;
            break;
        }
        ec = e;
        error_code ignored;
        a.close(ignored);
    }
    if (!listening) return make_error(ErrorCode::IO_ERROR, "cannot listen on " + where + ": " + ec.message());
    int port = impl->acceptor.local_endpoint().port();
    std::string host = cfg.host.find(':') != std::string::npos ? "[" + cfg.host + "]" : cfg.host;
    impl->url = std::string(impl->tls ? "https" : "http") + "://" + host + ":" + std::to_string(port);
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return m->acceptor.local_endpoint().port(); }

std::string Server::url() const { return m->url; }

void Server::stop() { m->request_stop(); }

void Server::run() {
    ServerImpl& s = *m;
    if (s.ran.exchange(true)) return;
    s.log("listening on " + s.url + ", public URL " + s.cfg.public_url);
    s.pool.start(s.cfg.handler_threads, static_cast<size_t>(s.cfg.handler_queue));
    s.do_accept();
    s.schedule_sweep();
    auto run_io = [&s] {
        // A handler that throws ends run(); keep serving unless we are stopping.
        for (;;) {
            try {
                s.ioc.run();
                return;
            } catch (const std::exception& e) {
                s.log(std::string("server: ") + e.what());
            }
        }
    };
    std::vector<std::thread> io;
    for (int i = 1; i < s.cfg.io_threads; ++i) io.emplace_back(run_io);
    run_io();
    for (auto& t : io) t.join();
    s.pool.stop_and_join();
    s.log("stopped");
}

}  // namespace shcx::share
