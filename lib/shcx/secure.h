// Buffers for secrets (private keys, PINs, share keys) that are wiped with
// OPENSSL_cleanse when they go out of scope, so they do not linger in freed memory.
#pragma once

#include <string>

namespace shcx {

void secure_wipe(std::string& s);

class SecretString {
public:
    SecretString() = default;
    explicit SecretString(std::string s) : m_s(std::move(s)) {}
    SecretString(const SecretString&) = delete;
    SecretString& operator=(const SecretString&) = delete;
    SecretString(SecretString&& o) noexcept : m_s(std::move(o.m_s)) { o.m_s.clear(); }
    SecretString& operator=(SecretString&& o) noexcept {
        if (this != &o) {
            secure_wipe(m_s);
            m_s = std::move(o.m_s);
            o.m_s.clear();
        }
        return *this;
    }
    ~SecretString() { secure_wipe(m_s); }
    std::string& str() { return m_s; }
    const std::string& str() const { return m_s; }

private:
    std::string m_s;
};

}  // namespace shcx
