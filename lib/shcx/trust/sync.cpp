#include "shcx/trust/sync.h"

#include "shcx/digest.h"
#include "shcx/http_client.h"
#include "shcx/trust/load.h"
#include "shcx/trust/trust.h"

namespace shcx::trust_sync {
namespace {

Result<http::Response> fetch(const Options& opt, const std::string& what, const std::string& url, size_t max_bytes,
                             std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.url = url;
    req.max_bytes = max_bytes;
    req.headers = std::move(headers);
    if (opt.progress) req.on_progress = [&](uint64_t now, uint64_t total) { opt.progress(what, now, total); };
    auto r = http::send(req);
    if (!r) return r.error();
    long status = r.value().status;
    if (status != 200 && status != 304)
        return make_error(ErrorCode::NETWORK_ERROR, url + ": HTTP " + std::to_string(status));
    return r;
}

// Downloads and installs; `installed` is the current install when it checks out (its
// validators make the request conditional), nullopt when there is none or it is damaged.
Result<Summary> download_and_install(const Options& opt, const std::optional<trust_store::SnapshotFiles>& installed) {
    // Conditional GET, only against the same source and when a sound snapshot is installed.
    std::vector<std::pair<std::string, std::string>> validators;
    if (!opt.force && installed && installed->meta.snapshot_url == opt.source.snapshot_url) {
        if (!installed->meta.etag.empty()) validators.push_back({"If-None-Match", installed->meta.etag});
        if (!installed->meta.last_modified.empty())
            validators.push_back({"If-Modified-Since", installed->meta.last_modified});
    }
    auto snap_resp = fetch(opt, "snapshot", opt.source.snapshot_url, opt.max_snapshot_bytes, validators);
    if (!snap_resp) return snap_resp.error();
    Summary report;
    if (snap_resp.value().status == 304) {
        if (validators.empty())
            return make_error(ErrorCode::NETWORK_ERROR,
                              opt.source.snapshot_url + ": HTTP 304 without a conditional request");
        report.outcome = Outcome::Unchanged;
        report.meta = installed->meta;
        report.meta.checked_at = opt.now;
        if (auto e = trust_store::update_meta(opt.store, report.meta)) return *e;
        return report;
    }
    auto sig_resp = fetch(opt, "signature", opt.source.signature_url, 16u << 10);
    if (!sig_resp) return sig_resp.error();
    auto crt_resp = fetch(opt, "certificate", opt.source.certificate_url, 64u << 10);
    if (!crt_resp) return crt_resp.error();
    if (sig_resp.value().status != 200 || crt_resp.value().status != 200)
        return make_error(ErrorCode::NETWORK_ERROR, "unexpected HTTP 304 for the signature or certificate");

    trust_store::SnapshotFiles snap;
    snap.json = std::move(snap_resp.value().body);
    snap.signature = std::move(sig_resp.value().body);
    snap.certificate = std::move(crt_resp.value().body);
    if (auto e =
            vci::verify_snapshot(snap.json, snap.signature, snap.certificate, opt.source.certificate_sha256, opt.now))
        return *e;
    auto parsed = trust::parse_vci_snapshot(snap.json, "downloaded snapshot");
    if (!parsed) return parsed.error();
    report.warnings = parsed.value().warnings;
    report.meta.snapshot_time = parsed.value().time;

    // CRLs the snapshot does not carry (or carries older than the key's crlVersion).
    if (opt.fetch_crls) {
        trust::TrustStore index;
        auto issuers = parsed.value().issuers;
        index.add_snapshot(std::move(parsed.value()));
        for (const auto& issuer : issuers)
            for (const auto& key : issuer.keys) {
                if (!key.crl_version) continue;
                const trust::Crl* have = index.find_crl(issuer.iss, key.kid);
                if (have && have->ctr >= *key.crl_version) continue;
                std::string url = issuer.iss + "/.well-known/crl/" + key.kid + ".json";
                auto resp = fetch(opt, "CRL", url, 8u << 20);
                std::optional<Error> problem;
                if (!resp) problem = resp.error();
                else if (auto crl = trust::parse_crl(resp.value().body, url); !crl) problem = crl.error();
                else if (crl.value().kid != key.kid) problem = make_error(ErrorCode::CRL_INVALID, url + ": wrong kid");
                if (problem) {
                    // A list that is there but broken is CRL_INVALID; one that could not be
                    // fetched is CRL_UNAVAILABLE.
                    auto code =
                        problem->code == ErrorCode::CRL_INVALID ? ErrorCode::CRL_INVALID : ErrorCode::CRL_UNAVAILABLE;
                    report.warnings.push_back(make_error(code, "CRL for " + key.kid + ": " + problem->message));
                    continue;
                }
                snap.crls.push_back({issuer.iss, resp.value().body});
                ++report.crls_fetched;
            }
        report.meta.issuer_count = issuers.size();
    } else {
        report.meta.issuer_count = parsed.value().issuers.size();
    }
    report.meta.source = opt.source.name;
    report.meta.snapshot_url = opt.source.snapshot_url;
    report.meta.etag = snap_resp.value().etag;
    report.meta.last_modified = snap_resp.value().last_modified;
    report.meta.sha256 = digest::hex(digest::sha256(snap.json));
    report.meta.fetched_at = report.meta.checked_at = opt.now;
    snap.meta = report.meta;
    if (auto e = trust_store::install(opt.store, snap)) return *e;
    report.outcome = Outcome::Installed;
    return report;
}

}  // namespace

Result<Summary> sync(const Options& opt) {
    auto lock = trust_store::Lock::try_acquire(opt.store);
    if (!lock) return lock.error();
    // The installed copy is checked again before a 304 may vouch for it: a damaged one
    // (a file missing or edited, truncated, unparsable) is downloaded again unconditionally.
    auto current = trust_store::read_current(opt.store);
    std::optional<trust_store::SnapshotFiles> installed;
    std::optional<Error> damage;
    if (!current) {
        if (current.error().code != ErrorCode::TRUST_STORE_DAMAGED) return current.error();
        damage = current.error();
    } else if (current.value()) {
        damage = trust_store::check_installed(*current.value(), opt.now);
        if (!damage) installed = std::move(current.value());
    }
    auto report = download_and_install(opt, installed);
    if (!damage) return report;
    std::string what = "the installed snapshot in " + opt.store + " was damaged (" +
                       std::string(code_name(damage->code)) + ": " + damage->message + ")";
    if (!report) return Error{report.error().code, report.error().message + "; " + what + " and is still in place"};
    report.value().warnings.insert(
        report.value().warnings.begin(),
        make_error(ErrorCode::TRUST_STORE_REPAIRED, what + "; downloaded and installed it again"));
    return report;
}

}  // namespace shcx::trust_sync
