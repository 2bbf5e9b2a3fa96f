// Internal: a JWK from an already parsed JSON object (avoids re-serialising the 960 keys
// of a VCI snapshot). Implemented in jose.cpp.
#pragma once

#include "shcx/detail/json.h"
#include "shcx/jose/jose.h"

namespace shcx::detail {
Result<jose::Jwk> jwk_from_json(const Json& j);
}
