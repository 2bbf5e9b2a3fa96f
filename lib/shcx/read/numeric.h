// The shc:/ numeric QR encoding (cards-specification, "Encoding Chunks as QR codes"):
// each JWS character c becomes the two digits of ord(c) - 45, and a card too long for one
// QR may be split as shc:/C/N/digits (deprecated since spec 1.3.0, still read).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"

namespace shcx::numeric {

// "A single QR holds a JWS of at most 1195 characters (version 22, ECC L)".
inline constexpr size_t kMaxSingleQrJws = 1195;
// Per-chunk JWS budget when a card must be split: the `C/N/` header takes room.
inline constexpr size_t kMaxChunkJws = 1191;
// Chunks per card we accept when reading; real cards never need more than a handful.
inline constexpr int kMaxChunks = 99;

struct Chunk {
    int index = 1;         // C, 1-based; 1 for an unchunked card
    int total = 1;         // N; 1 for an unchunked card
    std::string jws_part;  // the decoded JWS characters of this chunk
    // "shc:/1/1/": a producer error (the header is only for cards needing several QR
    // codes), but the card is whole: read as unchunked, reported as
    // QR_CHUNK_HEADER_UNNEEDED by input.
    bool unneeded_header = false;
};

// Parses one QR text ("shc:/digits" or "shc:/C/N/digits").
Result<Chunk> parse_qr_text(std::string_view text);

// Digits <-> JWS characters.
std::string encode_digits(std::string_view jws);
Result<std::string> decode_digits(std::string_view digits);

// The QR texts that carry a JWS: one "shc:/..." text, or N "shc:/C/N/..." texts of
// near-equal size when the JWS is longer than kMaxSingleQrJws.
std::vector<std::string> qr_texts_for_jws(std::string_view jws);

// Chunks are grouped into cards by chunk_groups.h.

}  // namespace shcx::numeric
