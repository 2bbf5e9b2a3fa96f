#include "shcx/read/input.h"

#include <algorithm>
#include <cctype>

#include "shcx/base64url.h"
#include "shcx/detail/json.h"
#include "shcx/fsutil.h"
#include "shcx/parallel.h"
#include "shcx/read/image.h"
#include "shcx/read/numeric.h"
#include "shcx/read/qr_read.h"
#include "shcx/shl/link.h"

namespace shcx::input {
namespace {

using detail::Json;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

struct Trimmed {
    std::string_view text;
    bool had_bom = false;
    bool had_extra = false;  // whitespace beyond one final line break
};

Trimmed trim(std::string_view s) {
    Trimmed t;
    if (s.substr(0, 3) == "\xEF\xBB\xBF") {
        t.had_bom = true;
        s.remove_prefix(3);
    }
    size_t b = 0, e = s.size();
    while (b < e && is_space(s[b])) ++b;
    while (e > b && is_space(s[e - 1])) --e;
    std::string_view tail = s.substr(e);
    t.had_extra = b > 0 || !(tail.empty() || tail == "\n" || tail == "\r\n");
    t.text = s.substr(b, e - b);
    return t;
}

bool looks_like_jws(std::string_view s) {
    if (s.find('.') == std::string_view::npos) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || base64url::is_alphabet(c); });
}

bool looks_binary(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u == 0 || (u < 0x20 && !is_space(c));
    });
}

struct Pending {
    size_t source_index;
    std::string origin;
    numeric::Chunk chunk;
    Kind kind;
    QrPart part;
};

std::vector<Error> qr_warnings(const numeric::Chunk& chunk, size_t jws_size, int chunks) {
    std::vector<Error> out;
    if (chunk.unneeded_header)
        out.push_back(make_error(ErrorCode::QR_CHUNK_HEADER_UNNEEDED,
                                 "shc:/1/1/ header: a card in one QR code has no chunk header (read as shc:/)"));
    if (chunks == 1 && jws_size > numeric::kMaxSingleQrJws)
        out.push_back(make_error(ErrorCode::JWS_TOO_LONG_FOR_QR, "JWS of " + std::to_string(jws_size) +
                                                                     " characters in one QR code; the limit is " +
                                                                     std::to_string(numeric::kMaxSingleQrJws)));
    return out;
}

struct Collector {
    std::vector<std::pair<size_t, FoundCard>> cards;  // with the source index, for ordering
    std::vector<Pending> chunks;
    std::vector<InputError> errors;
    std::vector<FoundLink> links;

    void fail(const std::string& input, Error e) { errors.push_back({input, std::move(e)}); }

    void add_qr_text(size_t index, const std::string& origin, std::string_view text, Kind kind,
                     std::optional<qr_symbol::Reading> symbol = std::nullopt) {
        auto chunk = numeric::parse_qr_text(text);
        if (!chunk) return fail(origin, chunk.error());
        QrPart part{origin, std::string(text), chunk.value().jws_part.size(), std::move(symbol)};
        chunks.push_back({index, origin, std::move(chunk.value()), kind, std::move(part)});
    }

    void add_jws(size_t index, const std::string& origin, std::string jws, Kind kind,
                 std::vector<Error> warnings = {}) {
        FoundCard c;
        c.jws = std::move(jws);
        c.origins = {origin};
        c.kind = kind;
        c.warnings = std::move(warnings);
        cards.emplace_back(index, std::move(c));
    }

