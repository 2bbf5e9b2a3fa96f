#include "shcx/share/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cctype>
#include <charconv>
#include <memory>
#include <stdexcept>

#include "shcx/detail/argon2_api.h"
#include "shcx/shl/jwe.h"

namespace shcx::share {
namespace {
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)>;

const EVP_CIPHER* gcm_for(size_t key_len) {
    switch (key_len) {
        case 16: return EVP_aes_128_gcm();
        case 24: return EVP_aes_192_gcm();
        case 32: return EVP_aes_256_gcm();
    }
    return nullptr;
}
const unsigned char* u(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
}  // namespace

std::string random_bytes(size_t n) {
    std::string out(n, '\0');
    if (n && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("the system CSPRNG failed");
    return out;
}

SecretString generate_pin() {
    static_assert(kPinAlphabet.size() == 32);
    SecretString pool(random_bytes(kPinLength));
    SecretString pin(std::string(kPinLength, '0'));
    for (size_t i = 0; i < kPinLength; ++i) pin.str()[i] = kPinAlphabet[static_cast<unsigned char>(pool.str()[i]) % 32];
    return pin;
}

std::optional<SecretString> normalise_pin(std::string_view input) {
    SecretString out;
    if (input.size() > 64) return std::nullopt;
    for (char c : input) {
        if (c == ' ' || c == '-' || c == '\t') continue;
        char up = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (up == 'O') up = '0';
        if (up == 'I' || up == 'L') up = '1';
        if (kPinAlphabet.find(up) == std::string_view::npos) return std::nullopt;
        out.str() += up;
    }
    if (out.str().size() != kPinLength) return std::nullopt;
    return out;
}

std::string format_pin(std::string_view pin) {
    if (pin.size() != kPinLength) return std::string(pin);
    return std::string(pin.substr(0, 4)) + "-" + std::string(pin.substr(4));
}

std::string KdfParams::encode() const {
    return "argon2id$t=" + std::to_string(t_cost) + "$m=" + std::to_string(m_cost_kib) +
           "$p=" + std::to_string(parallelism);
}

std::optional<KdfParams> KdfParams::decode(std::string_view s) {
    KdfParams p;
    auto field = [&](std::string_view key, uint32_t& out) {
        auto pos = s.find(key);
        if (pos == std::string_view::npos) return false;
        auto start = s.data() + pos + key.size();
        auto [ptr, ec] = std::from_chars(start, s.data() + s.size(), out);
        return ec == std::errc() && ptr != start;
    };
    if (s.rfind("argon2id$", 0) != 0 || !field("$t=", p.t_cost) || !field("$m=", p.m_cost_kib) ||
        !field("$p=", p.parallelism))
        return std::nullopt;
    if (p.t_cost < 1 || p.t_cost > 64 || p.m_cost_kib < 8 || p.m_cost_kib > (1u << 22) || p.parallelism < 1 ||
        p.parallelism > 16)
        return std::nullopt;
    return p;
}

SecretString argon2id(std::string_view password, std::string_view salt, const KdfParams& params) {
    auto api = detail::argon2_api();
    if (!api) throw std::runtime_error(api.error().message);
    SecretString out(std::string(32, '\0'));
    int rc = api.value()->id_hash_raw(params.t_cost, params.m_cost_kib, params.parallelism, password.data(),
                                      password.size(), salt.data(), salt.size(), out.str().data(), out.str().size());
    if (rc != ARGON2_OK) throw std::runtime_error(std::string("Argon2id failed: ") + api.value()->error_message(rc));
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::string out(32, '\0');
    unsigned int len = 32;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), u(data), data.size(),
              reinterpret_cast<unsigned char*>(out.data()), &len))
        throw std::runtime_error("HMAC-SHA256 failed");
    return out;
}

std::optional<std::string> hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                                       size_t length) {
    if (length == 0 || length > size_t{255} * 32) return std::nullopt;
    std::unique_ptr<EVP_KDF, void (*)(EVP_KDF*)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr), EVP_KDF_free);
    std::unique_ptr<EVP_KDF_CTX, void (*)(EVP_KDF_CTX*)> ctx(EVP_KDF_CTX_new(kdf.get()), EVP_KDF_CTX_free);
    if (!ctx) throw std::runtime_error("HKDF unavailable");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()), ikm.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
        OSSL_PARAM_construct_end()};
    std::string out(length, '\0');
    if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), length, params) != 1)
        return std::nullopt;
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string aes_gcm_seal(std::string_view key, std::string_view iv, std::string_view aad, std::string_view plaintext) {
    const EVP_CIPHER* cipher = gcm_for(key.size());
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    if (!cipher || !ctx || iv.empty()) throw std::invalid_argument("AES-GCM: bad key or IV length");
    int len = 0;
    std::string out(plaintext.size() + 16, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    if (EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, u(key), u(iv)) != 1 ||
        (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) != 1) ||
        EVP_EncryptUpdate(ctx.get(), o, &len, u(plaintext), static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), o + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, o + plaintext.size()) != 1)
        throw std::runtime_error("AES-GCM encryption failed");
    return out;
}

std::optional<std::string> aes_gcm_open(std::string_view key, std::string_view iv, std::string_view aad,
                                        std::string_view ct_tag) {
    const EVP_CIPHER* cipher = gcm_for(key.size());
    if (!cipher || iv.empty() || ct_tag.size() < 16) return std::nullopt;
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    size_t ct_len = ct_tag.size() - 16;
    std::string out(ct_len, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    int len = 0;
    std::string tag(ct_tag.substr(ct_len));
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, u(key), u(iv)) != 1 ||
        (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) != 1) ||
        EVP_DecryptUpdate(ctx.get(), o, &len, u(ct_tag), static_cast<int>(ct_len)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), o + len, &len) != 1) {
        secure_wipe(out);
        return std::nullopt;
    }
    return out;
}

// The JWE format is shl::jwe's (docs/shl.md, "Files"): one implementation for shares and links.
std::string jwe_encrypt(std::string_view key32, std::string_view plaintext, std::string_view content_type) {
    return shl::encrypt(plaintext, key32, content_type);
}

Result<JweContent> jwe_decrypt(std::string_view key32, std::string_view jwe) {
    // A share holds at most kMaxContentBytes of JWE, so its plaintext is smaller still.
    auto opened = shl::decrypt(jwe, key32);
    if (!opened) return make_error(ErrorCode::SHARE_DECRYPT_FAILED, opened.error().message);
    return JweContent{std::move(opened.value().content_type), std::move(opened.value().plaintext.str())};
}

}  // namespace shcx::share
