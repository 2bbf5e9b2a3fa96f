// The trust model: which issuers (iss) and keys (kid) a verifier accepts, and their
// revocation lists. Sources: the VCI directory snapshot, local issuers (trust add),
// one-off --trust / --jwks / --crl files. Trust binds the pair (iss, kid): the same kid
// under another iss is not trusted (the real VCI snapshot lists one kid under 161 iss).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/jose/es256.h"

namespace shcx::trust {

// One "rids" entry: "X" revokes every card with rid X; "X.T" revokes cards with rid X
// whose nbf is before T (seconds).
struct CrlEntry {
    std::string rid;
    std::optional<double> before;
};

struct Crl {
    std::string kid;
    std::string method;  // only "rid" is defined
    long ctr = 0;
    std::vector<CrlEntry> entries;
    std::string source;  // where it came from, for messages
};

// CRL_INVALID for: not JSON, no kid, method other than "rid", non-integer ctr, a rid
// over 24 characters or outside base64url, a bad timestamp, a duplicate rid.
Result<Crl> parse_crl(std::string_view json, const std::string& source);

// A revocation list that was published but could not be used: a card signed with `kid`
// then has revocation "unknown" with this CRL_INVALID as its warning (not CRL_UNAVAILABLE:
// the list is there, it is broken).
struct InvalidCrl {
    std::string iss, kid;  // kid empty when the list does not say
    Error error;
};
// The kid a CRL names, when it names one in readable JSON; empty otherwise.
std::string crl_kid(std::string_view json);

struct Issuer {
    std::string iss, name, website, canonical_iss;
    std::string source;           // "vci", "local", a file name
    std::vector<jose::Jwk> keys;  // repeated kids kept (one entry per certificate is legal)
};

// Parses {"issuerInfo":[{"issuer":{iss,name,...},"keys":[...],"crls":[...]}]} with the
// real file's quirks (ctr / crlVersion as strings, extra key members).
struct Snapshot {
    std::string time;  // the snapshot's "time"
    std::vector<Issuer> issuers;
    std::vector<std::pair<std::string, Crl>> crls;  // (iss, crl)
    std::vector<InvalidCrl> invalid_crls;           // CRL entries skipped
    std::vector<Error> warnings;                    // their CRL_INVALID errors
};
Result<Snapshot> parse_vci_snapshot(std::string_view json, const std::string& source);

// Issuers that are looked up one at a time instead of all being built up front (the
// compiled trust index: trust/index.h). Every member is thread-safe; the issuers it hands
// out live as long as it does. Its issuers have distinct, non-empty iss.
class IssuerSource {
public:
    virtual ~IssuerSource() = default;
    virtual size_t size() const = 0;
    virtual bool contains(std::string_view iss) const = 0;
    // The issuer with this iss, nullptr when there is none.
    virtual const Issuer* find(std::string_view iss) const = 0;
    // Every issuer, in the source's order.
    virtual std::vector<Issuer> all() const = 0;
};

class TrustStore {
public:
    // Issuers looked up in `source` when a card names them. They come before any issuer
    // added later, as add_snapshot's would; an issuer added later with an iss the source
    // also has is merged into it, as add_issuer does (the source is then built in full).
    void add_issuers(std::shared_ptr<const IssuerSource> source);
    void add_snapshot(Snapshot snapshot);
    // Merges keys into an existing issuer with the same iss. An issuer with an empty iss
    // holds keys trusted under any iss (a one-off `--jwks FILE` without an issuer URL).
    void add_issuer(Issuer issuer);
    // A CRL for (iss, crl.kid); an empty iss applies to the kid under every iss.
    void add_crl(const std::string& iss, Crl crl);
    void add_invalid_crl(InvalidCrl crl);

    struct Match {
        const Issuer* issuer = nullptr;      // nullptr: iss not trusted
        std::vector<const jose::Jwk*> keys;  // empty: kid unknown for this iss
    };
    Match find(std::string_view iss, std::string_view kid) const;
    // The newest (highest ctr) CRL that applies to (iss, kid), if any.
    const Crl* find_crl(std::string_view iss, std::string_view kid) const;
    // A broken list published for (iss, kid), if any.
    const InvalidCrl* find_invalid_crl(std::string_view iss, std::string_view kid) const;

    // A trusted key after the issuer key rules: its problems (KEY_INVALID,
    // KEY_KID_MISMATCH) or its ready-to-use public key. Checking a point is as costly as
    // a signature verification, so each distinct key is checked once and remembered
    // (thread-safe: verify --jobs shares one store).
    struct CheckedKey {
        std::vector<Error> problems;
        std::optional<jose::PublicKey> key;
    };
    const CheckedKey& checked(const jose::Jwk& jwk) const;

    // Every issuer (those of a source included: this builds them all).
    const std::vector<Issuer>& issuers() const;
    size_t crl_count() const { return m_crls.size(); }
    bool empty() const { return m_issuers.empty() && (!m_source || m_source->size() == 0); }

private:
    // Turns the source's issuers into ordinary ones, before the others.
    void materialise();
    std::shared_ptr<const IssuerSource> m_source;
    struct AllIssuers {
        std::mutex mutex;
        std::optional<std::vector<Issuer>> list;
    };
    std::shared_ptr<AllIssuers> m_all;  // issuers() with a source
    std::vector<Issuer> m_issuers;
    std::map<std::string, size_t, std::less<>> m_by_iss;
    std::vector<std::pair<std::string, Crl>> m_crls;
    std::vector<InvalidCrl> m_invalid_crls;
    struct KeyCache {
        KeyCache();
        const unsigned long long serial;  // unique in the process: a thread's last hit names its cache by it
        std::mutex mutex;
        std::map<std::string, std::unique_ptr<CheckedKey>> entries;
    };
    std::shared_ptr<KeyCache> m_key_cache = std::make_shared<KeyCache>();
};

// Issuers from a JWKS file: {"keys":[...]} bound to `iss`.
Result<Issuer> issuer_from_jwks(std::string_view jwks_json, const std::string& iss, const std::string& source);

}  // namespace shcx::trust
