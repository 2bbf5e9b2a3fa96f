// shcx trust sync|status|list|add|remove: keep the trust store current (from cron) and
// manage local issuers.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli_common.h"
#include "render.h"
#include "shcx/share/client.h"
#include "shcx/timeutil.h"
#include "shcx/trust/fetch.h"
#include "shcx/trust/index.h"
#include "shcx/trust/load.h"
#include "shcx/trust/local_issuers.h"
#include "shcx/trust/sync.h"
#include "shcx/trust/vci.h"

namespace shcx::cli {
namespace {

struct TrustOptions {
    std::string store, source, iss, jwks, name, max_age;
    bool force = false, no_crls = false, json = false;
    bool fetch = false, yes = false;
};

std::string store_of(const TrustOptions& o) { return trust_store_dir(o.store); }
// sync, add and remove write: never to the system store by fallback (docs/deploy.md).
std::string store_to_write(const TrustOptions& o) { return trust_store_dir(o.store, trust_store::Access::Write); }

// Download sizes: bytes below a KiB, so a small file never shows as "0 KiB".
std::string size_text(uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " bytes";
    constexpr uint64_t kMiB = uint64_t{1024} * 1024;
    if (bytes < kMiB) return std::to_string(bytes / 1024) + " KiB";
    return std::to_string(bytes / kMiB) + "." + std::to_string(bytes % kMiB * 10 / kMiB) + " MiB";
}

std::string age_text(double seconds) {
    if (seconds < 0) return "in the future";
    long s = static_cast<long>(seconds);
    if (s < 3600) return std::to_string(s / 60) + " min";
    if (s < 2L * 86400) return std::to_string(s / 3600) + " h";
    return std::to_string(s / 86400) + " days";
}

int run_sync(const TrustOptions& o) {
    auto source = vci::resolve_source(o.source);
    if (!source) {
        print_error(source.error());
        return kFailure;
    }
    trust_sync::Options opt;
    opt.store = store_to_write(o);
    opt.source = source.value();
    opt.force = o.force;
    opt.fetch_crls = !o.no_crls;
    opt.now = timeutil::now();
    bool tty = isatty(STDERR_FILENO) && !o.json;
    if (tty)
        opt.progress = [](const std::string& what, uint64_t now, uint64_t total) {
            std::cerr << "\rshcx: downloading " << what << ": " << size_text(now);
            if (total) std::cerr << " of " << size_text(total) << " (" << now * 100 / total << "%)";
            std::cerr << "   " << std::flush;
        };
    auto r = trust_sync::sync(opt);
    if (tty) std::cerr << "\r\033[K" << std::flush;
    if (!r) {
        print_error(r.error(), "trust sync");
        std::cerr << "shcx: the installed trust store was left unchanged\n";
        return exit_for(r.error());
    }
    const auto& rep = r.value();
    // The compiled index of what is installed now (lib/shcx/trust/index.h): later runs
    // map it instead of checking the whole snapshot again; without it they are slower.
    if (auto e = trust_index::write(opt.store, opt.now))
        print_warning(std::string(code_name(e->code)) + ": the trust index was not written: " + e->message);
    for (const auto& w : rep.warnings) print_warning(std::string(code_name(w.code)) + ": " + w.message);
    bool unchanged = rep.outcome == trust_sync::Outcome::Unchanged;
    if (o.json) {
        render::Json j = {{"outcome", unchanged ? "unchanged" : "installed"},
                          {"source", rep.meta.source},
                          {"snapshot_time", rep.meta.snapshot_time},
                          {"issuers", rep.meta.issuer_count},
                          {"crls_fetched", rep.crls_fetched},
                          {"sha256", rep.meta.sha256},
                          {"store", opt.store}};
        std::cout << j.dump(2) << "\n";
    } else if (unchanged) {
        std::cout << "Trust snapshot unchanged (" << rep.meta.snapshot_time << ", " << rep.meta.issuer_count
                  << " issuers); checked " << opt.source.snapshot_url << "\n";
    } else {
        std::cout << "Installed VCI snapshot of " << rep.meta.snapshot_time << ": " << rep.meta.issuer_count
                  << " issuers, signature verified, " << rep.crls_fetched << " CRLs fetched, in " << opt.store << "\n";
    }
    return kOk;
}

int run_status(const TrustOptions& o) {
    std::optional<double> max_age;
    if (!o.max_age.empty()) {
        max_age = share::parse_duration(o.max_age);
        if (!max_age || *max_age <= 0) {
            print_error(make_error(ErrorCode::USAGE, "--max-age must be a duration such as 30d, 12h or 90m"));
            return kFailure;
        }
    }
    std::string store = store_of(o);
    double now = timeutil::now();
    auto status = trust_store::inspect(store, now);
    if (!status) {
        // A damaged install is an answer (the store is unusable), not a failure to look.
        if (status.error().code == ErrorCode::TRUST_STORE_DAMAGED) {
            print_error(Error{status.error().code, status.error().message + "; run `shcx trust sync`"});
            return kNegative;
        }
        print_error(status.error());
        return kFailure;
    }
    const auto& st = status.value();
    std::string signature = !st.snapshot           ? "none"
                            : st.signature_problem ? "INVALID: " + st.signature_problem->message
                                                   : "verified";
    render::Json j;
    j["store"] = store;
    j["local_issuers"] = st.local_issuers;
    if (st.snapshot) {
        const auto& s = *st.snapshot;
        auto t = timeutil::parse_time(s.meta.snapshot_time);
        j["snapshot"] = {{"source", s.meta.source},
                         {"url", s.meta.snapshot_url},
                         {"time", s.meta.snapshot_time},
                         {"age_seconds", t ? render::Json(std::floor(now - *t)) : render::Json(nullptr)},
                         {"fetched_at", timeutil::format_utc(s.meta.fetched_at)},
                         {"checked_at", timeutil::format_utc(s.meta.checked_at)},
                         {"issuers", s.meta.issuer_count},
                         {"crls_fetched", s.crls.size()},
                         {"etag", s.meta.etag},
                         {"sha256", s.meta.sha256},
                         {"signature", st.signature_problem ? "invalid" : "verified"}};
    } else {
        j["snapshot"] = nullptr;
    }
    if (o.json) {
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "Store:         " << store << "\n";
        if (st.snapshot) {
            const auto& m = st.snapshot->meta;
            auto t = timeutil::parse_time(m.snapshot_time);
            std::cout << "Source:        " << m.source << " <" << m.snapshot_url << ">\n"
                      << "Snapshot time: " << m.snapshot_time << " ("
                      << (t ? age_text(now - *t) + " old" : "unknown age") << ")\n"
                      << "Fetched:       " << timeutil::format_utc(m.fetched_at) << ", last checked "
                      << timeutil::format_utc(m.checked_at) << "\n"
                      << "Issuers:       " << m.issuer_count << " from the snapshot, " << st.local_issuers << " local\n"
                      << "Signature:     " << signature << "\n";
        } else {
            std::cout << "Snapshot:      none installed (run `shcx trust sync`)\n"
                      << "Issuers:       " << st.local_issuers << " local\n";
        }
    }
    // Why the answer is no, as one coded line (cron mails it; scripts match the code).
    if (st.snapshot && st.signature_problem) {
        print_error(Error{st.signature_problem->code, "the installed trust snapshot in " + store + " is unusable (" +
                                                          st.signature_problem->message + "); run `shcx trust sync`"});
        return kNegative;
    }
    if (!st.usable() || (max_age && !st.snapshot)) {
        print_error(make_error(ErrorCode::TRUST_STORE_EMPTY,
                               "no trust snapshot is installed in " + store +
                                   (st.usable() ? " (--max-age asks for one)" : " and there are no local issuers") +
                                   "; run `shcx trust sync`"));
        return kNegative;
    }
    if (max_age && st.snapshot) {
        if (auto stale = trust_store::check_age(st.snapshot->meta, now, *max_age)) {
            print_error(*stale);
            return kNegative;
        }
    }
    return kOk;
}

int run_list(const TrustOptions& o) {
    auto loaded = trust_store::load(store_of(o), timeutil::now());
    if (!loaded) {
        print_error(loaded.error());
        return kFailure;
    }
    const auto& trust = loaded.value().trust;
    if (o.json) {
        render::Json arr = render::Json::array();
        for (const auto& i : trust.issuers()) {
            render::Json kids = render::Json::array();
            for (const auto& k : i.keys) kids.push_back(k.kid);
            arr.push_back({{"iss", i.iss}, {"name", i.name}, {"source", i.source}, {"kids", kids}});
        }
        std::cout << render::Json{{"issuers", arr}}.dump(2) << "\n";
        return kOk;
    }
    if (stdout_is_terminal()) {  // aligned, with a header; the piped form below stays tab-separated
        std::vector<std::vector<std::string>> rows;
        for (const auto& i : trust.issuers())
            rows.push_back({i.iss, i.name.empty() ? "-" : i.name, std::to_string(i.keys.size()), i.source});
        std::cout << columns({"ISSUER", "NAME", "KEYS", "SOURCE"}, rows);
        return kOk;
    }
    for (const auto& i : trust.issuers())
        std::cout << i.iss << "\t" << (i.name.empty() ? "-" : i.name) << "\t" << i.keys.size() << " key"
                  << (i.keys.size() == 1 ? "" : "s") << "\t" << i.source << "\n";
    return kOk;
}

// `trust add --fetch`: show what the issuer publishes, with thumbprints to compare out of
// band, and ask before trusting it.
int run_add_fetched(const TrustOptions& o) {
    trust_fetch::Options fo;
    // Tests serve keys from a local http:// server; nothing else may turn this on.
    const char* loopback = std::getenv("SHCX_ALLOW_LOOPBACK_HTTP");
    fo.allow_loopback_http = loopback && std::string(loopback) == "1";
    auto fetched = trust_fetch::fetch_jwks(o.iss, fo);
    if (!fetched) {
        print_error(fetched.error(), "trust add --fetch");
        return kFailure;
    }
    const auto& f = fetched.value();
    std::cout << "Keys published at " << f.url << ":\n";
    std::optional<Error> unusable;
    for (const auto& k : f.keys) {
        std::cout << "  kid         " << k.jwk.kid << "\n  thumbprint  " << k.thumbprint << " (RFC 7638, SHA-256)\n";
        for (const auto& p : k.problems)
            std::cout << "  NOT USABLE: " << code_name(p.code) << ": " << p.message << "\n";
        if (!k.problems.empty() && !unusable) unusable = k.problems.front();
    }
    if (unusable) {
        print_error(*unusable, "trust add --fetch");
        std::cerr << "shcx: nothing was trusted\n";
        return kFailure;
    }
    if (!o.yes) {
        std::cerr << "Trust " << (f.keys.size() == 1 ? "this key" : "these " + std::to_string(f.keys.size()) + " keys")
                  << " for " << o.iss << "? Compare the thumbprints with what the issuer publishes elsewhere. [y/N] "
                  << std::flush;
        std::string answer;
        if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y" && answer != "yes")) {
            std::cerr << "shcx: not confirmed; nothing was trusted\n";
            return kNegative;
        }
    }
    if (auto e = trust_store::add_local_issuer(store_to_write(o), o.iss, o.name, f.jwks_json, fo.allow_loopback_http)) {
        print_error(*e, f.url);
        return kFailure;
    }
    std::cout << "Trusted " << o.iss << (o.name.empty() ? "" : " (" + o.name + ")") << ": " << f.keys.size() << " key"
              << (f.keys.size() == 1 ? "" : "s") << "\n";
    return kOk;
}

int run_add(const TrustOptions& o) {
    if (o.fetch == !o.jwks.empty()) {
        print_error(make_error(ErrorCode::USAGE, "trust add needs exactly one of --jwks FILE or --fetch"));
        return kFailure;
    }
    if (o.fetch) return run_add_fetched(o);
    auto jwks = read_input(o.jwks, trust_store::kMaxJwksFileBytes);
    if (!jwks) {
        print_error(jwks.error(), o.jwks);
        return kFailure;
    }
    if (auto e = trust_store::add_local_issuer(store_to_write(o), o.iss, o.name, jwks.value())) {
        print_error(*e, e->code == ErrorCode::ISSUER_URL_INVALID ? "--iss" : o.jwks);
        return kFailure;
    }
    std::cout << "Trusted " << o.iss << (o.name.empty() ? "" : " (" + o.name + ")") << "\n";
    return kOk;
}

int run_remove(const TrustOptions& o) {
    auto r = trust_store::remove_local_issuer(store_to_write(o), o.iss);
    if (!r) {
        print_error(r.error());
        return kFailure;
    }
    if (!r.value()) {
        print_error(make_error(ErrorCode::USAGE,
                               "no local issuer " + o.iss + " (issuers from the VCI snapshot cannot be removed)"));
        return kFailure;
    }
    std::cout << "Removed " << o.iss << "\n";
    return kOk;
}

}  // namespace

