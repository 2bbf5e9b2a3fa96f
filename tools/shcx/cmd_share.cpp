// shcx share serve|user|create|reveal|revoke|status: PIN-locked shares ("MedVault").
// The work is in lib/shcx/share (client.h for the client side); this file parses
// options, reads the PIN from the terminal and the token from $SHCX_SHARE_TOKEN, and
// prints. `share migrate` is in cmd_share_migrate.cpp.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_common.h"
#include "cmd_share_emergency.h"
#include "shcx/fsutil.h"
#include "shcx/http_client.h"
#include "shcx/issue/qr_write.h"
#include "shcx/read/image.h"
#include "shcx/read/qr_read.h"
#include "shcx/share/api.h"
#include "shcx/share/client.h"
#include "shcx/share/crypto.h"
#include "shcx/share/emergency_client.h"
#include "shcx/share/open_store.h"
#include "shcx/share/pepper.h"
#include "shcx/share/server.h"
#include "shcx/share/service.h"
#include "shcx/share/store.h"
#include "shcx/shl/link.h"
#include "shcx/shl/manifest.h"
#include "shcx/timeutil.h"
#include "shcx/url.h"

namespace shcx::cli {
namespace {

using Json = nlohmann::ordered_json;

struct ShareOptions {
    std::string db, pepper, server, token, public_url;
    std::string listen = "127.0.0.1:8443", tls_cert, tls_key, ready_file;
    int reveal_limit = 30, create_limit = share::kCreatesPerMinute, threads = 8;
    int max_connections = 2048, max_connections_per_address = 32;
    double sweep_interval = 60, idle_timeout = 5, request_timeout = 10;
    std::vector<std::string> trusted_proxies;
    unsigned kdf_memory_kib = 19456, kdf_passes = 2;
    bool init = false;
    std::string user_name, expires;
    std::string file, ttl = "6h", qr;
    int reveals = 1;
    bool json = false, shl = false;
    std::string label;
    std::string target, pin, out;
    std::string id;
    EmergencyOptions emergency;  // cmd_share_emergency.cpp
    bool ttl_given = false;
    std::string notify_url;               // create --emergency
    bool follow = false, ndjson = false;  // events
    int alert_attempts = share::AlertPolicy{}.max_attempts;
};

int fail(const Error& e, std::string_view context = {}) {
    print_error(e, context);
    return kFailure;
}

int usage(const std::string& msg) { return fail(make_error(ErrorCode::USAGE, msg)); }

std::string token_of(const ShareOptions& o) {
    if (!o.token.empty()) return o.token;
    const char* env = std::getenv("SHCX_SHARE_TOKEN");
    return env ? env : "";
}

struct LocalService {
    std::unique_ptr<share::Store> store;
    share::SystemClock clock;
    std::unique_ptr<share::Service> service;
};

// The database and its pepper (share::open_pepper decides whether one may be created).
Result<std::unique_ptr<LocalService>> open_local(const ShareOptions& o, share::PepperMode mode,
                                                 int create_limit = share::kCreatesPerMinute) {
    // With PostgreSQL several hosts share the store, so each must be given the one pepper:
    // making a new one on a host that lacks it would fail every PIN checked there. Only
    // --init makes one (with every instance stopped: docs/postgresql.md).
    if (share::is_postgres_uri(o.db)) {
        if (o.pepper.empty())
            return make_error(ErrorCode::USAGE,
                              "--pepper FILE is required with a PostgreSQL --db (the same file on every instance)");
        if (mode == share::PepperMode::CreateIfNew) mode = share::PepperMode::Existing;
        if (mode == share::PepperMode::Existing && !std::filesystem::exists(o.pepper))
            return make_error(ErrorCode::SHARE_PEPPER_MISSING,
                              "the pepper file " + o.pepper +
                                  " does not exist; with PostgreSQL, create it once"
                                  " (head -c 32 /dev/urandom > FILE; chmod 600 FILE) and copy it to every instance");
    }
    share::StoreOptions store_options;
    store_options.warn = [](std::string_view m) { print_warning(m); };
    auto store = share::open_store(o.db, store_options);
    if (!store) return store.error();
    auto local = std::make_unique<LocalService>();
    local->store = std::move(store.value());
    std::string path = o.pepper.empty() ? share::sqlite_path(o.db) + ".pepper" : o.pepper;
    auto pepper = share::open_pepper(path, *local->store, mode, local->clock.now());
    if (!pepper) return pepper.error();
    if (pepper.value().readable_by_others)
        print_warning("the pepper file " + path + " is readable by others; chmod 600 it");
    if (pepper.value().created)
        std::cerr << "shcx: created the pepper file " << path
                  << " (mode 0600): keep it, and keep it out of database backups\n";
    if (pepper.value().replaced)
        print_warning(
            "a new pepper: API tokens made before no longer work (issue new ones with `share user rotate`); " +
            std::to_string(pepper.value().shares_revoked) + " live share(s) revoked");
    share::ServiceConfig cfg;
    cfg.pepper = pepper.value().bytes.str();
    cfg.kdf.m_cost_kib = o.kdf_memory_kib;
    cfg.kdf.t_cost = o.kdf_passes;
    cfg.creates_per_minute = create_limit;
    local->service = std::make_unique<share::Service>(*local->store, local->clock, cfg);
    return local;
}

// --expires DURATION for a token: nullopt for none; false when malformed.
bool token_ttl(const ShareOptions& o, std::optional<double>& ttl) {
    if (o.expires.empty()) return true;
    ttl = share::parse_duration(o.expires);
    return ttl && *ttl > 0;
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
    auto want = static_cast<rlim_t>(cfg.max_connections) + kSpare;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want && rl.rlim_cur > rlim_t{2} * kSpare) {
        cfg.max_connections = static_cast<int>(rl.rlim_cur) - kSpare;
        print_warning("open-file limit " + std::to_string(rl.rlim_cur) + ": --max-connections lowered to " +
                      std::to_string(cfg.max_connections));
    }
}

int run_serve(const ShareOptions& o) {
    auto colon = o.listen.rfind(':');
    if (colon == std::string::npos) return usage("--listen must be HOST:PORT");
    share::ServerConfig cfg;
    cfg.host = o.listen.substr(0, colon);
    if (cfg.host.size() > 2 && cfg.host.front() == '[') cfg.host = cfg.host.substr(1, cfg.host.size() - 2);
    try {
        cfg.port = std::stoi(o.listen.substr(colon + 1));
    } catch (...) {
        return usage("--listen must be HOST:PORT");
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
    if (o.alert_attempts < 1 || o.alert_attempts > 100) return usage("--alert-attempts must be 1 to 100");
    cfg.alerts.max_attempts = o.alert_attempts;
    if (auto e = url::check_public_url(cfg.public_url)) return fail(*e);
    if (cfg.tls_cert.empty() != cfg.tls_key.empty()) return usage("--tls-cert and --tls-key go together");

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

    auto local = open_local(o, o.init ? share::PepperMode::Init : share::PepperMode::CreateIfNew, o.create_limit);
    if (!local) return fail(local.error());
    auto server = share::Server::start(*local.value()->service, cfg, stderr_log());
    if (!server) return fail(server.error());
    share::Server& srv = *server.value();
    std::thread waiter([&srv, &stop_signals] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        srv.stop();
    });
    // Listening: the kernel accepts connections from now on, so this is ready.
    std::optional<Error> ready_error;
    if (!o.ready_file.empty()) {
        ready_error = write_output(o.ready_file, srv.url() + "\n");
        if (o.ready_file == kStdoutPath) std::cout.flush();
    }
    if (ready_error) srv.stop();
    srv.run();
    // run() returns only after stop(); if the waiter did not call it, wake it.
    // SIGTERM is blocked in every thread: it wakes the waiter's sigwait, it ends nothing.
    if (ready_error) pthread_kill(waiter.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
    waiter.join();
    if (ready_error) return fail(*ready_error);
    return kOk;
}

int run_user_add(const ShareOptions& o) {
    std::optional<double> ttl;
    if (!token_ttl(o, ttl)) return usage("--expires must be a duration such as 90d, 12h or 30m");
    auto local = open_local(o, share::PepperMode::CreateIfNew);
    if (!local) return fail(local.error());
    auto token = local.value()->service->add_user(o.user_name, ttl);
    if (!token) return fail(token.error());
    std::cout << token.value().str() << "\n";
    std::cerr << "shcx: API token for \"" << o.user_name
              << "\" printed above; it is stored only as a hash and not shown again\n";
    return kOk;
}

int run_user_rotate(const ShareOptions& o) {
    std::optional<double> ttl;
    if (!token_ttl(o, ttl)) return usage("--expires must be a duration such as 90d, 12h or 30m");
    auto local = open_local(o, share::PepperMode::Existing);
    if (!local) return fail(local.error());
    auto token = local.value()->service->rotate_user(o.user_name, ttl);
    if (!token) return fail(token.error());
    std::cout << token.value().str() << "\n";
    std::cerr << "shcx: new API token for \"" << o.user_name
              << "\" printed above; the old one no longer works, and this one is not shown again\n";
    return kOk;
}

int run_user_remove(const ShareOptions& o) {
    auto local = open_local(o, share::PepperMode::Existing);
    if (!local) return fail(local.error());
    auto revoked = local.value()->service->remove_user(o.user_name);
    if (!revoked) return fail(revoked.error());
    std::cout << "Removed " << o.user_name << "; " << revoked.value() << " live share"
              << (revoked.value() == 1 ? "" : "s") << " revoked\n";
    return kOk;
}

int run_user_list(const ShareOptions& o) {
    auto local = open_local(o, share::PepperMode::Existing);
    if (!local) return fail(local.error());
    auto users = local.value()->service->list_users();
    auto when = [](const std::optional<double>& t, const char* none) {
        return t ? timeutil::format_utc(*t) : std::string(none);
    };
    if (o.json) {
        Json out = Json::array();
        for (const auto& u : users)
            out.push_back(
                {{"name", u.name},
                 {"created_at", timeutil::format_utc(u.created_at)},
                 {"last_used_at", u.last_used_at ? Json(timeutil::format_utc(*u.last_used_at)) : Json(nullptr)},
                 {"expires_at", u.expires_at ? Json(timeutil::format_utc(*u.expires_at)) : Json(nullptr)}});
        std::cout << out.dump(2) << "\n";
        return kOk;
    }
    size_t width = 4;
    for (const auto& u : users) width = std::max(width, u.name.size());
    std::cout << std::left << std::setw(static_cast<int>(width)) << "NAME"
              << "  CREATED               LAST USED             EXPIRES\n";
    double now = timeutil::now();
    for (const auto& u : users)
        std::cout << std::setw(static_cast<int>(width)) << u.name << "  " << std::setw(20)
                  << timeutil::format_utc(u.created_at) << "  " << std::setw(20) << when(u.last_used_at, "never")
                  << "  " << when(u.expires_at, "never") << (u.expires_at && *u.expires_at <= now ? " (expired)" : "")
                  << "\n";
    return kOk;
}

// An emergency owner command on --db or through --server with a token.
int with_emergency_owner(const ShareOptions& o, const std::function<int(const EmergencyOwner&)>& run) {
    if (o.db.empty() == o.server.empty()) return usage("give either --server URL (with --token) or --db FILE");
    if (!o.db.empty()) {
        auto local = open_local(o, share::PepperMode::Existing);
        if (!local) return fail(local.error());
        return run(EmergencyOwner{local.value()->service.get(), "", ""});
    }
    if (token_of(o).empty()) return usage("--token (or $SHCX_SHARE_TOKEN) is required with --server");
    return run(EmergencyOwner{nullptr, o.server, token_of(o)});
}

int run_create(const ShareOptions& o) {
    if (o.db.empty() == o.server.empty()) return usage("give either --server URL (with --token) or --db FILE");
    if (!o.emergency.emergency_file.empty() || !o.emergency.full_file.empty()) {
        if (!o.file.empty()) return usage("an emergency share takes --emergency SUMMARY and --full RECORD, not FILE");
        if (o.shl || o.reveals != 1) return usage("--shl and --reveals do not go with --emergency");
        if (o.emergency.emergency_file.empty()) return usage("--full RECORD goes with --emergency SUMMARY");
        return with_emergency_owner(o, [&](const EmergencyOwner& owner) {
            return run_emergency_create(owner, o.emergency,
                                        {o.public_url, o.ttl, o.label, o.qr, o.ttl_given, o.json, o.notify_url});
        });
    }
    if (!o.notify_url.empty()) return usage("--notify-url is for emergency shares (--emergency, --full)");
    if (o.file.empty()) return usage("FILE is required");
    auto ttl = share::parse_duration(o.ttl);
    if (!ttl || *ttl <= 0 || *ttl > share::kMaxTtlSeconds) return usage("--ttl must be more than 0 and at most 6h");
    if (o.reveals < 1 || o.reveals > 100) return usage("--reveals must be between 1 and 100");
    if (o.qr == kStdoutPath) return usage("--qr -: standard output carries the link and PIN; give a FILE");
    auto content = input::read_input_file(o.file, 1u << 20);
    if (!content) return fail(content.error());
    SecretString plaintext(std::move(content.value()));
    if (!o.shl && !o.label.empty()) return usage("--label goes with --shl");
    // A SMART Health Link file is a card or FHIR (docs/shl.md, "Making links"): other
    // records stay plain shares, which any content may be.
    if (o.shl) {
        auto type = share::media_type(plaintext.str());
        if (type != shl::kHealthCardType && type != shl::kFhirType)
            return fail(make_error(ErrorCode::SHARE_INVALID,
                                   "a SMART Health Link carries a SMART Health Card or FHIR JSON, and " + o.file +
                                       " is " + type + " (share it without --shl)"));
    }
    share::SealedRecord sealed = share::seal_record(plaintext.str());

    share::CreatedShare made;
    if (!o.db.empty()) {
        if (auto e = url::check_public_url(o.public_url))
            return fail(make_error(e->code, e->message + " (--public-url is needed with --db)"));
        auto local = open_local(o, share::PepperMode::Existing);
        if (!local) return fail(local.error());
        auto& svc = *local.value()->service;
        auto created = svc.create(svc.local_user(), sealed.jwe, o.reveals, *ttl);
        if (!created) return fail(created.error());
        std::string base = o.public_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        made = {created.value().id, base + "/s/" + created.value().sid, created.value().pin.str(),
                timeutil::format_utc(created.value().expires_at), created.value().reveals};
    } else {
        if (token_of(o).empty()) return usage("--token (or $SHCX_SHARE_TOKEN) is required with --server");
        auto created = share::ApiClient(o.server, token_of(o)).create(sealed.jwe, o.reveals, static_cast<long>(*ttl));
        if (!created) return fail(created.error());
        made = std::move(created.value());
    }
    std::string full_url = share::link_with_key(made.url, sealed.key);
    std::optional<share::ShlShare> shl_share;
    if (o.shl) {
        auto exp = timeutil::parse_time(made.expires_at);
        if (!exp) return fail(make_error(ErrorCode::SHARE_INVALID, "the server's expires_at is not a time"));
        auto made_shl = share::make_shl(made.url, sealed.key, static_cast<int64_t>(*exp), o.label);
        if (!made_shl) {
            // The share exists but its link cannot be an SHL: do not leave it live.
            if (!o.db.empty()) {
                if (auto local = open_local(o, share::PepperMode::Existing))
                    local.value()->service->revoke(made.id, -1, "local");
            } else {
                (void)share::ApiClient(o.server, token_of(o)).revoke(made.id);
            }
            return fail(made_shl.error());
        }
        shl_share = std::move(made_shl.value());
        // Phone cameras open the viewer URL; SHL apps take the shlink:/ after its '#'.
        secure_wipe(full_url);
        full_url = shl_share->viewer_url.str();
    }
    if (!o.qr.empty()) {
        auto sym = qr_write::encode_text(full_url);
        if (!sym) return fail(sym.error());
        bool svg = o.qr.size() > 4 && o.qr.compare(o.qr.size() - 4, 4, ".svg") == 0;
        std::string img = svg ? qr_write::render_svg({sym.value()}) : qr_write::render_png({sym.value()}, 8);
        if (auto e = fsutil::write_file_atomic(o.qr, img)) return fail(*e);
    }
    if (o.json) {
        Json out{{"id", made.id},
                 {"url", full_url},
                 {"challenge", made.pin},
                 {"expires_at", made.expires_at},
                 {"reveals", made.reveals}};
        if (shl_share) out["shlink"] = shl_share->shlink.str();
        std::cout << out.dump(2) << "\n";
        if (shl_share) secure_wipe(out["shlink"].get_ref<std::string&>());
        secure_wipe(out["url"].get_ref<std::string&>());
        secure_wipe(out["challenge"].get_ref<std::string&>());
    } else {
        std::cout << "URL:     " << full_url << "\n";
        if (shl_share)
            std::cout << "SHLink:  " << shl_share->shlink.str() << "   (the same link, for SMART Health Links apps)\n";
        std::cout << "PIN:     " << share::format_pin(made.pin)
                  << "   (tell it in person; do not send it with the link)\n"
                  << "Expires: " << made.expires_at << ", after " << made.reveals << " reveal"
                  << (made.reveals == 1 ? "" : "s") << "\n"
                  << "ID:      " << made.id << "   (for `shcx share status` / `shcx share revoke`)\n";
    }
    secure_wipe(made.pin);
    secure_wipe(full_url);
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

// `share reveal` of a SMART Health Link: the PIN is its passcode, checked for shape before
// anything is sent (a typo would cost one of the link's attempts); the one file is the record.
int reveal_shl(const ShareOptions& o, const SecretString& text) {
    auto link = shl::parse_link(text.str());
    if (!link) return fail(link.error());
    std::optional<SecretString> pin;
    if (link.value().passcode) {
        SecretString typed = read_pin(o);
        pin = share::normalise_pin(typed.str());
        if (!pin)
            return fail(make_error(ErrorCode::SHARE_PIN_MALFORMED,
                                   "a PIN is 8 characters: digits and letters except U (O reads as 0, I and L as 1)"));
    }
    shl::FetchOptions options;
    options.recipient = "shcx share reveal";
    options.passcode = pin ? &*pin : nullptr;
    options.now = timeutil::now();
    auto contents = shl::fetch(link.value(), options);
    if (!contents) {
        print_error(contents.error());
        switch (contents.error().code) {
            case ErrorCode::SHL_PASSCODE_WRONG:
            case ErrorCode::SHL_NOT_FOUND:
            case ErrorCode::SHL_EXPIRED: return kNegative;  // refused: the answer, not a failure
            default: return kFailure;
        }
    }
    auto& files = contents.value().files;
    if (!contents.value().errors.empty()) return fail(contents.value().errors.front().error);
    if (files.size() != 1)
        return fail(make_error(ErrorCode::SHL_INVALID, "the link holds " + std::to_string(files.size()) +
                                                           " files, not one record; `shcx decode` reads such links"));
    const shl::File& file = files.front();
    if (!o.out.empty()) {
        if (auto e = fsutil::write_file_atomic(o.out, file.content.str(), 0600)) return fail(*e);
        std::cerr << "shcx: wrote " << file.content.str().size() << " bytes (" << file.content_type << ") to " << o.out
                  << "\n";
    } else {
        std::cout << file.content.str();
        std::cout.flush();
    }
    return kOk;
}

int run_reveal(const ShareOptions& o) {
    SecretString text(o.target);
    std::error_code ec;
    if (std::filesystem::is_regular_file(o.target, ec)) {
        auto bytes = input::read_input_file(o.target);
        if (!bytes) return fail(bytes.error());
        SecretString held(std::move(bytes.value()));
        auto link_text = share::link_text_of(held.str());
        if (!link_text) return fail(link_text.error(), o.target);
        text = SecretString(std::move(link_text.value()));
    }
    if (shl::looks_like_link(text.str())) return reveal_shl(o, text);
    if (share::looks_like_emergency_link(text.str()))
        return run_emergency_reveal(
            text.str(), o.emergency, [&o] { return read_pin(o); }, o.out);
    if (!o.emergency.tier.empty() || o.emergency.break_glass)
        return usage("--tier and --break-glass are for emergency links (https://HOST/e/ID#...)");
    auto link = share::parse_link(text.str());
    if (!link) return fail(link.error());
    SecretString pin = read_pin(o);
    auto content = share::reveal(link.value(), pin.str());
    if (!content) {
        print_error(content.error());
        switch (content.error().code) {
            case ErrorCode::SHARE_WRONG_PIN:
            case ErrorCode::SHARE_NOT_FOUND:
            case ErrorCode::SHARE_RATE_LIMITED: return kNegative;  // refused: the answer, not a failure
            default: return kFailure;
        }
    }
    SecretString plaintext(std::move(content.value().plaintext));
    if (!o.out.empty() && o.out != kStdoutPath) {
        if (auto e = fsutil::write_file_atomic(o.out, plaintext.str(), 0600)) return fail(*e);
        std::cerr << "shcx: wrote " << plaintext.str().size() << " bytes (" << content.value().content_type << ") to "
                  << o.out << "\n";
    } else {
        std::cout << plaintext.str();
        std::cout.flush();
    }
    return kOk;
}

void print_status(const Json& status) {
    std::string state = status.value("state", "");
    int wrong = status.value("wrong_pins", 0), left = status.value("attempts_left", 0);
    std::cout << "ID:       " << status.value("id", "") << "\n"
              << "State:    " << state;
    if (state == "destroyed")
        std::cout << ": " << wrong << " wrong PIN" << (wrong == 1 ? " was" : "s were")
                  << " entered, so the record was wiped; share it again with a new link";
    std::cout << "\n"
              << "Created:  " << status.value("created_at", "") << "\n"
              << "Expires:  " << status.value("expires_at", "") << "\n"
              << "Reveals:  " << status.value("reveals_left", 0) << " of " << status.value("reveals", 0) << " left\n"
              << "Attempts: " << left << " wrong PIN" << (left == 1 ? "" : "s") << " left (" << wrong << " entered)\n"
              << "Events:\n";
    for (const auto& e : status.value("events", Json::array()))
        std::cout << "  " << e.value("at", "") << "  " << e.value("event", "")
                  << (e.value("client", "").empty() ? "" : "  client " + e.value("client", "")) << "\n";
}

int run_owner_op(const ShareOptions& o, bool revoke) {
    if (o.db.empty() == o.server.empty()) return usage("give either --server URL (with --token) or --db FILE");
    Json status;
    if (!o.db.empty()) {
        auto local = open_local(o, share::PepperMode::Existing);
        if (!local) return fail(local.error());
        auto& svc = *local.value()->service;
        if (revoke) {
            if (!svc.revoke(o.id, -1, "local"))
                return fail(make_error(ErrorCode::SHARE_NOT_FOUND, "no live share with id " + o.id));
        } else {
            auto em = svc.emergency_status(o.id, -1);
            auto st = em ? std::optional<share::ShareStatus>(em->share) : svc.status(o.id, -1);
            if (!st) return fail(make_error(ErrorCode::SHARE_NOT_FOUND, "no share with id " + o.id));
            status = Json::parse(em ? share::emergency_status_json(*em) : share::status_json(*st));
        }
    } else {
        if (token_of(o).empty()) return usage("--token (or $SHCX_SHARE_TOKEN) is required with --server");
        share::ApiClient api(o.server, token_of(o));
        if (revoke) {
            if (auto e = api.revoke(o.id)) return fail(*e);
        } else {
            auto body = api.status_json(o.id);
            if (!body) return fail(body.error());
            status = Json::parse(body.value());  // ApiClient checked it is a JSON object
        }
    }
    if (revoke) {
        if (o.json) std::cout << Json{{"id", o.id}, {"state", "revoked"}}.dump(2) << "\n";
        else std::cout << "Revoked " << o.id << "\n";
    } else if (o.json) {
        std::cout << status.dump(2) << "\n";
    } else {
        print_status(status);
    }
    return kOk;
}

int run_events(const ShareOptions& o) {
    if (o.db.empty() == o.server.empty()) return usage("give either --server URL (with --token) or --db FILE");
    EventsArgs args{o.follow, o.json, o.ndjson, 1};
    if (!o.db.empty()) {
        auto local = open_local(o, share::PepperMode::Existing);
        if (!local) return fail(local.error());
        auto& svc = *local.value()->service;
        return run_emergency_events(
            o.id,
            [&]() -> Result<std::string> {
                auto em = svc.emergency_status(o.id, -1);
                if (!em) return make_error(ErrorCode::SHARE_NOT_FOUND, "no emergency share with id " + o.id);
                return share::emergency_status_json(*em);
            },
            args);
    }
    if (token_of(o).empty()) return usage("--token (or $SHCX_SHARE_TOKEN) is required with --server");
    share::ApiClient api(o.server, token_of(o));
    return run_emergency_events(
        o.id, [&] { return api.status_json(o.id); }, args);
}

}  // namespace

void setup_share(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<ShareOptions>();
    auto* share = app.add_subcommand("share", "PIN-locked one-time links to a record (server and client)");
    share->require_subcommand(1);
    auto local_opts = [&](CLI::App* c, bool required) {
        auto* db = c->add_option("--db", o->db, "Share store: a SQLite file, or a postgresql:// URI");
        if (required) db->required();
        c->add_option("--pepper", o->pepper,
                      "Pepper file (default: DB.pepper; created with a new database, mode 0600)");
    };
    auto remote_opts = [&](CLI::App* c) {
        c->add_option("--server", o->server, "Share server base URL");
        c->add_option("--token", o->token, "API token (or $SHCX_SHARE_TOKEN)");
        c->add_flag("--json", o->json, "Print JSON");
    };

    auto* serve = share->add_subcommand("serve", "Run the share server");
    local_opts(serve, true);
    serve->add_option("--listen", o->listen, "HOST:PORT to listen on (PORT 0: any free port)")->capture_default_str();
    serve->add_option("--public-url", o->public_url, "Base URL in links (https://, or http:// for loopback)")
        ->required();
    serve->add_option("--tls-cert", o->tls_cert, "Serve TLS with this certificate (PEM)");
    serve->add_option("--tls-key", o->tls_key, "... and this private key (PEM)");
    serve->add_option("--reveal-limit", o->reveal_limit, "Reveal attempts per client address per minute")
        ->capture_default_str();
    serve->add_option("--create-limit", o->create_limit, "Shares each user may create per minute")
        ->capture_default_str();
    serve->add_option("--sweep-interval", o->sweep_interval, "Seconds between sweeps of expired shares")
        ->capture_default_str();
    serve->add_option("--threads", o->threads, "Handler threads (Argon2id, database); I/O never waits for them")
        ->capture_default_str();
    serve->add_option("--max-connections", o->max_connections, "Open connections at most, in total")
        ->capture_default_str();
    serve
        ->add_option("--max-connections-per-address", o->max_connections_per_address,
                     "Open connections at most per client address (trusted proxies exempt)")
        ->capture_default_str();
    serve->add_option("--idle-timeout", o->idle_timeout, "Seconds a connection may wait before sending a request")
        ->capture_default_str();
    serve->add_option("--request-timeout", o->request_timeout, "Seconds from a request's first byte to its last")
        ->capture_default_str();
    serve->add_option("--trusted-proxy", o->trusted_proxies,
                      "CIDR of a reverse proxy whose X-Forwarded-For names the client (repeatable)");
    serve
        ->add_option("--alert-attempts", o->alert_attempts,
                     "Break-glass alerts: attempts before one is given up (retried after 1 s, 2 s, 4 s ... 10 min)")
        ->capture_default_str();
    serve->add_option("--kdf-memory", o->kdf_memory_kib, "Argon2id memory per evaluation, KiB")->capture_default_str();
    serve->add_option("--kdf-passes", o->kdf_passes, "Argon2id passes")->capture_default_str();
    serve->add_option("--ready-file", o->ready_file,
                      "Write the listening URL to FILE once ready (- for standard output)");
    serve->add_flag("--init", o->init,
                    "Create a new pepper file for a database whose pepper is lost (tokens and shares made with the old "
                    "one stop working)");
    serve->callback([o, &exit_code] { exit_code = run_serve(*o); });

    auto* user = share->add_subcommand("user", "Manage API users and their tokens");
    user->require_subcommand(1);
    auto* add = user->add_subcommand("add", "Create an API user and print its token (once)");
    add->add_option("NAME", o->user_name, "User name")->required();
    add->add_option("--expires", o->expires, "The token expires after DURATION (e.g. 90d, 12h); default never");
    local_opts(add, true);
    add->callback([o, &exit_code] { exit_code = run_user_add(*o); });
    auto* list = user->add_subcommand("list", "List API users: created, last used, expiry (never the tokens)");
    local_opts(list, true);
    list->add_flag("--json", o->json, "Print JSON");
    list->callback([o, &exit_code] { exit_code = run_user_list(*o); });
    auto* rotate = user->add_subcommand("rotate", "Print a new token for a user (once); the old one stops working");
    rotate->add_option("NAME", o->user_name, "User name")->required();
    rotate->add_option("--expires", o->expires, "The new token expires after DURATION; default never");
    local_opts(rotate, true);
    rotate->callback([o, &exit_code] { exit_code = run_user_rotate(*o); });
    auto* remove =
        user->add_subcommand("remove", "Remove a user: its token stops working, its live shares are revoked");
    remove->add_option("NAME", o->user_name, "User name")->required();
    local_opts(remove, true);
    remove->callback([o, &exit_code] { exit_code = run_user_remove(*o); });

    auto* create = share->add_subcommand("create", "Share a file: prints a one-time URL and a PIN");
    create->add_option("FILE", o->file, "The record: .smart-health-card, FHIR JSON, PDF, text ...");
    local_opts(create, false);
    remote_opts(create);
    create->add_option("--public-url", o->public_url, "Base URL for links (with --db)");
    create->add_option("--reveals", o->reveals, "How many times it can be revealed")->capture_default_str();
    create->add_option("--ttl", o->ttl, "Lifetime, at most 6h (e.g. 30m, 2h, 1h30m); emergency: at most 5y, default 1y")
        ->capture_default_str()
        ->each([o](const std::string&) { o->ttl_given = true; });
    create->add_option("--emergency", o->emergency.emergency_file,
                       "An emergency share: SUMMARY (FHIR or SHC) readable with the link alone");
    create->add_option("--full", o->emergency.full_file,
                       "... and RECORD, the full record, behind the PIN or break glass");
    create->add_option("--qr", o->qr, "Also write the URL as a QR code (PNG, or SVG by extension)");
    create->add_flag("--shl", o->shl,
                     "Make the share a SMART Health Link (flag P, the PIN as passcode): the URL opens the PIN page as "
                     "a viewer, and --json adds \"shlink\"");
    create->add_option("--label", o->label, "With --shl or --emergency: the link's label (at most 80 characters)");
    create->add_option("--notify-url", o->notify_url,
                       "With --emergency: POST a signed alert to this https:// URL on every break glass");
    create->callback([o, &exit_code] { exit_code = run_create(*o); });

    auto* reveal = share->add_subcommand("reveal", "Open a share link (or a QR image of one) with its PIN");
    reveal
        ->add_option("LINK", o->target,
                     "https://HOST/s/ID#KEY, a SMART Health Link (shlink:/... or a viewer URL), or an image or text "
                     "file holding one")
        ->required();
    reveal->add_option("--pin", o->pin, "The PIN (else asked on the terminal, or read from stdin)");
    reveal->add_option("-o,--out", o->out, "Write the record to FILE (mode 0600) instead of stdout (- is stdout)");
    reveal->add_option("--tier", o->emergency.tier, "Emergency links: emergency (no PIN) or full (the default)");
    reveal->add_flag(
        "--break-glass", o->emergency.break_glass,
        "Emergency links: the full tier without the PIN, with --attest (recorded in the share's access log)");
    reveal->add_option("--attest", o->emergency.attest, "With --break-glass: \"NAME; ROLE; REASON\"");
    reveal->callback([o, &exit_code] { exit_code = run_reveal(*o); });

    auto* revoke = share->add_subcommand("revoke", "Kill a share now (owner)");
    revoke->add_option("ID", o->id, "Share id from create")->required();
    local_opts(revoke, false);
    remote_opts(revoke);
    revoke->callback([o, &exit_code] { exit_code = run_owner_op(*o, true); });

    auto* status = share->add_subcommand("status", "State, attempts and audit events of a share (owner)");
    status->add_option("ID", o->id, "Share id from create")->required();
    local_opts(status, false);
    remote_opts(status);
    status->callback([o, &exit_code] { exit_code = run_owner_op(*o, false); });

    auto* rekey = share->add_subcommand("rotate", "Give an emergency share a new link and QR; the old one dies");
    rekey->add_option("ID", o->id, "Share id from create")->required();
    rekey->add_option("--emergency", o->emergency.emergency_file, "SUMMARY, as at create")->required();
    rekey->add_option("--full", o->emergency.full_file, "RECORD, as at create")->required();
    rekey->add_option("--public-url", o->public_url, "Base URL for links (with --db)");
    rekey->add_option("--qr", o->qr, "Also write the new URL as a QR code (PNG, or SVG by extension)");
    rekey->add_option("--notify-url", o->notify_url, "Break-glass alerts go here (default: the old share's URL)");
    local_opts(rekey, false);
    remote_opts(rekey);
    rekey->callback([o, &exit_code] {
        exit_code = with_emergency_owner(*o, [&](const EmergencyOwner& owner) {
            return run_emergency_rotate(owner, o->id, o->emergency,
                                        {o->public_url, o->ttl, "", o->qr, false, o->json, o->notify_url});
        });
    });

    auto* resume = share->add_subcommand("resume", "Let break glass work again on an emergency share (owner)");
    resume->add_option("ID", o->id, "Share id from create")->required();
    local_opts(resume, false);
    resume->add_option("--server", o->server, "Share server base URL");
    resume->add_option("--token", o->token, "API token (or $SHCX_SHARE_TOKEN)");
    resume->callback([o, &exit_code] {
        exit_code =
            with_emergency_owner(*o, [&](const EmergencyOwner& owner) { return run_emergency_resume(owner, o->id); });
    });

    auto* events =
        share->add_subcommand("events", "Print an emergency share's access log; --follow streams new accesses (owner)");
    events->add_option("ID", o->id, "Share id from create")->required();
    events->add_flag("--follow", o->follow, "Keep printing new accesses until the share dies or SIGINT/SIGTERM");
    local_opts(events, false);
    events->add_option("--server", o->server, "Share server base URL");
    events->add_option("--token", o->token, "API token (or $SHCX_SHARE_TOKEN)");
    auto* json_flag = events->add_flag("--json", o->json, "Print the access log as one JSON document");
    events->add_flag("--ndjson", o->ndjson, "Print each access as one JSON object per line")->excludes(json_flag);
    events->callback([o, &exit_code] { exit_code = run_events(*o); });

    setup_share_migrate(*share, exit_code);
}

}  // namespace shcx::cli
