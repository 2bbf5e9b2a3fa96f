// shcx share serve|user add|create|reveal|revoke|status: PIN-locked shares ("MedVault").
// The record is encrypted here, under a key that only travels in the URL fragment; the
// server adds a PIN-bound outer layer and counts reveals (docs/share-protocol.md).
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_common.h"
#include "shcx/base64url.h"
#include "shcx/detail/json.h"
#include "shcx/fsutil.h"
#include "shcx/http_client.h"
#include "shcx/read/image.h"
#include "shcx/read/qr_read.h"
#include "shcx/issue/qr_write.h"
#include "shcx/share/api.h"
#include "shcx/share/crypto.h"
#include "shcx/share/open_store.h"
#include "shcx/share/server.h"
#include "shcx/share/service.h"
#include "shcx/share/store.h"
#include "shcx/timeutil.h"

namespace shcx::cli {
namespace {

using detail::Json;

struct ShareOptions {
    std::string db, pepper, server, token, public_url;
    std::string listen = "127.0.0.1:8443", tls_cert, tls_key, ready_file;
    int reveal_limit = 30, create_limit = share::kCreatesPerMinute, threads = 8;
    int max_connections = 2048, max_connections_per_address = 32;
    double sweep_interval = 60, idle_timeout = 5, request_timeout = 10;
    std::vector<std::string> trusted_proxies;
    unsigned kdf_memory_kib = 19456, kdf_passes = 2;
    std::string user_name;
    std::string file, ttl = "6h", qr;
    int reveals = 1;
    bool json = false;
    std::string target, pin, out;
    std::string id;
};

int fail(const std::string& msg) {
    print_error(msg);
    return kFailure;
}

// "6h", "90m", "1h30m", "45s" or plain seconds.
std::optional<double> parse_duration(const std::string& s) {
    if (s.empty()) return std::nullopt;
    double total = 0, value = 0;
    bool have_digits = false, any_unit = false;
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            value = value * 10 + (c - '0');
            have_digits = true;
            continue;
        }
        double unit = c == 'h' ? 3600 : c == 'm' ? 60 : c == 's' ? 1 : 0;
        if (!unit || !have_digits) return std::nullopt;
        total += value * unit;
        value = 0;
        have_digits = false;
        any_unit = true;
    }
    if (have_digits) total += value;  // trailing bare number: seconds
    else if (!any_unit) return std::nullopt;
    return total;
}

// The pepper file: 32 random bytes, created (mode 0600) on first use.
Result<SecretString> load_pepper(const std::string& path, bool create) {
    namespace fs = std::filesystem;
    if (create && !fs::exists(path)) {
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            SecretString p(share::random_bytes(32));
            bool ok = write(fd, p.str().data(), 32) == 32 && fsync(fd) == 0;
            close(fd);
            if (!ok) {
                unlink(path.c_str());
                return make_error(ErrorCode::IO_ERROR, "cannot write the pepper file " + path);
            }
        } else if (errno != EEXIST) {
            return make_error(ErrorCode::IO_ERROR, "cannot create the pepper file " + path + ": " + std::strerror(errno));
        }
    }
    auto bytes = input::read_input_file(path, 64);
    if (!bytes) return make_error(ErrorCode::IO_ERROR, "cannot read the pepper file " + path + " (run `share serve` once)");
    SecretString pepper(std::move(bytes.value()));
    if (pepper.str().size() != 32) return make_error(ErrorCode::IO_ERROR, "the pepper file " + path + " must hold 32 bytes");
    std::error_code ec;
    auto perms = fs::status(path, ec).permissions();
    if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none)
        print_warning("the pepper file " + path + " is readable by others; chmod 600 it");
    return pepper;
}

struct LocalService {
    std::unique_ptr<share::Store> store;
    share::SystemClock clock;
    std::unique_ptr<share::Service> service;
};

