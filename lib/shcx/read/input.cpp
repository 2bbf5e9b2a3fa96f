#include "shcx/read/input.h"

#include <algorithm>

#include "shcx/base64url.h"
#include "shcx/detail/json.h"
#include "shcx/fsutil.h"
#include "shcx/read/image.h"
#include "shcx/read/numeric.h"
#include "shcx/parallel.h"
#include "shcx/read/qr_read.h"

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
    numeric::SourcedChunk chunk;
    Kind kind;
};

struct Collector {
    std::vector<std::pair<size_t, FoundCard>> cards;  // with the source index, for ordering
    std::vector<Pending> chunks;
    std::vector<InputError> errors;

    void fail(const std::string& input, Error e) { errors.push_back({input, std::move(e)}); }

    void add_qr_text(size_t index, const std::string& origin, std::string_view text, Kind kind) {
        auto chunk = numeric::parse_qr_text(text);
        if (!chunk) return fail(origin, chunk.error());
        chunks.push_back({index, {std::move(chunk.value()), origin, index}, kind});
    }

    void add_jws(size_t index, const std::string& origin, std::string jws, Kind kind, std::vector<Error> warnings = {}) {
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
        auto texts = qr_read::read_qr_texts(img.value());
        if (texts.empty())
            return fail(src.name, make_error(ErrorCode::QR_NOT_FOUND, "no QR code found in the image"));
        if (texts.size() > qr_read::kMaxSymbols)
            return fail(src.name, make_error(ErrorCode::QR_TOO_MANY_SYMBOLS,
                                             "more than " + std::to_string(qr_read::kMaxSymbols) +
                                                 " QR codes in one image; a card needs far fewer"));
        for (size_t i = 0; i < texts.size(); ++i) {
            std::string origin = texts.size() > 1 ? src.name + "#qr" + std::to_string(i + 1) : src.name;
            add_qr_text(index, origin, texts[i], Kind::Image);
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
        if (t.text.substr(0, 5) == "shc:/" || t.text.substr(0, 5) == "SHC:/") {
            size_t line_no = 0, pos = 0;
            bool several = t.text.find("\nshc:/") != std::string_view::npos ||
                           t.text.find("\nSHC:/") != std::string_view::npos;
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
        if (looks_like_jws(t.text)) return add_jws(index, src.name, std::string(t.text), Kind::Jws, std::move(warnings));
        if (t.text.substr(0, 4) == "<svg" || (t.text.substr(0, 5) == "<?xml" && t.text.find("<svg") != std::string_view::npos))
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

Extraction extract_cards(const std::vector<NamedBytes>& sources, int jobs) {
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
    }
    // Reassemble chunks; a card's position is that of the first input it came from.
    std::vector<numeric::SourcedChunk> chunks;
    std::vector<Kind> kind_of(sources.size(), Kind::QrText);
    for (auto& p : c.chunks) {
        kind_of[p.source_index] = p.kind;
        chunks.push_back(std::move(p.chunk));
    }
    auto assembled = numeric::assemble(std::move(chunks));
    for (auto& e : assembled.errors) c.errors.push_back({"(chunks)", std::move(e)});
    for (auto& a : assembled.cards) {
        size_t index = a.order;
        Kind kind = kind_of[a.order];
        FoundCard card;
        card.jws = std::move(a.jws);
        card.origins = std::move(a.origins);
        card.kind = kind;
        card.chunks = a.chunks;
        if (card.chunks == 1 && card.jws.size() > numeric::kMaxSingleQrJws)
            card.warnings.push_back(make_error(ErrorCode::JWS_TOO_LONG_FOR_QR,
                                               "JWS of " + std::to_string(card.jws.size()) +
                                                   " characters in one QR code; the limit is 1195"));
        c.cards.emplace_back(index, std::move(card));
    }
    std::stable_sort(c.cards.begin(), c.cards.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    Extraction out;
    for (auto& [index, card] : c.cards) out.cards.push_back(std::move(card));
    out.errors = std::move(c.errors);
    return out;
}

Result<std::string> read_input_file(const std::string& path, size_t max_bytes) {
    return fsutil::read_file(path, max_bytes);
}

}  // namespace shcx::input
