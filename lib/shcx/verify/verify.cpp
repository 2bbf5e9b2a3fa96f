#include "shcx/verify/verify.h"

#include <algorithm>
#include <cstdio>

#include "shcx/timeutil.h"
#include "shcx/trust/x5c.h"
#include "shcx/verify/lint.h"

namespace shcx::verify {
namespace {

// When several rules fail, the status names the most fundamental one: a card that cannot
// be read says nothing about its signature, and a bad signature says nothing about dates.
Status status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::ISSUER_NOT_TRUSTED: return Status::UntrustedIssuer;
        case ErrorCode::KEY_UNKNOWN: return Status::UnknownKey;
        case ErrorCode::KEY_INVALID:
        case ErrorCode::KEY_KID_MISMATCH:
        case ErrorCode::X5C_INVALID: return Status::InvalidKey;
        case ErrorCode::JWS_SIGNATURE_INVALID:
        case ErrorCode::SIGNATURE_FORMAT_INVALID: return Status::InvalidSignature;
        case ErrorCode::REVOKED: return Status::Revoked;
        case ErrorCode::EXPIRED: return Status::Expired;
        case ErrorCode::NOT_YET_VALID: return Status::NotYetValid;
        default: return Status::Malformed;
    }
}

// "61", "0.4", "0.023": to the millisecond, without trailing zeros.
std::string seconds_text(double s) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", s);
    std::string out = buf;
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
    return out;
}

// How fundamental a status is (higher: more).
int rank(Status s) {
    switch (s) {
        case Status::Malformed: return 8;
        case Status::UntrustedIssuer: return 7;
        case Status::UnknownKey: return 6;
        case Status::InvalidKey: return 5;
        case Status::InvalidSignature: return 4;
        case Status::Revoked: return 3;
        case Status::Expired: return 2;
        case Status::NotYetValid: return 1;
        case Status::Valid: return 0;
    }
    return 8;
}

void check_revocation(Report& r, const trust::TrustStore& trust, const jose::Jwk& key, const card::Card& card,
                      const Options& opt) {
    const trust::Crl* crl = trust.find_crl(r.iss, r.kid);
    if (!crl) {
        if (const trust::InvalidCrl* bad = trust.find_invalid_crl(r.iss, r.kid)) {
            r.revocation = Revocation::Unknown;
            r.warnings.push_back(
                make_error(ErrorCode::CRL_INVALID, "the revocation list published for key " + r.kid +
                                                       " is invalid, so revocation is unknown: " + bad->error.message));
        } else if (key.crl_version) {
            r.revocation = Revocation::Unknown;
            r.warnings.push_back(make_error(ErrorCode::CRL_UNAVAILABLE,
                                            "key " + r.kid + " publishes a revocation list (crlVersion " +
                                                std::to_string(*key.crl_version) + ") but none is available"));
        } else {
            r.revocation = Revocation::NoCrl;
        }
        return;
    }
    bool stale = key.crl_version && crl->ctr < *key.crl_version;
    bool revoked = false;
    if (card.rid) {
        for (const auto& e : crl->entries) {
            if (e.rid != *card.rid) continue;
            // "X.T" revokes every card with rid X whose nbf is before T, whatever the time of
            // verification (a card without nbf cannot show it was issued after T).
            if (!e.before || !card.nbf || *card.nbf < *e.before) revoked = true;
        }
    }
    if (revoked) {
        r.revocation = Revocation::Revoked;
        r.errors.push_back(make_error(ErrorCode::REVOKED, "rid " + *card.rid + " is revoked by " + crl->source));
    } else if (stale) {
        r.revocation = Revocation::Unknown;
        r.warnings.push_back(make_error(
            ErrorCode::CRL_STALE, "the revocation list for key " + r.kid + " has ctr " + std::to_string(crl->ctr) +
                                      ", older than the key's crlVersion " + std::to_string(*key.crl_version)));
    } else {
        r.revocation = Revocation::NotRevoked;
    }
}

