// Internal to the library: a JWK from an already parsed JSON object (a VCI snapshot holds
// about 960 keys; re-serialising each to text would double the parsing). Implemented in
// jwk.cpp. Includes nlohmann/json: only .cpp files include this header.
#pragma once

#include "shcx/detail/json.h"
#include "shcx/jose/jwk.h"

namespace shcx::jose {
Result<Jwk> jwk_from_json(const detail::Json& j);
}
