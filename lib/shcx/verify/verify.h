// The verification pipeline (docs/verification.md): a found card -> decode -> trust lookup by
// (iss, kid) -> ES256 -> time window -> revocation -> venue policies -> Report. Every
// failed rule is an Error with its stable code in Report::errors; the Report's status
// names the most fundamental failure. Nothing here prints, exits or writes to disk.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "shcx/card/decode.h"
#include "shcx/error.h"
#include "shcx/read/input.h"
#include "shcx/trust/trust.h"
#include "shcx/verify/policy.h"

namespace shcx::verify {

// InvalidKey: the trusted entry for (iss, kid) breaks the issuer key rules (KEY_INVALID,
// KEY_KID_MISMATCH) or, with x5c anchors, its certificate chain (X5C_INVALID).
enum class Status {
    Valid,
    InvalidSignature,
    UntrustedIssuer,
    UnknownKey,
    Revoked,
    Expired,
    NotYetValid,
    Malformed,
    InvalidKey
};
std::string_view status_name(Status s);  // "valid", "invalid_signature", ...

enum class Revocation { NotRevoked, Revoked, NoCrl, Unknown };
std::string_view revocation_name(Revocation r);  // "not_revoked", "revoked", "no_crl", "unknown"

inline constexpr double kDefaultClockSkew = 60;

struct Options {
    double at = 0;                         // the one clock for nbf, exp, certificates
    bool allow_expired = false;            // EXPIRED becomes a warning
    std::vector<std::string> x5c_anchors;  // PEM; with anchors, x5c problems are errors
    std::vector<policy::Policy> policies;  // answered per person for every card
    // Leeway for an issuer's clock ahead of ours: a card whose nbf is at most this many
    // seconds after `at` is valid, with a CLOCK_SKEW_APPLIED warning.
    double clock_skew = kDefaultClockSkew;
    bool producer_rules = false;  // also report the producer rules (lint.h) as warnings
};

struct Report {
    Status status = Status::Malformed;
    std::vector<std::string> origins;
    input::Kind kind = input::Kind::Jws;
    std::string iss, issuer_name, kid;
    std::string trust_source;  // where the trust came from: "VCI snapshot", "local", "--jwks FILE", ...
    bool trusted = false;      // (iss, kid) found in the trust store
    Revocation revocation = Revocation::Unknown;
    std::optional<decode::DecodedCard> card;  // absent when the JWS could not be decoded
    std::vector<Error> errors, warnings;
    // One answer per Options::policies entry. A card that is not valid fails every policy
    // for every person on it: a policy is only as good as the card it reads.
    std::vector<policy::Answer> policies;

    // Valid, and every person passes every policy.
    bool accepted() const;
};

Report verify_card(const input::FoundCard& found, const trust::TrustStore& trust, const Options& options);

// A Report for an input that held no readable card (status malformed; every policy fails).
Report input_failure(const input::InputError& error, const Options& options = {});

// For chunk grouping (input::extract_cards): true when the JWS's signature verifies with
// a key the store trusts for its (iss, kid). The store must outlive the proof.
chunk_groups::Proof signature_proof(const trust::TrustStore& trust);

}  // namespace shcx::verify
