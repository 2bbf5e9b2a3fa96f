// A real HTTP server on 127.0.0.1 (random port) serving the VCI vectors for trust sync
// tests, with switchable failure modes, and /echo (GET, POST, DELETE) for the HTTP client
// tests. Stops when the object is destroyed.
#pragma once

#include <atomic>
#include <memory>
#include <string>

namespace shcx::test {

class VciServer {
public:
    enum class Mode {
        Good,
        TamperedSnapshot,
        TamperedSignature,
        WrongCertificate,
        Error500,
        Truncated,
        NewVersion,
        SnapshotAtSizeLimit,   // exactly 64 MiB (passes the size cap, fails the signature)
        SnapshotPastSizeLimit  // 64 MiB + 1 byte
    };
    // Without the VCI vectors (read from ../shared/vectors), only serve_jwks() is served.
    explicit VciServer(bool with_vci_vectors = true);
    ~VciServer();
    std::string url() const;  // http://127.0.0.1:PORT
    void set_mode(Mode m) { m_mode = m; }
    void set_delay_ms(int ms) { m_delay_ms = ms; }
    int snapshot_bodies_sent() const { return m_bodies; }
    // GET /.well-known/jwks.json answers this (for `trust add --fetch`, the server's URL
    // standing in for an issuer); 404 until set.
    void serve_jwks(std::string body, int status = 200);
    int not_modified_sent() const { return m_not_modified; }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::atomic<Mode> m_mode{Mode::Good};
    std::atomic<int> m_delay_ms{0}, m_bodies{0}, m_not_modified{0};
};

}  // namespace shcx::test