Result<std::unique_ptr<LocalService>> open_local(const ShareOptions& o, bool create_pepper,
                                                 int create_limit = share::kCreatesPerMinute) {
    // With PostgreSQL several hosts share the store, so each must be given the one pepper:
    // making a new one on a host that lacks it would fail every PIN checked there.
    if (share::is_postgres_uri(o.db)) {
        if (o.pepper.empty())
            return make_error(ErrorCode::USAGE, "--pepper FILE is required with a PostgreSQL --db (the same file on every instance)");
        if (!std::filesystem::exists(o.pepper))
            return make_error(ErrorCode::IO_ERROR, "the pepper file " + o.pepper + " does not exist; with PostgreSQL, create it once"
                              " (head -c 32 /dev/urandom > FILE; chmod 600 FILE) and copy it to every instance");
    }
    auto pepper = load_pepper(o.pepper.empty() ? share::sqlite_path(o.db) + ".pepper" : o.pepper, create_pepper);
    if (!pepper) return pepper.error();
    auto store = share::open_store(o.db);
    if (!store) return store.error();
    auto local = std::make_unique<LocalService>();
    local->store = std::move(store.value());
    share::ServiceConfig cfg;
    cfg.pepper = pepper.value().str();
    cfg.kdf.m_cost_kib = o.kdf_memory_kib;
    cfg.kdf.t_cost = o.kdf_passes;
    cfg.creates_per_minute = create_limit;
    local->service = std::make_unique<share::Service>(*local->store, local->clock, cfg);
    return local;
}

std::string media_type(const std::string& bytes) {
    if (bytes.rfind("%PDF-", 0) == 0) return "application/pdf";
    auto img = image::sniff(bytes);
    if (img == image::Format::Png) return "image/png";
    if (img == image::Format::Jpeg) return "image/jpeg";
    if (auto j = detail::parse_json(bytes); j && j->is_object()) {
        if (j->contains("verifiableCredential")) return "application/smart-health-card";
        if (j->contains("resourceType")) return "application/fhir+json";
        return "application/json";
    }
    bool text = std::all_of(bytes.begin(), bytes.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u >= 0x20 || c == '\n' || c == '\r' || c == '\t';
    });
    return text ? "text/plain; charset=utf-8" : "application/octet-stream";
}

std::string token_of(const ShareOptions& o) {
    if (!o.token.empty()) return o.token;
    const char* env = std::getenv("SHCX_SHARE_TOKEN");
    return env ? env : "";
}

http::Request api_request(const ShareOptions& o, const std::string& method, const std::string& path) {
    http::Request r;
    std::string base = o.server;
    while (!base.empty() && base.back() == '/') base.pop_back();
    r.url = base + path;
    r.method = method;
    r.headers.push_back({"Authorization", "Bearer " + token_of(o)});
    r.max_bytes = 1u << 20;
    r.total_timeout_s = 60;
    return r;
}

int http_failure(const http::Response& r, const std::string& what) {
    auto j = detail::parse_json(r.body);
    std::string msg = j ? detail::string_member(*j, "error").value_or(r.body) : r.body;
    if (r.status == 401) return fail(what + ": the server refused the token (HTTP 401)");
    if (r.status == 429) return fail(what + ": rate limited (" + msg + "); retry after " + r.retry_after + " s");
    return fail(what + ": HTTP " + std::to_string(r.status) + ": " + msg);
}

// The access log: each line is one write(2) under a mutex, so lines from concurrent
// connections never interleave or tear (the server has already escaped them).
share::LogFn stderr_log() {
    auto mutex = std::make_shared<std::mutex>();
    return [mutex](std::string_view line) {
        std::string out(line);
        out += '\n';
        std::lock_guard<std::mutex> lock(*mutex);
        for (size_t done = 0; done < out.size();) {
            ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            done += static_cast<size_t>(n);
        }
    };
}

// Each connection is a descriptor: lift the soft limit (often 1024) to fit the cap, or
// lower the cap to what the hard limit allows.
void fit_descriptor_limit(share::ServerConfig& cfg) {
    constexpr int kSpare = 64;  // database, log, listening socket, ...
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    auto want = static_cast<rlim_t>(cfg.max_connections + kSpare);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want && rl.rlim_cur > static_cast<rlim_t>(2 * kSpare)) {
        cfg.max_connections = static_cast<int>(rl.rlim_cur) - kSpare;
        print_warning("open-file limit " + std::to_string(rl.rlim_cur) + ": --max-connections lowered to " +
                      std::to_string(cfg.max_connections));
    }
}

