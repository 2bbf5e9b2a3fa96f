// The VCI directory snapshot's signature (docs/verification.md F): vci_snapshot.sig is a DER
// ECDSA signature over SHA-512 of the exact bytes of vci_snapshot.json, made with the key
// of vci_snapshot.crt (P-521), which is pinned by its SHA-256 fingerprint.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"

namespace shcx::vci {

struct Source {
    std::string name;  // "vci", or the mirror URL
    std::string snapshot_url, signature_url, certificate_url;
    std::string certificate_sha256;  // "C3:E4:..."
};

// The configured sources (trust/sources.json, compiled in); the first is the default.
const std::vector<Source>& sources();
// A configured source by name, or a mirror URL serving the three files under URL/
// (held to the default source's pin). USAGE for an unknown name or a non-https URL.
Result<Source> resolve_source(std::string_view name_or_url);

// "AA:BB:..." of SHA-256 over the certificate's DER encoding.
std::string fingerprint_sha256(std::string_view der);

// SNAPSHOT_SIGNATURE_INVALID when the certificate cannot be read, its fingerprint is not
// `pin`, it is not valid at `at`, or the signature does not verify over `snapshot`.
std::optional<Error> verify_snapshot(std::string_view snapshot, std::string_view signature_der,
                                     std::string_view certificate_pem_or_der, std::string_view pin, double at);

}  // namespace shcx::vci
