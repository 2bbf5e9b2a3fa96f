// Input sniffing: whatever a user holds -> the compact JWS of each card in it.
// The kind is decided by content, never by file extension:
//   image (PNG/JPEG/GIF/BMP/PNM) -> QR texts -> shc:/ chunks
//   text starting with shc:/    -> one chunk per line
//   base64url '.'-separated text -> compact JWS
//   JSON {"verifiableCredential":[...]}     (.smart-health-card file)
//   JSON {"resourceType":"Parameters",...}  (FHIR $health-cards-issue response)
//   shlink:/... or https://viewer#shlink:/... (text or QR): a SMART Health Link, returned
//     as found; opening it needs the network, so that is shl::fetch's job, not input's
// Chunks are joined into cards in any order, per card (chunk_groups.h): a complete set in
// one input stands alone, loose chunks are joined only as far as it can be shown.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "shcx/error.h"
#include "shcx/read/chunk_groups.h"
#include "shcx/read/qr_symbol.h"

namespace shcx::input {

// Largest input file we read; real cards and QR photos are far smaller.
inline constexpr size_t kMaxInputBytes = 32u << 20;

enum class Kind { Image, QrText, Jws, HealthCardFile, FhirParameters };
std::string_view kind_name(Kind kind);

// One input as read: its name (a file name, "-" for stdin) and its bytes.
struct NamedBytes {
    std::string name;
    std::string bytes;
};

// One QR code (image symbol or shc:/ text) a card was read from, for the producer rules.
struct QrPart {
    std::string origin;
    std::string text;                          // as read: "shc:/..." or "shc:/C/N/..."
    size_t jws_chars = 0;                      // JWS characters it carries
    std::optional<qr_symbol::Reading> symbol;  // from an image: what the symbol itself says
};

struct FoundCard {
    std::string jws;
    std::vector<std::string> origins;  // inputs (and QR symbol numbers) it came from; exact
                                       // copies of its chunks elsewhere come last
    Kind kind = Kind::Jws;
    int chunks = 1;
    std::vector<QrPart> qr;       // in chunk order; empty for JWS and JSON inputs
    std::vector<Error> warnings;  // JWS_TOO_LONG_FOR_QR, TRAILING_CHARACTERS, QR_CHUNK_HEADER_UNNEEDED
};

struct InputError {
    std::string input;  // which input(s) the error is about
    Error error;
};

// A SMART Health Link found in an input (docs/shl.md). `text` holds the link's key.
struct FoundLink {
    std::string text;
    std::string origin;
    Kind kind = Kind::QrText;  // Image when read from a QR code
};

struct Extraction {
    std::vector<FoundCard> cards;  // in input order
    std::vector<InputError> errors;
    std::vector<FoundLink> links;  // in input order
};

// `jobs` > 1 reads the sources on that many threads; the result is the same. When loose
// chunks leave a choice, `proofs` (best first) pick the combinations: the caller's, as
// reading knows nothing of cards, e.g. {verify::signature_proof(trust), decode::jws_decodes}.
Extraction extract_cards(const std::vector<NamedBytes>& sources, int jobs = 1,
                         const std::vector<chunk_groups::Proof>& proofs = {});

// An input file with the kMaxInputBytes cap (see fsutil::read_file). Standard input is
// the caller's to read: the library never touches it.
Result<std::string> read_input_file(const std::string& path, size_t max_bytes = kMaxInputBytes);

}  // namespace shcx::input
