#include "shcx/verify/lint.h"

#include <algorithm>
#include <map>

#include "shcx/detail/json.h"
#include "shcx/issue/qr_write.h"
#include "shcx/read/numeric.h"

namespace shcx::lint {
namespace {

using detail::Json;
using detail::member;
using detail::string_member;

constexpr int kMaxQrVersion = qr_write::kMaxVersion;
constexpr int kMaxVersionAtAll = 40;  // ISO/IEC 18004

// Where a rule was broken, collected per code and reported as one warning each.
class Findings {
public:
    void add(ErrorCode code, std::string where) { m_places[code].push_back(std::move(where)); }
    void to(std::vector<Error>& out, ErrorCode code, const std::string& what) const {
        auto it = m_places.find(code);
        if (it == m_places.end()) return;
        const auto& places = it->second;
        std::string msg =
            what + " at " + std::to_string(places.size()) + (places.size() == 1 ? " place: " : " places: ");
        for (size_t i = 0; i < places.size() && i < kMaxListed; ++i) msg += (i ? ", " : "") + places[i];
        if (places.size() > kMaxListed) msg += " and " + std::to_string(places.size() - kMaxListed) + " more";
        out.push_back(make_error(code, msg));
    }

private:
    std::map<ErrorCode, std::vector<std::string>> m_places;
};

// A value quoted in a message, cut to a readable length on a UTF-8 character boundary.
std::string clip(const std::string& s, size_t max = 60) {
    if (s.size() <= max) return s;
    size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    return s.substr(0, end) + "...";
}

bool is_short_resource_uri(const std::string& s) {
    constexpr std::string_view prefix = "resource:";
    return s.size() > prefix.size() && s.compare(0, prefix.size(), prefix) == 0 &&
           std::all_of(s.begin() + static_cast<long>(prefix.size()), s.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

// The payload as signed has no whitespace outside strings ("payload is minified").
bool is_minified(std::string_view json) {
    bool in_string = false, escaped = false;
    for (char c : json) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
    }
    return true;
}

// CodeableConcept.text, Coding.display and Reference.reference anywhere inside a
// resource. A CodeableConcept is recognised by its "coding" array, a Reference by its
// "reference" string (the payload carries no type information).
void walk(const Json& node, const std::string& path, Findings& f) {
    if (node.is_array()) {
        for (size_t i = 0; i < node.size(); ++i) walk(node[i], path + "[" + std::to_string(i) + "]", f);
        return;
    }
    if (!node.is_object()) return;
    if (const Json* coding = member(node, "coding"); coding && coding->is_array()) {
        if (node.contains("text")) f.add(ErrorCode::FHIR_CODEABLECONCEPT_TEXT, path + ".text");
        for (size_t i = 0; i < coding->size(); ++i)
            if ((*coding)[i].is_object() && (*coding)[i].contains("display"))
                f.add(ErrorCode::FHIR_CODING_DISPLAY, path + ".coding[" + std::to_string(i) + "].display");
    }
    if (auto ref = string_member(node, "reference"); ref && !is_short_resource_uri(*ref))
        f.add(ErrorCode::FHIR_REFERENCE_NOT_SHORT, path + ".reference \"" + clip(*ref) + "\"");
    for (const auto& [key, value] : node.items()) walk(value, path + "." + key, f);
}

bool has_coded(const Json& resource, const char* field) {
    const Json* cc = member(resource, field);
    const Json* coding = cc ? member(*cc, "coding") : nullptr;
    if (!coding || !coding->is_array() || coding->empty()) return false;
    return string_member((*coding)[0], "system").has_value() && string_member((*coding)[0], "code").has_value();
}

bool has_reference(const Json& resource, const char* field) {
    const Json* ref = member(resource, field);
    return ref && string_member(*ref, "reference").has_value();
}

bool has_any(const Json& resource, std::initializer_list<const char*> fields) {
    return std::any_of(fields.begin(), fields.end(), [&](const char* f) { return resource.contains(f); });
}

// The elements a verifier needs from each entry type the vaccination and testing profiles
// define: missing ones are listed.
void check_shape(const Json& r, const std::string& type, const std::string& where, Findings& f) {
    std::vector<std::string> missing;
    auto need = [&](bool present, const char* what) {
        if (!present) missing.push_back(what);
    };
    ErrorCode code;
    if (type == "Patient") {
        code = ErrorCode::FHIR_PATIENT_SHAPE;
        const Json* name = member(r, "name");
        need(name && name->is_array() && !name->empty(), "name");
        need(string_member(r, "birthDate").has_value(), "birthDate");
    } else if (type == "Immunization") {
        code = ErrorCode::FHIR_IMMUNIZATION_SHAPE;
        need(string_member(r, "status").has_value(), "status");
        need(has_coded(r, "vaccineCode"), "vaccineCode.coding (system, code)");
        need(has_reference(r, "patient"), "patient.reference");
        need(has_any(r, {"occurrenceDateTime", "occurrenceString"}), "occurrence[x]");
    } else if (type == "Observation") {
        code = ErrorCode::FHIR_OBSERVATION_SHAPE;
        need(string_member(r, "status").has_value(), "status");
        need(has_coded(r, "code"), "code.coding (system, code)");
        need(has_reference(r, "subject"), "subject.reference");
        need(has_any(r, {"effectiveDateTime", "effectivePeriod", "effectiveInstant"}), "effective[x]");
        need(has_any(r, {"valueCodeableConcept", "valueQuantity", "valueString", "valueBoolean", "valueInteger",
                         "valueRange", "valueRatio", "valueSampledData", "valueTime", "valueDateTime", "valuePeriod",
                         "dataAbsentReason", "component"}),
             "value[x]");
    } else {
        return;
    }
    if (missing.empty()) return;
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    f.add(code, where + " lacks " + list);
}

void check_bundle(const Json& bundle, Findings& f) {
    const Json* entries = member(bundle, "entry");
    if (!entries || !entries->is_array()) return;
    for (size_t i = 0; i < entries->size(); ++i) {
        const Json& entry = (*entries)[i];
        std::string at = "entry[" + std::to_string(i) + "]";
        auto full_url = string_member(entry, "fullUrl");
        if (!full_url || !is_short_resource_uri(*full_url))
            f.add(ErrorCode::FHIR_FULLURL_NOT_SHORT, at + (full_url ? " \"" + clip(*full_url) + "\"" : " (none)"));
        const Json* r = member(entry, "resource");
        if (!r || !r->is_object()) continue;
        std::string type = string_member(*r, "resourceType").value_or("Resource");
        std::string where = at + " " + type;
        if (r->contains("id")) f.add(ErrorCode::FHIR_RESOURCE_ID, where + ".id");
        if (const Json* meta = member(*r, "meta"))
            if (!meta->is_object() || meta->size() != 1 || !meta->contains("security"))
                f.add(ErrorCode::FHIR_RESOURCE_META, where + ".meta");
        if (r->contains("text")) f.add(ErrorCode::FHIR_RESOURCE_TEXT, where + ".text");
        for (const auto& [key, value] : r->items())
            if (key != "text" && key != "meta") walk(value, where + "." + key, f);
        check_shape(*r, type, where, f);
    }
}

std::string qr_name(const input::QrPart& part, size_t index, size_t count) {
    return count > 1 ? "chunk " + std::to_string(index + 1) + " (" + part.origin + ")" : part.origin;
}

}  // namespace

std::vector<Error> check_qr(const input::FoundCard& found) {
    std::vector<Error> out;
    const size_t n = found.qr.size();
    if (n == 0) return out;  // a file or JWS: no QR rules
    if (found.chunks > 1) {
        out.push_back(make_error(ErrorCode::CHUNKING_DEPRECATED,
                                 "the card is split into " + std::to_string(found.chunks) +
                                     " QR codes; chunking is deprecated (spec 1.3.0): keep a card to one QR code"));
        size_t shortest = found.qr.front().jws_chars, longest = shortest;
        for (size_t i = 0; i < n; ++i) {
            const auto& part = found.qr[i];
            shortest = std::min(shortest, part.jws_chars);
            longest = std::max(longest, part.jws_chars);
            if (part.jws_chars > numeric::kMaxChunkJws)
                out.push_back(make_error(ErrorCode::CHUNK_TOO_LONG, qr_name(part, i, n) + " carries " +
                                                                        std::to_string(part.jws_chars) +
                                                                        " JWS characters; a chunk holds at most " +
                                                                        std::to_string(numeric::kMaxChunkJws)));
        }
        if (longest - shortest > n)
            out.push_back(
                make_error(ErrorCode::CHUNKS_UNBALANCED, "chunk sizes range from " + std::to_string(shortest) + " to " +
                                                             std::to_string(longest) +
                                                             " JWS characters; chunks should be of near-equal size"));
    }
    for (size_t i = 0; i < n; ++i) {
        const auto& part = found.qr[i];
        // The version: from the symbol when an image gave us its codewords, else what
        // libqrencode needs for the text in the spec's two segments.
        int version = 0;
        std::string how;
        if (part.symbol && part.symbol->version) {
            version = part.symbol->version;
            how = "read from the symbol (" + std::string(1, part.symbol->ec_level) + " error correction)";
        } else {
            how = part.symbol ? "the symbol's codewords match no version; re-encoded with libqrencode at level L"
                              : "no symbol at hand; re-encoded with libqrencode at level L";
            auto v = qr_write::version_for(part.text);
            version = v ? v.value() : kMaxVersionAtAll + 1;  // fits no version at all
        }
        if (version > kMaxQrVersion)
            out.push_back(make_error(ErrorCode::QR_VERSION_TOO_HIGH,
                                     qr_name(part, i, n) +
                                         (version > kMaxVersionAtAll ? std::string(" fits no QR version")
                                                                     : " is QR version " + std::to_string(version)) +
                                         " (" + how + "); SMART Health Card QR codes are version " +
                                         std::to_string(kMaxQrVersion) + " at most"));
        // Segments can only be read from a symbol, and only once its version is known
        // (the width of the character counts depends on it).
        if (!part.symbol || !part.symbol->version) continue;
        if (!part.symbol->segments) {
            out.push_back(make_error(ErrorCode::QR_SEGMENTS_INVALID,
                                     qr_name(part, i, n) + ": the symbol's data segments cannot be read"));
            continue;
        }
        const auto& segs = *part.symbol->segments;
        size_t header = part.text.find_last_of('/') + 1;  // "shc:/" or "shc:/C/N/"
        bool ok = segs.size() == 2 && segs[0].mode == qr_symbol::Mode::Byte && segs[0].count == header &&
                  segs[1].mode == qr_symbol::Mode::Numeric && segs[1].count == part.text.size() - header;
        if (!ok) {
            std::string found_segs;
            for (const auto& s : segs)
                found_segs += (found_segs.empty() ? "" : ", ") + std::string(qr_symbol::mode_name(s.mode)) +
                              (s.count ? " (" + std::to_string(s.count) + ")" : "");
            out.push_back(make_error(ErrorCode::QR_SEGMENTS_INVALID,
                                     qr_name(part, i, n) + " has segments [" + found_segs + "]; expected [byte (" +
                                         std::to_string(header) + "): the shc:/ header, numeric (" +
                                         std::to_string(part.text.size() - header) + "): the digits]"));
        }
    }
    return out;
}

std::vector<Error> check_payload(std::string_view payload_json) {
    std::vector<Error> out;
    if (!is_minified(payload_json))
        out.push_back(make_error(ErrorCode::PAYLOAD_NOT_MINIFIED,
                                 "the payload has whitespace outside strings; it must be minified before compression"));
    auto payload = detail::parse_json(payload_json);
    if (!payload) return out;
    const Json* vc = member(*payload, "vc");
    const Json* subject = vc ? member(*vc, "credentialSubject") : nullptr;
    const Json* bundle = subject ? member(*subject, "fhirBundle") : nullptr;
    if (!bundle) return out;
    Findings f;
    check_bundle(*bundle, f);
    f.to(out, ErrorCode::FHIR_RESOURCE_ID, "Resource.id present");
    f.to(out, ErrorCode::FHIR_RESOURCE_META, "Resource.meta holding more than meta.security");
    f.to(out, ErrorCode::FHIR_RESOURCE_TEXT, "DomainResource.text (narrative) present");
    f.to(out, ErrorCode::FHIR_CODEABLECONCEPT_TEXT, "CodeableConcept.text present");
    f.to(out, ErrorCode::FHIR_CODING_DISPLAY, "Coding.display present");
    f.to(out, ErrorCode::FHIR_FULLURL_NOT_SHORT, "Bundle.entry.fullUrl not a short resource:N URI");
    f.to(out, ErrorCode::FHIR_REFERENCE_NOT_SHORT, "Reference.reference not a short resource:N URI");
    f.to(out, ErrorCode::FHIR_PATIENT_SHAPE, "Patient without the elements a verifier needs");
    f.to(out, ErrorCode::FHIR_IMMUNIZATION_SHAPE, "Immunization without the elements a verifier needs");
    f.to(out, ErrorCode::FHIR_OBSERVATION_SHAPE, "Observation without the elements a verifier needs");
    return out;
}

std::vector<Error> check(const input::FoundCard& found, const decode::DecodedCard& decoded) {
    auto out = check_qr(found);
    auto payload = check_payload(decoded.card.payload_json);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

}  // namespace shcx::lint
