// Trust inputs: VCI snapshots, CRLs and JWKS, then lookups and key checks on the result.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shcx/trust/trust.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)shcx::trust::parse_crl(text, "fuzz");
    auto jwks = shcx::jose::parse_jwks(text);
    if (jwks)
        for (const auto& k : jwks.value()) (void)shcx::jose::check_issuer_key(k);
    auto snap = shcx::trust::parse_vci_snapshot(text, "fuzz");
    if (!snap) return 0;
    shcx::trust::TrustStore store;
    std::string iss = snap.value().issuers.front().iss;
    std::string kid = snap.value().issuers.front().keys.empty() ? "" : snap.value().issuers.front().keys.front().kid;
    store.add_snapshot(std::move(snap.value()));
    auto match = store.find(iss, kid);
    for (const auto* k : match.keys) (void)store.checked(*k);
    (void)store.find_crl(iss, kid);
    return 0;
}
