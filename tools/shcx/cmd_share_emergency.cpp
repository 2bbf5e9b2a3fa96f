// Emergency shares on the command line (docs/emergency.md): create, rotate, reveal.
#include "cmd_share_emergency.h"

#include <signal.h>

#include <cmath>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "shcx/fsutil.h"
#include "shcx/issue/qr_write.h"
#include "shcx/read/input.h"
#include "shcx/share/api.h"
#include "shcx/share/client.h"
#include "shcx/share/emergency_client.h"
#include "shcx/timeutil.h"
#include "shcx/url.h"

namespace shcx::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr double kDefaultEmergencyTtl = 365 * 86400.0;

int fail(const Error& e) {
    print_error(e);
    return exit_class(e.code) == ExitClass::Negative ? kNegative : kFailure;
}
int usage(const std::string& msg) { return fail(make_error(ErrorCode::USAGE, msg)); }

// "5y", "18mo"-free: years as 365 days, else share::parse_duration ("30d", "12h").
std::optional<double> parse_ttl(const std::string& text) {
    if (text.size() > 1 && text.size() < 4 && text.back() == 'y' &&
        text.find_first_not_of("0123456789") == text.size() - 1)
        return std::stod(text.substr(0, text.size() - 1)) * 365 * 86400;
    return share::parse_duration(text);
}

// Reads a tier's file and seals it on this machine under a fresh key.
Result<share::SealedRecord> seal_file(const std::string& path) {
    auto content = input::read_input_file(path, 1u << 20);
    if (!content) return content.error();
    SecretString plaintext(std::move(content.value()));
    return share::seal_record(plaintext.str());
}

int create_and_print(share::Service& svc, const EmergencyOptions& o, const EmergencyCreateArgs& a, double ttl,
                     const std::string& label) {
    if (auto e = url::check_public_url(a.public_url))
        return fail(make_error(e->code, e->message + " (--public-url is needed with --db)"));
    auto emergency = seal_file(o.emergency_file);
    if (!emergency) return fail(emergency.error());
    auto full = seal_file(o.full_file);
    if (!full) return fail(full.error());
    auto created =
        svc.create_emergency(svc.local_user(), emergency.value().jwe, full.value().jwe, ttl, label, a.notify_url);
    if (!created) return fail(created.error());
    std::string base = a.public_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string link = share::emergency_link(base + std::string(share::kEmergencyPath) + created.value().sid,
                                             emergency.value().key, full.value().key);
    std::string pin = created.value().pin.str();
    std::string expires = timeutil::format_utc(created.value().expires_at);
    std::string secret = created.value().notify_secret.str();
    auto forget = [&] {
        secure_wipe(link);
        secure_wipe(pin);
        secure_wipe(secret);
    };
    if (!a.qr.empty()) {
        // Level H: a printed wristband or card still reads with 30% of it damaged.
        auto sym = qr_write::encode_text(link, qr_write::Ecc::H);
        bool svg = a.qr.size() > 4 && a.qr.compare(a.qr.size() - 4, 4, ".svg") == 0;
        std::optional<Error> e = sym ? fsutil::write_file_atomic(a.qr, svg ? qr_write::render_svg({sym.value()})
                                                                           : qr_write::render_png({sym.value()}, 8))
                                     : std::optional<Error>(sym.error());
        if (e) {
            svc.revoke(created.value().id, -1, "local");  // no QR, no live link nobody holds
            forget();
            return fail(*e);
        }
    }
    if (a.json) {
        Json out{{"id", created.value().id}, {"url", link},    {"challenge", pin},
                 {"expires_at", expires},    {"label", label}, {"kind", "emergency"}};
        if (!secret.empty()) {
            out["notify_url"] = a.notify_url;
            out["notify_secret"] = secret;
        }
        std::cout << out.dump(2) << "\n";
        secure_wipe(out["url"].get_ref<std::string&>());
        secure_wipe(out["challenge"].get_ref<std::string&>());
        if (!secret.empty()) secure_wipe(out["notify_secret"].get_ref<std::string&>());
    } else {
        std::cout << "URL:     " << link << "\n"
                  << "PIN:     " << share::format_pin(pin) << "   (for the patient or a carer: the full record)\n"
                  << "Expires: " << expires << "\n"
                  << "ID:      " << created.value().id << "   (for `shcx share status` / `revoke` / `rotate`)\n";
        if (!secret.empty())
            std::cout << "Alerts:  " << a.notify_url << "   (a signed POST on every break glass)\n"
                      << "Secret:  " << secret << "   (checks the alerts' Shcx-Signature; shown only now)\n";
    }
    forget();
    return kOk;
}

}  // namespace

int run_emergency_create(share::Service& svc, const EmergencyOptions& o, const EmergencyCreateArgs& a) {
    if (o.full_file.empty()) return usage("--emergency SUMMARY goes with --full RECORD");
    double ttl = kDefaultEmergencyTtl;
    if (a.ttl_given) {
        auto parsed = parse_ttl(a.ttl);
        if (!parsed || *parsed <= 0 || *parsed > share::kMaxEmergencyTtlSeconds)
            return usage("--ttl must be more than 0 and at most 5y for an emergency share");
        ttl = *parsed;
    }
    return create_and_print(svc, o, a, ttl, a.label);
}