void setup_trust(CLI::App& app, int& exit_code) {
    auto opt = std::make_shared<TrustOptions>();
    auto* trust = app.add_subcommand("trust", "Keep the trust store current and manage local issuers");
    trust->require_subcommand(1);
    auto add_store = [&](CLI::App* c) {
        c->add_option("--store", opt->store,
                      "Trust store directory (default: $SHCX_TRUST, else see shcx-trust(1) FILES)");
    };
    auto* sync = trust->add_subcommand("sync", "Download, verify and install the VCI snapshot (for cron)");
    add_store(sync);
    sync->add_option("--source", opt->source, "Source name (vci) or mirror URL serving vci_snapshot.{json,sig,crt}");
    sync->add_flag("--force", opt->force, "Download and reinstall even if unchanged");
    sync->add_flag("--no-crls", opt->no_crls, "Do not fetch revocation lists missing from the snapshot");
    sync->add_flag("--json", opt->json, "Print the outcome as JSON");
    sync->callback([opt, &exit_code] { exit_code = run_sync(*opt); });

    auto* status = trust->add_subcommand("status", "Show the installed snapshot: source, time, age, signature");
    add_store(status);
    status->add_flag("--json", opt->json, "Print JSON");
    status->add_option("--max-age", opt->max_age, "Exit 1 when the snapshot is older than this (30d, 12h)");
    status->callback([opt, &exit_code] { exit_code = run_status(*opt); });

    auto* list = trust->add_subcommand("list", "List trusted issuers");
    add_store(list);
    list->add_flag("--json", opt->json, "Print JSON");
    list->callback([opt, &exit_code] { exit_code = run_list(*opt); });

    auto* add = trust->add_subcommand("add", "Trust a local issuer's keys");
    add_store(add);
    add->add_option("--iss", opt->iss, "Issuer URL")->required();
    add->add_option("--jwks", opt->jwks, "The issuer's JWKS file");
    add->add_flag("--fetch", opt->fetch,
                  "Fetch the keys from ISS/.well-known/jwks.json (https), show their thumbprints, ask");
    add->add_flag("--yes", opt->yes, "With --fetch: trust the fetched keys without asking");
    add->add_option("--name", opt->name, "Display name");
    add->callback([opt, &exit_code] { exit_code = run_add(*opt); });

    auto* remove = trust->add_subcommand("remove", "Stop trusting a local issuer");
    add_store(remove);
    remove->add_option("--iss", opt->iss, "Issuer URL")->required();
    remove->callback([opt, &exit_code] { exit_code = run_remove(*opt); });
}

}  // namespace shcx::cli
