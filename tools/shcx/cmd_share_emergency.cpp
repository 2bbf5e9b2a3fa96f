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
#include "shcx/shl/manifest.h"
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

// Reads a tier's file and seals it on this machine under a fresh key; `type` gets its media type.
Result<share::SealedRecord> seal_file(const std::string& path, std::string* type = nullptr) {
    auto content = input::read_input_file(path, 1u << 20);
    if (!content) return content.error();
    SecretString plaintext(std::move(content.value()));
    if (type) *type = share::media_type(plaintext.str());
    return share::seal_record(plaintext.str());
}

// The emergency tier as a SMART Health Link (flag L, no P), when the tier is what an SHL
// carries (a card or FHIR JSON) and its manifest URL fits the spec; else "" (with a
// warning when only the URL is in the way). docs/emergency.md, "SMART Health Links".
SecretString emergency_shlink(const share::CreatedShare& c, const std::string& type, const SecretString& key) {
    if (type != shl::kHealthCardType && type != shl::kFhirType) return SecretString();
    auto exp = timeutil::parse_time(c.expires_at);
    if (!exp) return SecretString();
    auto made = share::emergency_shl(c.url, key, static_cast<int64_t>(*exp), c.label);
    if (!made) {
        print_warning("no SMART Health Link for this share: " + made.error().message);
        return SecretString();
    }
    return std::move(made.value());
}

// What a create or rotate made, wherever it was made (url without the keys).
Result<share::CreatedShare> made_share(const EmergencyOwner& owner, const EmergencyCreateArgs& a,
                                       const std::string& rotate_id, const share::SealedRecord& emergency,
                                       const share::SealedRecord& full, double ttl) {
    if (!owner.local) {
        share::ApiClient api(owner.server, owner.token);
        return rotate_id.empty()
                   ? api.create_emergency(emergency.jwe, full.jwe, static_cast<long>(ttl), a.label, a.notify_url)
                   : api.rotate_emergency(rotate_id, emergency.jwe, full.jwe, a.notify_url);
    }
    if (auto e = url::check_public_url(a.public_url))
        return make_error(e->code, e->message + " (--public-url is needed with --db)");
    share::Service& svc = *owner.local;
    auto created = rotate_id.empty()
                       ? svc.create_emergency(svc.local_user(), emergency.jwe, full.jwe, ttl, a.label, a.notify_url)
                       : svc.rotate_emergency(rotate_id, -1, emergency.jwe, full.jwe, a.notify_url);
    if (!created) return created.error();
    std::string base = a.public_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    const auto& c = created.value();
    share::CreatedShare made{c.id,        base + std::string(share::kEmergencyPath) + c.sid,
                             c.pin.str(), timeutil::format_utc(c.expires_at),
                             1,           c.label};
    made.notify_url = c.notify_url;
    made.notify_secret = c.notify_secret.str();
    return made;
}

std::optional<Error> write_qr(const std::string& path, const std::string& link) {
    // Level H: a printed wristband or card still reads with 30% of it damaged.
    auto sym = qr_write::encode_text(link, qr_write::Ecc::H);
    if (!sym) return sym.error();
    bool svg = path.size() > 4 && path.compare(path.size() - 4, 4, ".svg") == 0;
    return fsutil::write_file_atomic(
        path, svg ? qr_write::render_svg({sym.value()}) : qr_write::render_png({sym.value()}, 8));
}

