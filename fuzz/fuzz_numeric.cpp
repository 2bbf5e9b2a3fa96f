// shc:/ numeric parsing and chunk reassembly: each input line is one QR text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shcx/read/numeric.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<shcx::numeric::SourcedChunk> chunks;
    size_t pos = 0, n = 0;
    while (pos <= text.size() && n < 200) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        auto chunk = shcx::numeric::parse_qr_text(text.substr(pos, nl - pos));
        if (chunk) chunks.push_back({std::move(chunk.value()), "line" + std::to_string(n), n});
        pos = nl + 1;
        ++n;
    }
    auto assembled = shcx::numeric::assemble(std::move(chunks));
    for (const auto& card : assembled.cards) {
        // Round trip: what we reassembled re-encodes to digits that decode to itself.
        auto back = shcx::numeric::decode_digits(shcx::numeric::encode_digits(card.jws));
        if (!back || back.value() != card.jws) __builtin_trap();
    }
    return 0;
}
