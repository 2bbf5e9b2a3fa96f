#include "shcx/shl/jwe.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

#include "shcx/base64url.h"
#include "shcx/card/inflate.h"
#include "shcx/detail/json.h"

namespace shcx::shl {
namespace {

using detail::Json;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)>;

const unsigned char* u(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* u(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Error bad(const std::string& message) { return make_error(ErrorCode::SHL_DECRYPT_FAILED, message); }

std::string random_iv() {
    std::string iv(kIvBytes, '\0');
    if (RAND_bytes(u(iv), static_cast<int>(iv.size())) != 1) throw std::runtime_error("the system CSPRNG failed");
    return iv;
}

}  // namespace

std::string seal(std::string_view header_json, std::string_view plaintext, std::string_view key, std::string_view iv) {
    if (key.size() != kKeyBytes) throw std::invalid_argument("A256GCM needs a 32-byte key");
    if (iv.size() != kIvBytes) throw std::invalid_argument("A256GCM needs a 96-bit IV");
    std::string header_b64 = base64url::encode(header_json);
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    std::string ciphertext(plaintext.size(), '\0'), tag(kTagBytes, '\0');
    int len = 0, tail = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, u(key), u(iv)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, u(header_b64), static_cast<int>(header_b64.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), u(ciphertext), &len, u(plaintext), static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), u(ciphertext) + len, &tail) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag.data()) != 1)
        throw std::runtime_error("AES-256-GCM encryption failed");
    return header_b64 + ".." + base64url::encode(iv) + "." + base64url::encode(ciphertext) + "." +
           base64url::encode(tag);
}

std::string encrypt(std::string_view plaintext, std::string_view key, std::string_view content_type, bool deflate) {
    std::string header = R"({"alg":"dir","enc":"A256GCM","cty":)" + Json(std::string(content_type)).dump();
    header += deflate ? R"(,"zip":"DEF"})" : "}";
    if (!deflate) return seal(header, plaintext, key, random_iv());
    auto deflated = inflate::deflate_raw(plaintext);
    if (!deflated) throw std::runtime_error(deflated.error().message);
    SecretString compressed(std::move(deflated.value()));
    return seal(header, compressed.str(), key, random_iv());
}

Result<Decrypted> decrypt(std::string_view jwe, std::string_view key, size_t max_plaintext) {
    // With zip the ciphertext is smaller than the content; without, as large; base64url adds a third.
    if (jwe.size() > max_plaintext / 3 * 4 + (64u << 10))
        return make_error(ErrorCode::SHL_TOO_LARGE,
                          "the JWE is longer than a " + std::to_string(max_plaintext) + "-byte file can need");
    std::string_view parts[5];
    size_t start = 0;
    for (int i = 0; i < 5; ++i) {
        size_t dot = i < 4 ? jwe.find('.', start) : jwe.size();
        if (dot == std::string_view::npos) return bad("not a compact JWE: it needs five parts separated by '.'");
        parts[i] = jwe.substr(start, dot - start);
        start = dot + 1;
    }
    if (parts[4].find('.') != std::string_view::npos)
        return bad("not a compact JWE: more than five parts (a JWS or JSON serialisation?)");
    if (parts[0].size() > 4096) return bad("the JWE protected header is longer than 4096 characters");
    auto header_json = base64url::decode(parts[0]);
    if (!header_json) return bad("the JWE protected header is not base64url");
    auto header = detail::parse_json(*header_json);
    if (!header || !header->is_object()) return bad("the JWE protected header is not a JSON object");
    auto alg = detail::string_member(*header, "alg"), enc = detail::string_member(*header, "enc");
    if (alg != "dir")
        return bad("JWE alg must be \"dir\" (the link's key), not " + (alg ? "\"" + *alg + "\"" : "absent"));
    if (enc != "A256GCM") return bad("JWE enc must be \"A256GCM\", not " + (enc ? "\"" + *enc + "\"" : "absent"));
    if (detail::member(*header, "crit")) return bad("the JWE header has crit: no extension is understood");
    auto cty = detail::string_member(*header, "cty");
    if (!cty || cty->empty()) return bad("the JWE header has no cty naming its content");
    bool deflated = false;
    if (const auto* zip = detail::member(*header, "zip")) {
        if (!zip->is_string() || zip->get<std::string>() != "DEF") return bad("JWE zip must be \"DEF\" when present");
        deflated = true;
    }
    if (!parts[1].empty()) return bad("a \"dir\" JWE has an empty encrypted-key part");
    auto iv = base64url::decode(parts[2]);
    if (!iv || iv->size() != kIvBytes) return bad("the JWE IV is not 96 bits of base64url");
    auto tag = base64url::decode(parts[4]);
    if (!tag || tag->size() != kTagBytes) return bad("the JWE tag is not 128 bits of base64url");
    auto ciphertext = base64url::decode(parts[3]);
    if (!ciphertext) return bad("the JWE ciphertext is not base64url");
    if (key.size() != kKeyBytes) return bad("the link's key is not 32 bytes");

    SecretString plain(std::string(ciphertext->size(), '\0'));
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    int len = 0, tail = 0;
    bool opened =
        ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kIvBytes), nullptr) == 1 &&
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, u(key), u(*iv)) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, u(parts[0]), static_cast<int>(parts[0].size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), u(plain.str()), &len, u(*ciphertext), static_cast<int>(ciphertext->size())) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag->data()) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), u(plain.str()) + len, &tail) == 1;
    if (!opened) {
        secure_wipe(plain.str());
        return bad("the file does not decrypt with the link's key (another link's file, or modified)");
    }
    Decrypted out;
    out.content_type = *cty;
    out.deflated = deflated;
    if (deflated) {
        if (auto e = inflate::inflate_raw_secret(plain.str(), out.plaintext.str(), max_plaintext)) {
            if (e->code == ErrorCode::PAYLOAD_TOO_LARGE)
                return make_error(ErrorCode::SHL_TOO_LARGE,
                                  "the file inflates to more than " + std::to_string(max_plaintext) + " bytes");
            if (e->code == ErrorCode::PAYLOAD_NOT_DEFLATED)
                return bad("zip is DEF but the content is not one complete raw DEFLATE stream");
            return *e;
        }
    } else {
        if (plain.str().size() > max_plaintext)
            return make_error(ErrorCode::SHL_TOO_LARGE,
                              "the file is larger than " + std::to_string(max_plaintext) + " bytes");
        out.plaintext = std::move(plain);
    }
    return out;
}

}  // namespace shcx::shl
