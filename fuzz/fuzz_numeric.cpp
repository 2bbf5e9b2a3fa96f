// shc:/ numeric parsing and chunk grouping: each input line is one QR text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shcx/read/chunk_groups.h"
#include "shcx/read/numeric.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<shcx::chunk_groups::Piece> chunks;
    size_t pos = 0, n = 0;
    while (pos <= text.size() && n < 200) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        auto chunk = shcx::numeric::parse_qr_text(text.substr(pos, nl - pos));
        // Every fourth line is another "source", so grouping sees complete sets and loose chunks.
        if (chunk && chunk.value().total > 1)
            chunks.push_back({std::move(chunk.value()), "line" + std::to_string(n), n / 4});
        pos = nl + 1;
        ++n;
    }
    // A proof that accepts any JWS with its two dots makes grouping try combinations.
    auto assembled = shcx::chunk_groups::group(chunks, {[](std::string_view) { return true; }});
    for (const auto& card : assembled.cards) {
        // Round trip: what we reassembled re-encodes to digits that decode to itself.
        auto back = shcx::numeric::decode_digits(shcx::numeric::encode_digits(card.jws));
        if (!back || back.value() != card.jws) __builtin_trap();
    }
    // Each chunk ends up in at most one card, in its place 1..N.
    std::vector<int> used(chunks.size(), 0);
    for (const auto& card : assembled.cards) {
        for (size_t k = 0; k < card.pieces.size(); ++k) {
            if (chunks[card.pieces[k]].chunk.index != static_cast<int>(k) + 1) __builtin_trap();
            ++used[card.pieces[k]];
        }
        for (size_t d : card.duplicates) ++used[d];
    }
    for (int u : used)
        if (u > 1) __builtin_trap();
    return 0;
}
