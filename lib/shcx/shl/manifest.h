// Opening a SMART Health Link (docs/shl.md): the manifest request (POST with recipient,
// passcode when the link has P, embeddedLengthMax), or with U a GET of the one file; then
// every listed file, embedded or fetched from its location, decrypted with the link's key.
// Everything is bounded: URLs (https only, http to loopback), redirects (same origin, GET
// only), sizes, file count and time. Secrets (passcode, contents) stay in SecretStrings, and
// messages name the server's origin, never a URL path that could carry a capability.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/secure.h"
#include "shcx/shl/link.h"

namespace shcx::shl {

inline constexpr std::string_view kHealthCardType = "application/smart-health-card";
inline constexpr std::string_view kFhirType = "application/fhir+json";

inline constexpr size_t kMaxManifestBytes = 1u << 20;
inline constexpr size_t kMaxFileBytes = 16u << 20;
inline constexpr size_t kMaxFiles = 100;
inline constexpr size_t kMaxTotalBytes = 64u << 20;  // all decrypted files of one link
// Asked of the server: embed files up to this length, link the rest (keeps manifests small).
inline constexpr size_t kDefaultEmbeddedLengthMax = 64u << 10;

struct FetchOptions {
    std::string recipient = "shcx";          // shown to the sharer; required by the spec
    const SecretString* passcode = nullptr;  // sent only when the link has P
    size_t embedded_length_max = kDefaultEmbeddedLengthMax;
    size_t max_manifest_bytes = kMaxManifestBytes;
    size_t max_file_bytes = kMaxFileBytes;
    size_t max_files = kMaxFiles;
    size_t max_total_bytes = kMaxTotalBytes;
    long connect_timeout_s = 10;
    long request_timeout_s = 30;  // each request
    long link_timeout_s = 120;    // the manifest and all files together
    double now = 0;               // epoch seconds, for the link's exp
};

struct File {
    size_t index = 0;          // 1-based position in the manifest (1 with U)
    std::string content_type;  // media type without parameters, lower case
    std::string source;        // "embedded", "location" or "direct" (U)
    std::string last_updated;  // as the manifest says; may be empty
    SecretString content;      // decrypted (and inflated)
};

struct FileProblem {
    size_t index = 0;
    Error error;
};

struct Contents {
    std::string server;                 // origin of the link's url, e.g. "https://shl.example.org:443"
    std::string manifest_status;        // "finalized", "can-change", "no-longer-valid", or empty
    size_t listed = 0;                  // files the manifest lists (1 with U)
    std::vector<File> files;            // those read, in manifest order
    std::vector<FileProblem> errors;    // files that could not be read
    std::vector<FileProblem> warnings;  // SHL_CONTENT_SKIPPED: content shcx does not read
};

// Failures of the whole link: SHL_EXPIRED (checked before any request),
// SHL_PASSCODE_REQUIRED, SHL_PASSCODE_WRONG (with the remaining attempts), SHL_NOT_FOUND,
// SHL_INVALID (a manifest that breaks the spec), SHL_TOO_LARGE, SHL_FETCH_FAILED. A file
// that cannot be read is a FileProblem; the others are still returned.
Result<Contents> fetch(const Link& link, const FetchOptions& options);

// "application/fhir+json;fhirVersion=4.0.1" -> "application/fhir+json".
std::string media_type(std::string_view content_type);

}  // namespace shcx::shl