int run_serve(const ShareOptions& o) {
    auto colon = o.listen.rfind(':');
    if (colon == std::string::npos) return fail("--listen must be HOST:PORT");
    share::ServerConfig cfg;
    cfg.host = o.listen.substr(0, colon);
    if (cfg.host.size() > 2 && cfg.host.front() == '[') cfg.host = cfg.host.substr(1, cfg.host.size() - 2);
    try {
        cfg.port = std::stoi(o.listen.substr(colon + 1));
    } catch (...) {
        return fail("--listen must be HOST:PORT");
    }
    cfg.public_url = o.public_url;
    cfg.tls_cert = o.tls_cert;
    cfg.tls_key = o.tls_key;
    cfg.reveal_limit_per_minute = o.reveal_limit;
    cfg.sweep_interval_s = o.sweep_interval;
    cfg.handler_threads = o.threads;
    cfg.max_connections = o.max_connections;
    cfg.max_connections_per_address = o.max_connections_per_address;
    cfg.idle_timeout_s = o.idle_timeout;
    cfg.request_timeout_s = o.request_timeout;
    cfg.trusted_proxies = o.trusted_proxies;
    if (auto e = share::check_public_url(cfg.public_url)) return fail(e->message);
    if (cfg.tls_cert.empty() != cfg.tls_key.empty()) return fail("--tls-cert and --tls-key go together");

    // Block the stop signals before any thread exists: every thread inherits the mask,
    // so SIGTERM/SIGINT from here on stay pending until the waiter below takes them,
    // whenever they come (during start-up too), and are never lost.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a closed stderr must not kill the server
    fit_descriptor_limit(cfg);

    auto local = open_local(o, true, o.create_limit);
    if (!local) return fail(local.error().message);
    auto server = share::Server::start(*local.value()->service, cfg, stderr_log());
    if (!server) return fail(server.error().message);
    share::Server& srv = *server.value();
    std::thread waiter([&srv, &stop_signals] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        srv.stop();
    });
    // Listening: the kernel accepts connections from now on, so this is ready.
    std::optional<Error> ready_error;
    if (!o.ready_file.empty()) ready_error = fsutil::write_file_atomic(o.ready_file, srv.url() + "\n");
    if (ready_error) srv.stop();
    srv.run();
    // run() returns only after stop(); if the waiter did not call it, wake it.
    if (ready_error) pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    if (ready_error) return fail(ready_error->message);
    return kOk;
}

int run_user_add(const ShareOptions& o) {
    auto local = open_local(o, true);
    if (!local) return fail(local.error().message);
    auto token = local.value()->service->add_user(o.user_name);
    if (!token) return fail(token.error().message);
    std::cout << token.value().str() << "\n";
    std::cerr << "shcx: API token for \"" << o.user_name << "\" printed above; it is stored only as a hash and not shown again\n";
    return kOk;
}

int run_create(const ShareOptions& o) {
    if (o.db.empty() == o.server.empty()) return fail("give either --server URL (with --token) or --db FILE");
    auto ttl = parse_duration(o.ttl);
    if (!ttl || *ttl <= 0 || *ttl > share::kMaxTtlSeconds) return fail("--ttl must be more than 0 and at most 6h");
    if (o.reveals < 1 || o.reveals > 100) return fail("--reveals must be between 1 and 100");
    auto content = input::read_input_file(o.file, 1u << 20);
    if (!content) return fail(o.file + ": " + content.error().message);
    SecretString plaintext(std::move(content.value()));
    SecretString key(share::random_bytes(32));
    std::string jwe = share::jwe_encrypt(key.str(), plaintext.str(), media_type(plaintext.str()));

    std::string id, url, pin, expires;
    int reveals = o.reveals;
    if (!o.db.empty()) {
        if (auto e = share::check_public_url(o.public_url)) return fail(e->message + " (needed with --db)");
        auto local = open_local(o, false);
        if (!local) return fail(local.error().message);
        auto& svc = *local.value()->service;
        auto created = svc.create(svc.local_user(), jwe, o.reveals, *ttl);
        if (!created) return fail(std::string(code_name(created.error().code)) + ": " + created.error().message);
        std::string base = o.public_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        id = created.value().id;
        url = base + "/s/" + created.value().sid;
        pin = created.value().pin.str();
        expires = timeutil::format_utc(created.value().expires_at);
    } else {
        if (token_of(o).empty()) return fail("--token (or $SHCX_SHARE_TOKEN) is required with --server");
        auto req = api_request(o, "POST",
                               "/api/v1/shares?reveals=" + std::to_string(o.reveals) +
                                   "&ttl=" + std::to_string(static_cast<long>(*ttl)));
        req.body = jwe;
        req.headers.push_back({"Content-Type", "application/jose"});
        auto r = http::get(req);
        if (!r) return fail(r.error().message);
        if (r.value().status != 201) return http_failure(r.value(), "create");
        auto j = detail::parse_json(r.value().body);
        if (!j) return fail("create: the server's answer is not JSON");
        id = detail::string_member(*j, "id").value_or("");
        url = detail::string_member(*j, "url").value_or("");
        pin = detail::string_member(*j, "challenge").value_or("");
        expires = detail::string_member(*j, "expires_at").value_or("");
        reveals = static_cast<int>(detail::integer_member(*j, "reveals").value_or(o.reveals));
        if (url.empty() || pin.empty()) return fail("create: the server's answer lacks url or challenge");
    }
    // The key travels only in the fragment, which browsers and HTTP clients never send.
    std::string full_url = url + "#" + base64url::encode(key.str());
    if (!o.qr.empty()) {
        auto sym = qr_write::encode_text(full_url);
        if (!sym) return fail(sym.error().message);
        bool svg = o.qr.size() > 4 && o.qr.compare(o.qr.size() - 4, 4, ".svg") == 0;
        std::string img = svg ? qr_write::render_svg({sym.value()}) : qr_write::render_png({sym.value()}, 8);
        if (auto e = fsutil::write_file_atomic(o.qr, img)) return fail(e->message);
    }
    if (o.json) {
        std::cout << Json{{"id", id}, {"url", full_url}, {"challenge", pin}, {"expires_at", expires}, {"reveals", reveals}}.dump(2)
                  << "\n";
    } else {
        std::cout << "URL:     " << full_url << "\n"
                  << "PIN:     " << pin << "   (tell it in person; do not send it with the link)\n"
                  << "Expires: " << expires << ", after " << reveals << " reveal" << (reveals == 1 ? "" : "s") << "\n"
                  << "ID:      " << id << "   (for `shcx share status` / `shcx share revoke`)\n";
    }
    secure_wipe(pin);
    return kOk;
}