std::vector<policy::Answer> answer_policies(const Report& r, const Options& opt) {
    std::vector<policy::Answer> out;
    for (const auto& p : opt.policies) {
        policy::Answer a{p.name, {}};
        if (r.status == Status::Valid && r.card) {
            a.people = policy::evaluate(p, r.card->card, opt.at);
        } else if (r.card) {
            for (const auto& person : r.card->card.people)
                a.people.push_back({person.name,
                                    person.birth_date,
                                    false,
                                    {"the card is not valid (" + std::string(status_name(r.status)) + ")"}});
        }
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace

bool Report::accepted() const {
    if (status != Status::Valid) return false;
    for (const auto& a : policies)
        if (!a.pass()) return false;
    return true;
}

std::string_view status_name(Status s) {
    switch (s) {
        case Status::Valid: return "valid";
        case Status::InvalidSignature: return "invalid_signature";
        case Status::UntrustedIssuer: return "untrusted_issuer";
        case Status::UnknownKey: return "unknown_key";
        case Status::Revoked: return "revoked";
        case Status::Expired: return "expired";
        case Status::NotYetValid: return "not_yet_valid";
        case Status::Malformed: return "malformed";
        case Status::InvalidKey: return "invalid_key";
    }
    return "malformed";
}

std::string_view revocation_name(Revocation r) {
    switch (r) {
        case Revocation::NotRevoked: return "not_revoked";
        case Revocation::Revoked: return "revoked";
        case Revocation::NoCrl: return "no_crl";
        case Revocation::Unknown: return "unknown";
    }
    return "unknown";
}

Report input_failure(const input::InputError& e, const Options& opt) {
    Report r;
    r.origins = {e.input};
    r.errors.push_back(e.error);
    r.policies = answer_policies(r, opt);
    return r;
}

chunk_groups::Proof signature_proof(const trust::TrustStore& trust) {
    return [&trust](std::string_view jws) {
        auto d = decode::decode_jws(jws);
        if (!d) return false;
        for (const jose::Jwk* candidate : trust.find(d.value().card.iss, d.value().header.kid).keys) {
            const auto& checked = trust.checked(*candidate);
            if (checked.key && !checked.key->verify_es256(d.value().jws.signing_input(), d.value().jws.signature))
                return true;
        }
        return false;
    };
}

Report verify_card(const input::FoundCard& found, const trust::TrustStore& trust, const Options& opt) {
    Report r;
    r.origins = found.origins;
    r.kind = found.kind;
    r.warnings = found.warnings;
    auto decoded = decode::decode_jws(found.jws);
    if (!decoded) {
        r.errors.push_back(decoded.error());
        r.status = Status::Malformed;
        return r;
    }
    r.card = std::move(decoded.value());
    const auto& d = *r.card;
    const auto& card = d.card;
    r.iss = card.iss;
    r.kid = d.header.kid;
    for (const auto& e : d.header_problems) r.errors.push_back(e);
    for (const auto& e : card.problems) r.errors.push_back(e);
    for (const auto& w : card.warnings) r.warnings.push_back(w);

    // Trust: the pair (iss, kid).
    auto match = trust.find(card.iss, d.header.kid);
    const jose::Jwk* key = nullptr;
    if (match.issuer) {
        r.issuer_name = match.issuer->name;
        r.trust_source = match.issuer->source;
    }
    if (!match.issuer) {
        r.errors.push_back(
            make_error(ErrorCode::ISSUER_NOT_TRUSTED, "issuer " + card.iss + " is not in the trust store"));
    } else if (match.keys.empty()) {
        r.errors.push_back(
            make_error(ErrorCode::KEY_UNKNOWN, "issuer " + card.iss + " has no key with kid " + d.header.kid));
    } else {
        // The same kid may be listed more than once (one entry per certificate); any
        // entry that passes the key rules and verifies the signature will do.
        std::vector<Error> key_errors;
        std::optional<Error> sig_error;
        for (const jose::Jwk* candidate : match.keys) {
            const auto& checked = trust.checked(*candidate);
            if (!checked.key) {
                key_errors.insert(key_errors.end(), checked.problems.begin(), checked.problems.end());
                continue;
            }
            auto e = checked.key->verify_es256(d.jws.signing_input(), d.jws.signature);
            if (!e) {
                key = candidate;
                break;
            }
            if (!sig_error || e->code == ErrorCode::SIGNATURE_FORMAT_INVALID) sig_error = e;
        }
        if (key) {
            r.trusted = true;
        } else if (sig_error) {
            r.trusted = true;
            r.errors.push_back(*sig_error);
        } else {
            r.errors.insert(r.errors.end(), key_errors.begin(), key_errors.end());
        }
    }

    if (key) {
        auto x5c_problems = x5c::check(*key, card.iss, card.nbf.value_or(opt.at), opt.x5c_anchors);
        auto& dest = opt.x5c_anchors.empty() ? r.warnings : r.errors;
        dest.insert(dest.end(), x5c_problems.begin(), x5c_problems.end());
    }

    // Validity window, on the one clock, with leeway for an issuer clock running ahead.
    if (card.nbf && opt.at < *card.nbf) {
        double ahead = *card.nbf - opt.at;
        std::string seconds = seconds_text(ahead);
        if (ahead <= opt.clock_skew)
            r.warnings.push_back(
                make_error(ErrorCode::CLOCK_SKEW_APPLIED, "nbf is " + seconds +
                                                              " s after the verification time; accepted within the " +
                                                              seconds_text(opt.clock_skew) + " s clock-skew leeway"));
        else
            r.errors.push_back(make_error(ErrorCode::NOT_YET_VALID,
                                          "the card is not valid before " + timeutil::format_utc(*card.nbf) +
                                              " (nbf), " + seconds + " s after the verification time: more than the " +
                                              seconds_text(opt.clock_skew) + " s clock-skew leeway"));
    }
    if (card.exp && *card.exp < opt.at) {
        auto e = make_error(ErrorCode::EXPIRED, "the card expired on " + timeutil::format_utc(*card.exp) + " (exp)");
        (opt.allow_expired ? r.warnings : r.errors).push_back(e);
    }

    if (key) check_revocation(r, trust, *key, card, opt);
    if (opt.producer_rules)
        for (auto& w : lint::check(found, d)) r.warnings.push_back(std::move(w));

    r.status = Status::Valid;
    for (const auto& e : r.errors)
        if (rank(status_for(e.code)) > rank(r.status)) r.status = status_for(e.code);
    r.policies = answer_policies(r, opt);
    return r;
}

}  // namespace shcx::verify
