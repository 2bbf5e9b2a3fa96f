// One compact JWS -> its parts, header, inflated payload and card model. Signature and
// trust are not looked at here (that is verify's job).
#pragma once

#include <string_view>
#include <vector>

#include "shcx/card/card.h"
#include "shcx/error.h"
#include "shcx/jose/jws.h"

namespace shcx::decode {

struct DecodedCard {
    jose::CompactJws jws;
    jose::Header header;                 // as found, even when invalid
    std::vector<Error> header_problems;  // JWS_HEADER_INVALID
    card::Card card;
};

// JWS_MALFORMED, PAYLOAD_NOT_DEFLATED, PAYLOAD_TOO_LARGE, PAYLOAD_JSON_INVALID end the
// decode; header problems do not (the payload can still be shown).
Result<DecodedCard> decode_jws(std::string_view jws, size_t max_payload = 1 << 20);

// "The assembled JWS decodes": the weakest proof for joining loose chunks
// (input::extract_cards), tried after a signature check when there is one.
bool jws_decodes(std::string_view jws);

}  // namespace shcx::decode