    void add_json(size_t index, const NamedBytes& src, std::string_view text) {
        auto j = detail::parse_json(text);
        if (!j || !j->is_object())
            return fail(src.name, make_error(ErrorCode::INPUT_UNRECOGNIZED, "invalid JSON (or nested too deeply)"));
        if (const Json* vcs = detail::member(*j, "verifiableCredential")) {
            if (!vcs->is_array() || vcs->empty())
                return fail(src.name, make_error(ErrorCode::INPUT_UNRECOGNIZED,
                                                 "verifiableCredential must be a non-empty array of JWS strings"));
            size_t n = 0;
            for (const auto& v : *vcs) {
                std::string origin = vcs->size() > 1 ? src.name + "#" + std::to_string(++n) : src.name;
                if (!v.is_string()) {
                    fail(origin, make_error(ErrorCode::JWS_MALFORMED, "verifiableCredential entry is not a string"));
                    continue;
                }
                add_jws(index, origin, v.get<std::string>(), Kind::HealthCardFile);
            }
            return;
        }
        if (detail::string_member(*j, "resourceType") == "Parameters") {
            // $health-cards-issue: parameter[] entries named verifiableCredential (valueString).
            const Json* params = detail::member(*j, "parameter");
            size_t n = 0;
            if (params && params->is_array())
                for (const auto& p : *params)
                    if (detail::string_member(p, "name") == "verifiableCredential")
                        if (auto v = detail::string_member(p, "valueString"))
                            add_jws(index, src.name + "#" + std::to_string(++n), *v, Kind::FhirParameters);
            if (n == 0)
                fail(src.name, make_error(ErrorCode::INPUT_UNRECOGNIZED,
                                          "FHIR Parameters resource holds no verifiableCredential parameter"));
            return;
        }
        fail(src.name, make_error(ErrorCode::INPUT_UNRECOGNIZED,
                                  "JSON is neither a .smart-health-card file nor a FHIR Parameters resource"));
    }

    void add_image(size_t index, const NamedBytes& src) {
        auto img = image::decode_gray(src.bytes);
        if (!img) return fail(src.name, img.error());
        auto symbols = qr_read::read_qr_symbols(img.value());
        if (symbols.empty())
            return fail(src.name, make_error(ErrorCode::QR_NOT_FOUND, "no QR code found in the image"));
        if (symbols.size() > qr_read::kMaxSymbols)
            return fail(src.name, make_error(ErrorCode::QR_TOO_MANY_SYMBOLS,
                                             "more than " + std::to_string(qr_read::kMaxSymbols) +
                                                 " QR codes in one image; a card needs far fewer"));
        for (size_t i = 0; i < symbols.size(); ++i) {
            std::string origin = symbols.size() > 1 ? src.name + "#qr" + std::to_string(i + 1) : src.name;
            std::optional<qr_symbol::Reading> reading;
            if (!symbols[i].data_codewords.empty())
                reading = qr_symbol::read(symbols[i].data_codewords, symbols[i].ec_level);
            if (shl::looks_like_link(symbols[i].text)) {
                links.push_back({symbols[i].text, origin, Kind::Image});
                continue;
            }
            add_qr_text(index, origin, symbols[i].text, Kind::Image, std::move(reading));
        }
    }

    void add_text(size_t index, const NamedBytes& src) {
        Trimmed t = trim(src.bytes);
        if (t.text.empty()) return fail(src.name, make_error(ErrorCode::INPUT_EMPTY, "input is empty"));
        std::vector<Error> warnings;
        if (t.had_bom)
            warnings.push_back(make_error(ErrorCode::TRAILING_CHARACTERS, "input starts with a byte-order mark"));
        else if (t.had_extra)
            warnings.push_back(make_error(ErrorCode::TRAILING_CHARACTERS, "whitespace around the content"));
        if (t.text.front() == '{') return add_json(index, src, t.text);
        if (shl::looks_like_link(t.text)) return links.push_back({std::string(t.text), src.name, Kind::QrText});
        // Anything that starts like a QR text is read as one, so a broken header gets
        // QR_HEADER_INVALID as it would in an image ("shc:5676...", "SHC:/...").
        std::string head(t.text.substr(0, 4));
        std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
        if (head == "shc:") {
            size_t line_no = 0, pos = 0;
            bool several = t.text.find('\n') != std::string_view::npos;
            while (pos <= t.text.size()) {
                size_t nl = t.text.find('\n', pos);
                if (nl == std::string_view::npos) nl = t.text.size();
                std::string_view line = trim(t.text.substr(pos, nl - pos)).text;
                pos = nl + 1;
                ++line_no;
                if (line.empty()) continue;
                add_qr_text(index, several ? src.name + ":" + std::to_string(line_no) : src.name, line, Kind::QrText);
            }
            return;
        }
        if (looks_like_jws(t.text))
            return add_jws(index, src.name, std::string(t.text), Kind::Jws, std::move(warnings));
        if (t.text.substr(0, 4) == "<svg" ||
            (t.text.substr(0, 5) == "<?xml" && t.text.find("<svg") != std::string_view::npos))
            return fail(src.name, make_error(ErrorCode::INPUT_UNRECOGNIZED,
                                             "SVG images are not read; render it to PNG first (e.g. rsvg-convert)"));
        if (looks_binary(src.bytes))
            return fail(src.name, make_error(ErrorCode::INPUT_UNRECOGNIZED,
                                             "binary data that is not a supported image (PNG, JPEG, GIF, BMP, PNM)"));
        fail(src.name, make_error(ErrorCode::INPUT_UNRECOGNIZED,
                                  "not a QR image, shc:/ text, compact JWS, .smart-health-card or FHIR Parameters"));
    }
};

}  // namespace

