#include "shcx/read/numeric.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "shcx/base64url.h"

namespace shcx::numeric {
namespace {

constexpr std::string_view kPrefix = "shc:/";

// Parses a small decimal (no sign, no leading zero except "0" itself, at most 3 digits).
bool parse_small(std::string_view s, int& out) {
    if (s.empty() || s.size() > 3 || (s[0] == '0' && s.size() > 1)) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string encode_digits(std::string_view jws) {
    std::string out;
    out.reserve(jws.size() * 2);
    for (char c : jws) {
        int v = static_cast<unsigned char>(c) - 45;
        out += static_cast<char>('0' + v / 10);
        out += static_cast<char>('0' + v % 10);
    }
    return out;
}

Result<std::string> decode_digits(std::string_view digits) {
    if (digits.empty()) return make_error(ErrorCode::QR_NUMERIC_INVALID, "no digits after the shc:/ header");
    for (size_t i = 0; i < digits.size(); ++i) {
        if (digits[i] < '0' || digits[i] > '9')
            return make_error(ErrorCode::QR_NUMERIC_INVALID,
                              "non-digit character at position " + std::to_string(i) + " of the numeric data");
    }
    if (digits.size() % 2 != 0)
        return make_error(ErrorCode::QR_NUMERIC_INVALID,
                          "odd number of digits (" + std::to_string(digits.size()) + "): digits must come in pairs");
    std::string out;
    out.reserve(digits.size() / 2);
    for (size_t i = 0; i < digits.size(); i += 2) {
        int v = (digits[i] - '0') * 10 + (digits[i + 1] - '0');
        char c = static_cast<char>(v + 45);
        // Only pairs that map to the base64url alphabet or '.' can be part of a JWS.
        if (!base64url::is_alphabet(c) && c != '.')
            return make_error(ErrorCode::QR_NUMERIC_INVALID,
                              "digit pair " + std::string(digits.substr(i, 2)) + " at position " + std::to_string(i) +
                                  " does not encode a JWS character");
        out += c;
    }
    return out;
}

Result<Chunk> parse_qr_text(std::string_view text) {
    if (text.substr(0, kPrefix.size()) != kPrefix)
        return make_error(ErrorCode::QR_HEADER_INVALID, "QR content does not start with shc:/");
    std::string_view rest = text.substr(kPrefix.size());
    Chunk chunk;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        auto slash2 = rest.find('/', slash + 1);
        if (slash2 == std::string_view::npos)
            return make_error(ErrorCode::QR_HEADER_INVALID, "chunk header must be shc:/C/N/ (found one '/')");
        if (!parse_small(rest.substr(0, slash), chunk.index) ||
            !parse_small(rest.substr(slash + 1, slash2 - slash - 1), chunk.total))
            return make_error(ErrorCode::QR_HEADER_INVALID, "chunk header must be shc:/C/N/ with decimal C and N");
        if (chunk.total < 2 || chunk.total > kMaxChunks)
            return make_error(ErrorCode::QR_CHUNK_INDEX_INVALID,
                              "chunk count N=" + std::to_string(chunk.total) + " is out of range 2.." +
                                  std::to_string(kMaxChunks) + " (1/1/ is not a chunk header)");
        if (chunk.index < 1 || chunk.index > chunk.total)
            return make_error(ErrorCode::QR_CHUNK_INDEX_INVALID, "chunk index " + std::to_string(chunk.index) +
                                                                     " is outside 1.." +
                                                                     std::to_string(chunk.total));
        rest = rest.substr(slash2 + 1);
    }
    auto jws = decode_digits(rest);
    if (!jws) return jws.error();
    chunk.jws_part = std::move(jws.value());
    return chunk;
}

std::vector<std::string> qr_texts_for_jws(std::string_view jws) {
    if (jws.size() <= kMaxSingleQrJws) return {std::string(kPrefix) + encode_digits(jws)};
    size_t n = (jws.size() + kMaxChunkJws - 1) / kMaxChunkJws;
    size_t per = (jws.size() + n - 1) / n;  // balanced sizes, as the spec recommends
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) {
        std::string_view part = jws.substr(i * per, per);
        out.push_back(std::string(kPrefix) + std::to_string(i + 1) + "/" + std::to_string(n) + "/" +
                      encode_digits(part));
    }
    return out;
}

AssembleResult assemble(std::vector<SourcedChunk> chunks) {
    AssembleResult result;
    std::map<int, std::vector<SourcedChunk>> groups;  // by N
    for (auto& sc : chunks) {
        if (sc.chunk.total == 1) {
            result.cards.push_back({std::move(sc.chunk.jws_part), {std::move(sc.origin)}, 1, sc.order});
        } else {
            groups[sc.chunk.total].push_back(std::move(sc));
        }
    }
    for (auto& [total, group] : groups) {
        std::stable_sort(group.begin(), group.end(),
                         [](const SourcedChunk& a, const SourcedChunk& b) { return a.chunk.index < b.chunk.index; });
        std::string duplicates, missing;
        std::vector<const SourcedChunk*> by_index(static_cast<size_t>(total) + 1, nullptr);
        for (const auto& sc : group) {
            auto& slot = by_index[static_cast<size_t>(sc.chunk.index)];
            if (slot) {
                duplicates += (duplicates.empty() ? "" : ", ") + std::to_string(sc.chunk.index) + " (" +
                              slot->origin + " and " + sc.origin + ")";
            } else {
                slot = &sc;
            }
        }
        for (int i = 1; i <= total; ++i)
            if (!by_index[static_cast<size_t>(i)]) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
        std::string of = " of a " + std::to_string(total) + "-chunk card";
        if (!duplicates.empty()) {
            result.errors.push_back(make_error(ErrorCode::QR_CHUNK_DUPLICATE, "duplicate chunk " + duplicates + of));
            continue;
        }
        if (!missing.empty()) {
            result.errors.push_back(make_error(ErrorCode::QR_CHUNK_MISSING, "missing chunk " + missing + of));
            continue;
        }
        Assembled card;
        card.chunks = total;
        card.order = by_index[1]->order;
        for (int i = 1; i <= total; ++i) {
            const auto* sc = by_index[static_cast<size_t>(i)];
            card.jws += sc->chunk.jws_part;
            card.origins.push_back(sc->origin);
            card.order = std::min(card.order, sc->order);
        }
        result.cards.push_back(std::move(card));
    }
    return result;
}

}  // namespace shcx::numeric
