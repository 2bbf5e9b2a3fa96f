// Filesystem writes that never leave a half-written file: write a temporary file in the
// same directory, fsync it, rename it over the target, fsync the directory.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "shcx/error.h"

namespace shcx::fsutil {

// IO_ERROR naming the path on failure. `mode` applies from creation (0600 keeps a
// private key private even for the instant before rename).
std::optional<Error> write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);

// "card.png" + 2 -> "card-2.png": names for the parts of a multi-part output.
std::string numbered_path(const std::string& path, int n);

}  // namespace shcx::fsutil
