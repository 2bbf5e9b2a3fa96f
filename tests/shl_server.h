// A SMART Health Links server for tests, in-process on 127.0.0.1 (random port), built on
// cpp-httplib: a manifest endpoint (POST, with an optional passcode and a lifetime count of
// wrong ones), the same URL answering GET for U links, and location files. Failure modes
// are switchable. Files are encrypted with lib/shcx/shl/jwe (the interop test checks that
// encryption against an independent implementation). Stops when destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace shcx::test {

class ShlServer {
public:
    enum class Mode {
        Normal,
        Gone,                      // 404 for the manifest, U file and location files
        ManifestError500,          // the manifest request answers 500
        ManifestTooLarge,          // a manifest of 1 MiB + 1 byte
        FileTooLarge,              // every location file is 16 MiB + 1 byte
        RedirectManifest,          // the manifest POST answers 307 to the same URL
        RedirectFilesSameOrigin,   // location files answer 302 to another path on this server
        RedirectFilesOtherOrigin,  // location files answer 302 to http://localhost:PORT/...
        Slow,                      // every answer waits 3 s first
    };

    ShlServer();
    ~ShlServer();
    ShlServer(const ShlServer&) = delete;
    ShlServer& operator=(const ShlServer&) = delete;

    std::string base_url() const;      // http://127.0.0.1:PORT
    std::string manifest_url() const;  // base_url()/m/<43 random base64url characters>
    const std::string& key() const;    // 32 raw bytes

    // shlink:/... to this server (with flag U: to its first file).
    std::string link(const std::string& flag = "", std::optional<int64_t> exp = std::nullopt,
                     const std::string& label = "") const;

    // Lists `plaintext` encrypted with the link key: embedded in the manifest, or at a location.
    void add_file(const std::string& content_type, const std::string& plaintext, bool embed, bool deflate = false);
    // Lists any text as the file's JWE, and any contentType (for broken entries).
    void add_raw_file(const std::string& content_type, const std::string& jwe, bool embed);
    // Serves `manifest` verbatim instead of the one built from the files.
    void set_manifest(const std::string& manifest);
    // Requires this passcode; `attempts` wrong ones disable the link (then 404).
    void set_passcode(const std::string& passcode, int attempts);
    void set_mode(Mode m) { m_mode = m; }

    int manifest_requests() const { return m_manifest_requests; }
    int file_requests() const { return m_file_requests; }
    std::string last_manifest_body() const;    // the last POST body
    std::string last_recipient_query() const;  // recipient= of the last GET of the U file

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::atomic<Mode> m_mode{Mode::Normal};
    std::atomic<int> m_manifest_requests{0}, m_file_requests{0};
};

}  // namespace shcx::test
