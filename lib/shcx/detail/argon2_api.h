// libargon2's functions, from libargon2.so.1 opened on first use
// (detail/shared_library.h): only a process that derives a key from a PIN loads it.
#pragma once

#include <argon2.h>

#include "shcx/error.h"

namespace shcx::detail {

struct Argon2Api {
    decltype(&::argon2id_hash_raw) id_hash_raw = nullptr;
    decltype(&::argon2_error_message) error_message = nullptr;
};

// libargon2, loaded once per process (thread-safe). INTERNAL when it cannot be loaded;
// the message names the library.
Result<const Argon2Api*> argon2_api();

}  // namespace shcx::detail
