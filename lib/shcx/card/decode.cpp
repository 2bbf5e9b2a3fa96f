#include "shcx/card/decode.h"

#include "shcx/card/inflate.h"
#include "shcx/detail/json.h"

namespace shcx::decode {

Result<DecodedCard> decode_jws(std::string_view jws, size_t max_payload) {
    auto parts = jose::parse_compact(jws);
    if (!parts) return parts.error();
    DecodedCard out;
    out.jws = std::move(parts.value());
    auto header = jose::check_shc_header(out.jws.header_json);
    if (header) {
        out.header = header.value();
    } else {
        out.header_problems.push_back(header.error());
        if (auto j = detail::parse_json(out.jws.header_json)) {
            out.header.alg = detail::string_member(*j, "alg").value_or("");
            out.header.zip = detail::string_member(*j, "zip").value_or("");
            out.header.kid = detail::string_member(*j, "kid").value_or("");
        }
    }
    auto payload = inflate::inflate_raw(out.jws.payload, max_payload);
    if (!payload) return payload.error();
    auto card = card::parse_payload(payload.value());
    if (!card) return card.error();
    out.card = std::move(card.value());
    return out;
}

bool jws_decodes(std::string_view jws) { return decode_jws(jws).ok(); }

}  // namespace shcx::decode