std::string_view kind_name(Kind kind) {
    switch (kind) {
        case Kind::Image: return "qr-image";
        case Kind::QrText: return "qr-text";
        case Kind::Jws: return "jws";
        case Kind::HealthCardFile: return "smart-health-card";
        case Kind::FhirParameters: return "fhir-parameters";
    }
    return "unknown";
}

Extraction extract_cards(const std::vector<NamedBytes>& sources, int jobs,
                         const std::vector<chunk_groups::Proof>& proofs) {
    // Each source is read on its own (images are the slow part), then merged in order.
    std::vector<Collector> parts(sources.size());
    auto read_one = [&](size_t i) {
        const auto& src = sources[i];
        Collector& part = parts[i];
        if (src.bytes.empty()) {
            part.fail(src.name, make_error(ErrorCode::INPUT_EMPTY, "input is empty"));
        } else if (image::sniff(src.bytes) != image::Format::None) {
            part.add_image(i, src);
        } else {
            part.add_text(i, src);
        }
    };
    parallel_for(sources.size(), jobs, read_one);
    Collector c;
    for (auto& part : parts) {
        for (auto& card : part.cards) c.cards.push_back(std::move(card));
        for (auto& chunk : part.chunks) c.chunks.push_back(std::move(chunk));
        for (auto& e : part.errors) c.errors.push_back(std::move(e));
        for (auto& l : part.links) c.links.push_back(std::move(l));
    }
    // Unchunked QR texts are cards; chunks are grouped per card (chunk_groups.h). A card's
    // position is that of the first input it came from.
    auto make_card = [&](const std::vector<const Pending*>& in_order, const std::vector<const Pending*>& copies) {
        FoundCard card;
        card.kind = in_order.front()->kind;
        card.chunks = static_cast<int>(in_order.size());
        for (const Pending* p : in_order) {
            card.jws += p->chunk.jws_part;
            card.origins.push_back(p->origin);
            card.qr.push_back(p->part);
        }
        for (const Pending* p : copies) card.origins.push_back(p->origin);
        card.warnings = qr_warnings(in_order.front()->chunk, card.jws.size(), card.chunks);
        return card;
    };
    std::vector<chunk_groups::Piece> pieces;
    std::vector<const Pending*> piece_of;
    for (const auto& p : c.chunks) {
        if (p.chunk.total == 1) {
            c.cards.emplace_back(p.source_index, make_card({&p}, {}));
            continue;
        }
        pieces.push_back({p.chunk, p.origin, p.source_index});
        piece_of.push_back(&p);
    }
    auto grouping = chunk_groups::group(pieces, proofs);
    for (auto& problem : grouping.problems) c.errors.push_back({problem.inputs, std::move(problem.error)});
    for (const auto& g : grouping.cards) {
        std::vector<const Pending*> in_order, copies;
        for (size_t i : g.pieces) in_order.push_back(piece_of[i]);
        for (size_t i : g.duplicates) copies.push_back(piece_of[i]);
        c.cards.emplace_back(g.source, make_card(in_order, copies));
    }
    std::stable_sort(c.cards.begin(), c.cards.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    Extraction out;
    for (auto& [index, card] : c.cards) out.cards.push_back(std::move(card));
    out.errors = std::move(c.errors);
    out.links = std::move(c.links);
    return out;
}

Result<std::string> read_input_file(const std::string& path, size_t max_bytes) {
    return fsutil::read_file(path, max_bytes);
}

}  // namespace shcx::input