// The PIN from --pin, the terminal (no echo), or a line of standard input.
SecretString read_pin(const ShareOptions& o) {
    if (!o.pin.empty()) return SecretString(o.pin);
    SecretString line;
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (isatty(STDIN_FILENO) && tty >= 0) {
        termios old{}, quiet{};
        tcgetattr(tty, &old);
        quiet = old;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        (void)!write(tty, "PIN: ", 5);
        tcsetattr(tty, TCSAFLUSH, &quiet);
        char c;
        while (read(tty, &c, 1) == 1 && c != '\n' && line.str().size() < 64) line.str() += c;
        tcsetattr(tty, TCSAFLUSH, &old);
        (void)!write(tty, "\n", 1);
    } else {
        std::getline(std::cin, line.str());
    }
    if (tty >= 0) close(tty);
    return line;
}

int run_reveal(const ShareOptions& o) {
    std::string url = o.target;
    if (std::filesystem::is_regular_file(o.target)) {
        auto bytes = input::read_input_file(o.target);
        if (!bytes) return fail(o.target + ": " + bytes.error().message);
        if (image::sniff(bytes.value()) != image::Format::None) {
            auto img = image::decode_gray(bytes.value());
            if (!img) return fail(o.target + ": " + img.error().message);
            auto texts = qr_read::read_qr_texts(img.value());
            if (texts.empty()) return fail(o.target + ": QR_NOT_FOUND: no QR code found in the image");
            url = texts.front();
        } else {
            url = bytes.value();
            while (!url.empty() && (url.back() == '\n' || url.back() == '\r' || url.back() == ' ')) url.pop_back();
        }
    }
    auto hash = url.find('#');
    auto s = url.find("/s/");
    if (hash == std::string::npos || s == std::string::npos || s > hash)
        return fail("not a share link (https://HOST/s/ID#KEY): " + url.substr(0, std::min<size_t>(url.size(), 60)));
    std::string base = url.substr(0, hash);
    SecretString key_b64(url.substr(hash + 1));
    auto key = base64url::decode(key_b64.str());
    if (!key || key->size() != 32) return fail("the link's key (after #) is damaged");
    SecretString key_bytes(std::move(*key));
    SecretString pin = read_pin(o);
    if (!share::normalise_pin(pin.str())) return fail("the PIN has 8 letters and digits");

    http::Request req;
    req.url = base;
    req.method = "POST";
    req.body = Json{{"challenge", pin.str()}}.dump();
    req.headers.push_back({"Content-Type", "application/json"});
    req.max_bytes = 4u << 20;
    auto r = http::get(req);
    secure_wipe(req.body);
    if (!r) return fail(r.error().message);
    switch (r.value().status) {
        case 200: break;
        case 403: print_error("SHARE_WRONG_PIN: wrong PIN"); return kNegative;
        case 404:
            print_error("SHARE_NOT_FOUND: the link is not valid (unknown, expired, already used, or revoked)");
            return kNegative;
        case 429:
            print_error("SHARE_RATE_LIMITED: too many attempts; retry after " + r.value().retry_after + " s");
            return kNegative;
        default: return fail("reveal: HTTP " + std::to_string(r.value().status));
    }
    auto content = share::jwe_decrypt(key_bytes.str(), r.value().body);
    if (!content) return fail(std::string(code_name(content.error().code)) + ": " + content.error().message);
    if (!o.out.empty()) {
        if (auto e = fsutil::write_file_atomic(o.out, content.value().plaintext, 0600)) return fail(e->message);
        std::cerr << "shcx: wrote " << content.value().plaintext.size() << " bytes (" << content.value().content_type
                  << ") to " << o.out << "\n";
    } else {
        std::cout << content.value().plaintext;
        std::cout.flush();
    }
    secure_wipe(content.value().plaintext);
    return kOk;
}

