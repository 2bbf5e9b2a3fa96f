// Which shc:/C/N/ chunks make which card, when many inputs are read at once (a folder of
// QR images, a sheet holding every chunk next to the single-chunk images of the same
// card, two multi-chunk cards). Only what can be shown to belong together is joined:
//   1. exact copies of a chunk (same C, N and digits) count once;
//   2. a complete set 1..N inside one input (file or image) is a card on its own;
//   3. the remaining ("loose") chunks with the same N are joined when the choice is
//      forced (one candidate per index), or else by trying the combinations and keeping
//      those whose assembled JWS passes a proof (signature verifies; failing that, the
//      JWS decodes), best proof first;
//   4. what is left is QR_CHUNK_MISSING or QR_CHUNK_DUPLICATE, naming the inputs.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/error.h"
#include "shcx/read/numeric.h"

namespace shcx::chunk_groups {

struct Piece {
    numeric::Chunk chunk;  // total > 1 (unchunked texts are cards already)
    std::string origin;    // "card-1.png", "sheet.png#qr2", "chunks.txt:3"
    size_t source = 0;     // which input it came from: complete sets within one source stand alone
};

// True when an assembled JWS is shown to be one card. Called only to choose between
// several candidate chunks for the same index.
using Proof = std::function<bool(std::string_view jws)>;

// Combinations tried per chunk count N, across all proofs: each try may cost a
// signature verification, and real batches need a handful.
inline constexpr size_t kMaxCombinations = 1024;

struct Card {
    std::string jws;
    int chunks = 0;
    std::vector<size_t> pieces;      // indices into the input, in chunk order 1..N
    std::vector<size_t> duplicates;  // exact copies of those chunks, dropped
    size_t source = 0;               // smallest source among its pieces
};

struct Problem {
    std::string inputs;  // the origins involved, ", "-separated
    Error error;         // QR_CHUNK_MISSING or QR_CHUNK_DUPLICATE
};

struct Grouping {
    std::vector<Card> cards;  // in order of their first source
    std::vector<Problem> problems;
};

Grouping group(const std::vector<Piece>& pieces, const std::vector<Proof>& proofs = {});

}  // namespace shcx::chunk_groups