// Seals both tiers, makes the share (or its rotation), writes the QR, prints.
int create_and_print(const EmergencyOwner& owner, const EmergencyOptions& o, const EmergencyCreateArgs& a, double ttl,
                     const std::string& rotate_id = "") {
    std::string emergency_type;
    auto emergency = seal_file(o.emergency_file, &emergency_type);
    if (!emergency) return fail(emergency.error());
    auto full = seal_file(o.full_file);
    if (!full) return fail(full.error());
    auto made = made_share(owner, a, rotate_id, emergency.value(), full.value(), ttl);
    if (!made) return fail(made.error());
    share::CreatedShare& c = made.value();
    std::string link = share::emergency_link(c.url, emergency.value().key, full.value().key);
    SecretString shlink = emergency_shlink(c, emergency_type, emergency.value().key);
    auto forget = [&] {
        secure_wipe(link);
        secure_wipe(c.pin);
        secure_wipe(c.notify_secret);
    };
    std::optional<Error> qr_failed = a.qr.empty() ? std::nullopt : write_qr(a.qr, link);
    if (qr_failed && rotate_id.empty()) {
        // No QR, no live link nobody holds.
        if (owner.local) owner.local->revoke(c.id, -1, "local");
        else (void)share::ApiClient(owner.server, owner.token).revoke(c.id);
        forget();
        return fail(*qr_failed);
    }
    // A rotation has already killed the old link: the new one is printed even without its QR.
    if (a.json) {
        Json out{{"id", c.id},       {"url", link},        {"challenge", c.pin}, {"expires_at", c.expires_at},
                 {"label", c.label}, {"kind", "emergency"}};
        if (!shlink.str().empty()) out["shl"] = shlink.str();
        if (!c.notify_secret.empty()) {
            out["notify_url"] = c.notify_url;
            out["notify_secret"] = c.notify_secret;
        }
        std::cout << out.dump(2) << "\n";
        secure_wipe(out["url"].get_ref<std::string&>());
        secure_wipe(out["challenge"].get_ref<std::string&>());
        if (!shlink.str().empty()) secure_wipe(out["shl"].get_ref<std::string&>());
        if (!c.notify_secret.empty()) secure_wipe(out["notify_secret"].get_ref<std::string&>());
    } else {
        std::cout << "URL:     " << link << "\n";
        if (!shlink.str().empty())
            std::cout << "SHL:     " << shlink.str() << "   (the emergency tier only, for SMART Health Links apps)\n";
        std::cout << "PIN:     " << share::format_pin(c.pin) << "   (for the patient or a carer: the full record)\n"
                  << "Expires: " << c.expires_at << "\n"
                  << "ID:      " << c.id << "   (for `shcx share status` / `revoke` / `rotate`)\n";
        if (!c.notify_secret.empty())
            std::cout << "Alerts:  " << c.notify_url << "   (a signed POST on every break glass)\n"
                      << "Secret:  " << c.notify_secret << "   (checks the alerts' Shcx-Signature; shown only now)\n";
    }
    std::cout.flush();
    forget();
    if (!rotate_id.empty()) std::cerr << "shcx: revoked " << rotate_id << ": its link and QR no longer work\n";
    if (qr_failed) return fail(*qr_failed);
    return kOk;
}

}  // namespace

int run_emergency_create(const EmergencyOwner& owner, const EmergencyOptions& o, const EmergencyCreateArgs& a) {
    if (o.full_file.empty()) return usage("--emergency SUMMARY goes with --full RECORD");
    double ttl = kDefaultEmergencyTtl;
    if (a.ttl_given) {
        auto parsed = parse_ttl(a.ttl);
        if (!parsed || *parsed <= 0 || *parsed > share::kMaxEmergencyTtlSeconds)
            return usage("--ttl must be more than 0 and at most 5y for an emergency share");
        ttl = *parsed;
    }
    return create_and_print(owner, o, a, ttl);
}

int run_emergency_rotate(const EmergencyOwner& owner, const std::string& id, const EmergencyOptions& o,
                         const EmergencyCreateArgs& a) {
    if (o.emergency_file.empty() || o.full_file.empty())
        return usage("rotate needs --emergency SUMMARY and --full RECORD: the new link's keys encrypt them anew");
    return create_and_print(owner, o, a, 0, id);
}

int run_emergency_resume(const EmergencyOwner& owner, const std::string& id) {
    if (owner.local) {
        if (!owner.local->resume_break_glass(id, -1))
            return fail(make_error(ErrorCode::SHARE_NOT_FOUND, "no live emergency share with id " + id));
    } else if (auto e = share::ApiClient(owner.server, owner.token).resume(id)) {
        return fail(*e);
    }
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