int run_owner_op(const ShareOptions& o, bool revoke) {
    if (o.db.empty() == o.server.empty()) return fail("give either --server URL (with --token) or --db FILE");
    Json status;
    if (!o.db.empty()) {
        auto local = open_local(o, false);
        if (!local) return fail(local.error().message);
        auto& svc = *local.value()->service;
        if (revoke) {
            if (!svc.revoke(o.id, -1, "local")) return fail("no live share with id " + o.id);
            status = {{"id", o.id}, {"state", "revoked"}};
        } else {
            auto st = svc.status(o.id, -1);
            if (!st) return fail("no share with id " + o.id);
            status = *detail::parse_json(share::status_json(*st));
        }
    } else {
        if (token_of(o).empty()) return fail("--token (or $SHCX_SHARE_TOKEN) is required with --server");
        auto r = http::get(api_request(o, revoke ? "DELETE" : "GET", "/api/v1/shares/" + o.id));
        if (!r) return fail(r.error().message);
        if (r.value().status == 404) return fail("no " + std::string(revoke ? "live " : "") + "share with id " + o.id);
        if (r.value().status != 200) return http_failure(r.value(), revoke ? "revoke" : "status");
        auto j = detail::parse_json(r.value().body);
        if (!j) return fail("the server's answer is not JSON");
        status = *j;
    }
    if (o.json || revoke) {
        if (o.json) std::cout << status.dump(2) << "\n";
        else std::cout << "Revoked " << o.id << "\n";
        return kOk;
    }
    std::cout << "ID:       " << status.value("id", "") << "\n"
              << "State:    " << status.value("state", "") << "\n"
              << "Created:  " << status.value("created_at", "") << "\n"
              << "Expires:  " << status.value("expires_at", "") << "\n"
              << "Reveals:  " << status.value("reveals_left", 0) << " of " << status.value("reveals", 0) << " left\n"
              << "Attempts: " << status.value("attempts_left", 0) << " wrong PINs left\n"
              << "Events:\n";
    for (const auto& e : status.value("events", Json::array()))
        std::cout << "  " << e.value("at", "") << "  " << e.value("event", "")
                  << (e.value("client", "").empty() ? "" : "  client " + e.value("client", "")) << "\n";
    return kOk;
}

}  // namespace