int run_emergency_rotate(share::Service& svc, const std::string& id, const EmergencyOptions& o,
                         const EmergencyCreateArgs& a) {
    if (o.emergency_file.empty() || o.full_file.empty())
        return usage("rotate needs --emergency SUMMARY and --full RECORD: the new link's keys encrypt them anew");
    auto old = svc.emergency_status(id, -1);
    if (!old || old->share.record.state != "live")
        return fail(make_error(ErrorCode::SHARE_NOT_FOUND, "no live emergency share with id " + id));
    double ttl = std::floor(old->share.record.expires_at - timeutil::now());
    if (ttl <= 0) return fail(make_error(ErrorCode::SHARE_NOT_FOUND, "no live emergency share with id " + id));
    EmergencyCreateArgs args = a;
    if (args.notify_url.empty()) args.notify_url = old->emergency.notify_url;  // alerts go on (with a new secret)
    int rc = create_and_print(svc, o, args, ttl, old->emergency.label);
    if (rc != kOk) return rc;
    if (!svc.revoke(id, -1, "rotate"))
        return fail(make_error(ErrorCode::SHARE_NOT_FOUND, "the old share " + id + " died meanwhile"));
    std::cerr << "shcx: revoked " << id << ": its link and QR no longer work\n";
    return kOk;
}

int run_emergency_resume(share::Service& svc, const std::string& id) {
    if (!svc.resume_break_glass(id, -1))
        return fail(make_error(ErrorCode::SHARE_NOT_FOUND, "no live emergency share with id " + id));
    std::cout << "Break glass works again on " << id << "\n";
    return kOk;
}

int run_emergency_reveal(const std::string& link_text, const EmergencyOptions& o,
                         const std::function<SecretString()>& read_pin, const std::string& out) {
    if (!o.tier.empty() && o.tier != "emergency" && o.tier != "full") return usage("--tier is emergency or full");
    if (o.break_glass != !o.attest.empty()) return usage("--break-glass goes with --attest \"NAME; ROLE; REASON\"");
    if (o.break_glass && o.tier == "emergency") return usage("--break-glass reads the full tier");
    auto link = share::parse_emergency_link(link_text);
    if (!link) return fail(link.error());
    Result<share::JweContent> content = make_error(ErrorCode::INTERNAL, "");
    if (o.tier == "emergency") {
        content = share::read_emergency_tier(link.value());
    } else if (o.break_glass) {
        content = share::break_glass(link.value(), o.attest);
    } else {
        SecretString pin = read_pin();
        content = share::read_full_tier(link.value(), pin.str());
    }
    if (!content) return fail(content.error());
    SecretString plaintext(std::move(content.value().plaintext));
    if (!out.empty()) {
        if (auto e = fsutil::write_file_atomic(out, plaintext.str(), 0600)) return fail(*e);
        std::cerr << "shcx: wrote " << plaintext.str().size() << " bytes (" << content.value().content_type << ") to "
                  << out << "\n";
    } else {
        std::cout << plaintext.str();
        std::cout.flush();
    }
    return kOk;
}

namespace {

// One access as a line: time, tier, how, address, then the attestation and User-Agent
// JSON-quoted (so a crafted User-Agent cannot write control characters to a terminal).
std::string event_line(const Json& e) {
    auto q = [](const Json& v) { return v.dump(-1, ' ', true, Json::error_handler_t::replace); };
    return e.value("at", "") + "  " + e.value("tier", "") + "  " + e.value("via", "") + "  " + e.value("address", "") +
           "  attestation=" + q(e.value("attestation", "")) + "  user_agent=" + q(e.value("user_agent", ""));
}

// Why no more events can come: "revoked", "expired", ... or "" while the share lives.
std::string end_reason(const Json& status) {
    std::string state = status.value("state", "");
    if (state != "live") return state.empty() ? "gone" : state;
    auto expires = timeutil::parse_time(status.value("expires_at", ""));
    if (expires && *expires <= timeutil::now()) return "expired";
    return "";
}

}  // namespace

int run_emergency_events(const std::string& id, const StatusSource& source, const EventsArgs& a) {
    if (a.follow && a.json) return usage("--json prints one document: stream with --ndjson");
    // The stop signals wait in sigtimedwait between polls (blocked before the first poll,
    // so a signal during one is not lost).
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (a.follow) sigprocmask(SIG_BLOCK, &stop, nullptr);
    size_t printed = 0;
    for (;;) {
        auto body = source();
        if (!body) return fail(body.error());
        Json status = Json::parse(body.value(), nullptr, false);
        if (!status.is_object() || !status.contains("emergency"))
            return fail(make_error(ErrorCode::SHARE_NOT_FOUND, "no emergency share with id " + id));
        const Json& accesses = status["emergency"].value("accesses", Json::array());
        if (a.json) {
            std::cout << Json{{"id", id}, {"state", status.value("state", "")}, {"events", accesses}}.dump(2) << "\n";
            return kOk;
        }
        for (; printed < accesses.size(); ++printed)
            std::cout << (a.ndjson ? accesses[printed].dump(-1, ' ', false, Json::error_handler_t::replace)
                                   : event_line(accesses[printed]))
                      << "\n";
        std::cout.flush();
        if (!std::cout)  // a closed pipe: nobody is reading any more
            return fail(
                make_error(ErrorCode::IO_ERROR, "cannot write to standard output (a full disk, or a closed pipe)"));
        if (!a.follow) return kOk;
        if (std::string why = end_reason(status); !why.empty()) {
            std::cerr << "shcx: share " << id << " is " << why << ": no more events\n";
            return kOk;
        }
        timespec wait{static_cast<time_t>(a.poll_s), static_cast<long>(std::fmod(a.poll_s, 1.0) * 1e9)};
        if (sigtimedwait(&stop, nullptr, &wait) > 0) return kOk;
    }
}

}  // namespace shcx::cli
