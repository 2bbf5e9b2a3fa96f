#include "shcx/secure.h"

#include <openssl/crypto.h>

namespace shcx {

void secure_wipe(std::string& s) {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

}  // namespace shcx
