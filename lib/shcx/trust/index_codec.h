// Internal to trust/index.cpp: the index body's binary layout (index_codec.cpp). Not installed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "shcx/trust/index.h"

namespace shcx::trust_index {

// The body: the installed files' digest and the certificate pin it was made for, then
// the compiled snapshot.
std::string serialise(const Compiled& c, std::string_view files_sha256);

// nullopt unless the body is whole, consistent, and made for exactly these files and pin.
std::optional<Compiled> deserialise(std::string_view body, std::string_view files_sha256,
                                    std::string_view certificate_sha256);

}  // namespace shcx::trust_index
