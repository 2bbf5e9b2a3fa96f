// Issuing a SMART Health Card, for test cards and demos (`shcx issue`, bench/gen_cards):
// FHIR bundle + claims -> minified payload -> raw DEFLATE -> ES256 compact JWS -> the
// shc:/ texts of its QR codes (one, or balanced chunks past 1195 characters).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/issue/qr_write.h"
#include "shcx/jose/es256.h"

namespace shcx::issue {

struct Claims {
    std::string iss;  // https://, no trailing slash
    double nbf = 0;   // issue time, seconds since the epoch
    std::optional<double> exp;
    std::string rid;  // vc.rid; empty for none
    std::string fhir_version = "4.0.1";
    std::vector<std::string> extra_types;  // vc.type entries after #health-card
};

// The minified payload JSON: iss, nbf, exp, vc{type, credentialSubject, rid}, in the order
// of the specification's examples. ISSUER_URL_INVALID or RID_INVALID for bad claims,
// CARD_SCHEMA_INVALID unless the bundle is a FHIR Bundle.
Result<std::string> build_payload(std::string_view bundle_json, const Claims& claims);

struct IssuedCard {
    std::string jws;
    std::vector<std::string> qr_texts;  // "shc:/..." or "shc:/C/N/..." per chunk
};

// Signs a payload as a card: header {"zip":"DEF","alg":"ES256","kid":...}.
Result<IssuedCard> sign_payload(std::string_view payload_json, const jose::PrivateKey& key);

// build_payload, then sign_payload.
Result<IssuedCard> issue(std::string_view bundle_json, const Claims& claims, const jose::PrivateKey& key);

// A .smart-health-card file holding the card: {"verifiableCredential":["JWS"]} and a newline.
std::string health_card_file(std::string_view jws);

// One QR symbol per text (JWS_TOO_LONG_FOR_QR when one needs more than version 22).
Result<std::vector<qr_write::Symbol>> qr_symbols(const std::vector<std::string>& qr_texts);

}  // namespace shcx::issue
