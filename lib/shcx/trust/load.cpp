#include "shcx/trust/load.h"

#include "shcx/fsutil.h"
#include "shcx/timeutil.h"
#include "shcx/trust/index.h"
#include "shcx/trust/local_issuers.h"

namespace shcx::trust_store {
namespace {

Result<std::string> read_named(const std::string& file, size_t max_bytes) {
    auto text = fsutil::read_file(file, max_bytes);
    if (!text) return Error{text.error().code, file + ": " + text.error().message};
    return text;
}

// "92 days", "5 h", "40 s": whole units, rounded down.
std::string span_text(double seconds) {
    auto s = static_cast<long long>(seconds);
    if (s >= 2LL * 86400) return std::to_string(s / 86400) + " days";
    if (s >= 2LL * 3600) return std::to_string(s / 3600) + " h";
    return std::to_string(s) + " s";
}

}  // namespace

std::optional<Error> check_installed(const SnapshotFiles& files, double now) {
    if (auto e = check_signature(files, now)) return e;
    auto snap = trust::parse_vci_snapshot(files.json, "VCI snapshot " + files.meta.snapshot_time);
    if (!snap) return snap.error();
    return std::nullopt;
}

std::optional<Error> check_age(const Meta& meta, double now, double max_age_seconds) {
    auto t = timeutil::parse_time(meta.snapshot_time);
    double made = t ? *t : meta.fetched_at;
    double age = now - made;
    if (age <= max_age_seconds) return std::nullopt;
    std::string what = t ? "the trust snapshot of " + meta.snapshot_time
                         : "the trust snapshot fetched at " + timeutil::format_utc(meta.fetched_at);
    return make_error(ErrorCode::TRUST_SNAPSHOT_STALE, what + " is " + span_text(age) + " old, over the limit of " +
                                                           span_text(max_age_seconds) + "; run `shcx trust sync`");
}

Result<Loaded> load(const std::string& store, double now) {
    Loaded out;
    // The compiled index when it checks out (trust/index.h): neither the snapshot nor its
    // CRL files are read, and an issuer is decoded when a card names it.
    if (auto opened = trust_index::open(store, now)) {
        out.warnings = std::move(opened->warnings);
        out.trust.add_issuers(std::move(opened->issuers));
        for (auto& [iss, crl] : opened->snapshot_crls) out.trust.add_crl(iss, std::move(crl));
        for (auto& bad : opened->snapshot_invalid_crls) out.trust.add_invalid_crl(std::move(bad));
        for (auto& [iss, crl] : opened->crls) out.trust.add_crl(iss, std::move(crl));
        for (auto& bad : opened->invalid_crls) out.trust.add_invalid_crl(std::move(bad));
        out.meta = std::move(opened->meta);
    } else {
        auto current = read_current(store);
        if (!current) {
            if (current.error().code != ErrorCode::TRUST_STORE_DAMAGED) return current.error();
            return Error{current.error().code,
                         current.error().message + "; run `shcx trust sync` to download it again"};
        }
        if (current.value()) {
            const SnapshotFiles& s = *current.value();
            auto full = trust_index::compile(s, now);
            if (!full) {
                const Error& e = full.error();
                if (e.code != ErrorCode::SNAPSHOT_SIGNATURE_INVALID) return e;
                return Error{e.code, "the installed trust snapshot in " + store + " fails its signature check (" +
                                         e.message + "); run `shcx trust sync`"};
            }
            auto& compiled = full.value();
            out.warnings = std::move(compiled.warnings);
            out.trust.add_snapshot(std::move(compiled.snapshot));
            for (auto& [iss, crl] : compiled.crls) out.trust.add_crl(iss, std::move(crl));
            for (auto& bad : compiled.invalid_crls) out.trust.add_invalid_crl(std::move(bad));
            out.meta = s.meta;
        }
    }
    auto local = read_local_issuers(store);
    if (!local) return local.error();
    out.local_issuers = local.value().size();
    for (auto& issuer : local.value()) out.trust.add_issuer(std::move(issuer));
    return out;
}

Result<Loaded> assemble(const Sources& sources, double now) {
    Loaded out;
    if (!sources.snapshot_file.empty()) {
        auto text = read_named(sources.snapshot_file, kMaxSnapshotFileBytes);
        if (!text) return text.error();
        auto snap = trust::parse_vci_snapshot(text.value(), sources.snapshot_file);
        if (!snap) return snap.error();
        out.warnings = snap.value().warnings;
        out.trust.add_snapshot(std::move(snap.value()));
    } else {
        auto loaded = load(sources.store, now);
        if (!loaded) return loaded.error();
        out = std::move(loaded.value());
    }
    for (const auto& j : sources.jwks) {
        auto text = read_named(j.file, kMaxJwksFileBytes);
        if (!text) return text.error();
        auto issuer = trust::issuer_from_jwks(text.value(), j.iss, "--jwks " + j.file);
        if (!issuer) return issuer.error();
        out.trust.add_issuer(std::move(issuer.value()));
    }
    for (const auto& file : sources.crl_files) {
        auto text = read_named(file, kMaxCrlFileBytes);
        if (!text) return text.error();
        auto crl = trust::parse_crl(text.value(), file);
        if (!crl) return crl.error();
        out.trust.add_crl("", std::move(crl.value()));
    }
    return out;
}

bool Status::usable() const { return snapshot ? !signature_problem : local_issuers > 0; }

Result<Status> inspect(const std::string& store, double now) {
    Status out;
    auto current = read_current(store);
    if (!current) return current.error();
    out.snapshot = std::move(current.value());
    if (out.snapshot) out.signature_problem = check_installed(*out.snapshot, now);
    auto local = read_local_issuers(store);
    out.local_issuers = local ? local.value().size() : 0;
    return out;
}

}  // namespace shcx::trust_store