void setup_share(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<ShareOptions>();
    auto* share = app.add_subcommand("share", "PIN-locked one-time links to a record (server and client)");
    share->require_subcommand(1);
    auto local_opts = [&](CLI::App* c, bool required) {
        auto* db = c->add_option("--db", o->db, "Share store: a SQLite file, or a postgresql:// URI");
        if (required) db->required();
        c->add_option("--pepper", o->pepper, "Pepper file (default: DB.pepper; created by serve, mode 0600)");
    };
    auto remote_opts = [&](CLI::App* c) {
        c->add_option("--server", o->server, "Share server base URL");
        c->add_option("--token", o->token, "API token (or $SHCX_SHARE_TOKEN)");
        c->add_flag("--json", o->json, "Print JSON");
    };

    auto* serve = share->add_subcommand("serve", "Run the share server");
    local_opts(serve, true);
    serve->add_option("--listen", o->listen, "HOST:PORT to listen on (PORT 0: any free port)")->capture_default_str();
    serve->add_option("--public-url", o->public_url, "Base URL in links (https://, or http:// for loopback)")->required();
    serve->add_option("--tls-cert", o->tls_cert, "Serve TLS with this certificate (PEM)");
    serve->add_option("--tls-key", o->tls_key, "... and this private key (PEM)");
    serve->add_option("--reveal-limit", o->reveal_limit, "Reveal attempts per client address per minute")->capture_default_str();
    serve->add_option("--create-limit", o->create_limit, "Shares each user may create per minute")->capture_default_str();
    serve->add_option("--sweep-interval", o->sweep_interval, "Seconds between sweeps of expired shares")->capture_default_str();
    serve->add_option("--threads", o->threads, "Handler threads (Argon2id, database); I/O never waits for them")
        ->capture_default_str();
    serve->add_option("--max-connections", o->max_connections, "Open connections at most, in total")->capture_default_str();
    serve->add_option("--max-connections-per-address", o->max_connections_per_address,
                      "Open connections at most per client address (trusted proxies exempt)")
        ->capture_default_str();
    serve->add_option("--idle-timeout", o->idle_timeout, "Seconds a connection may wait before sending a request")
        ->capture_default_str();
    serve->add_option("--request-timeout", o->request_timeout, "Seconds from a request's first byte to its last")
        ->capture_default_str();
    serve->add_option("--trusted-proxy", o->trusted_proxies,
                      "CIDR of a reverse proxy whose X-Forwarded-For names the client (repeatable)");
    serve->add_option("--kdf-memory", o->kdf_memory_kib, "Argon2id memory per evaluation, KiB")->capture_default_str();
    serve->add_option("--kdf-passes", o->kdf_passes, "Argon2id passes")->capture_default_str();
    serve->add_option("--ready-file", o->ready_file, "Write the listening URL to FILE once ready");
    serve->callback([o, &exit_code] { exit_code = run_serve(*o); });

    auto* user = share->add_subcommand("user", "Manage API users");
    user->require_subcommand(1);
    auto* add = user->add_subcommand("add", "Create an API user and print its token (once)");
    add->add_option("NAME", o->user_name, "User name")->required();
    local_opts(add, true);
    add->callback([o, &exit_code] { exit_code = run_user_add(*o); });

    auto* create = share->add_subcommand("create", "Share a file: prints a one-time URL and a PIN");
    create->add_option("FILE", o->file, "The record: .smart-health-card, FHIR JSON, PDF, text ...")->required();
    local_opts(create, false);
    remote_opts(create);
    create->add_option("--public-url", o->public_url, "Base URL for links (with --db)");
    create->add_option("--reveals", o->reveals, "How many times it can be revealed")->capture_default_str();
    create->add_option("--ttl", o->ttl, "Lifetime, at most 6h (e.g. 30m, 2h, 1h30m)")->capture_default_str();
    create->add_option("--qr", o->qr, "Also write the URL as a QR code (PNG, or SVG by extension)");
    create->callback([o, &exit_code] { exit_code = run_create(*o); });

    auto* reveal = share->add_subcommand("reveal", "Open a share link (or a QR image of one) with its PIN");
    reveal->add_option("LINK", o->target, "https://HOST/s/ID#KEY, or an image or text file holding it")->required();
    reveal->add_option("--pin", o->pin, "The PIN (else asked on the terminal, or read from stdin)");
    reveal->add_option("-o,--out", o->out, "Write the record to FILE (mode 0600) instead of stdout");
    reveal->callback([o, &exit_code] { exit_code = run_reveal(*o); });

    auto* revoke = share->add_subcommand("revoke", "Kill a share now (owner)");
    revoke->add_option("ID", o->id, "Share id from create")->required();
    local_opts(revoke, false);
    remote_opts(revoke);
    revoke->callback([o, &exit_code] { exit_code = run_owner_op(*o, true); });

    auto* status = share->add_subcommand("status", "State and audit events of a share (owner)");
    status->add_option("ID", o->id, "Share id from create")->required();
    local_opts(status, false);
    remote_opts(status);
    status->callback([o, &exit_code] { exit_code = run_owner_op(*o, false); });

    setup_share_migrate(*share, exit_code);
}

}  // namespace shcx::cli
