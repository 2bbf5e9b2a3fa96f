#include "shcx/jose/es256.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstring>

#include "shcx/base64url.h"
#include "shcx/detail/json.h"

namespace shcx::jose {
namespace {

using detail::string_member;

struct BnFree {
    void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

std::shared_ptr<evp_pkey_st> wrap(EVP_PKEY* k) { return {k, EVP_PKEY_free}; }

// Builds an EC P-256 EVP_PKEY from raw coordinates (and optionally the private scalar)
// and runs OpenSSL's full public-key check, which rejects points off the curve.
EVP_PKEY* pkey_from_raw(const std::string& x, const std::string& y, const std::string* d) {
    std::string point = "\x04" + x + y;
    std::unique_ptr<OSSL_PARAM_BLD, void (*)(OSSL_PARAM_BLD*)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    Bn priv;
    if (!bld) return nullptr;
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    if (d) {
        priv.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(d->data()), static_cast<int>(d->size()), nullptr));
        if (!priv) return nullptr;
        BN_set_flags(priv.get(), BN_FLG_CONSTTIME);
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
    }
    std::unique_ptr<OSSL_PARAM, void (*)(OSSL_PARAM*)> params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr),
                                                               EVP_PKEY_CTX_free);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
    EVP_PKEY* pkey = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
        return nullptr;
    std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr),
                                                                 EVP_PKEY_CTX_free);
    bool ok = check && EVP_PKEY_public_check(check.get()) == 1 && (!d || EVP_PKEY_check(check.get()) == 1);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return nullptr;
    }
    return pkey;
}

// A 32-byte big-endian key parameter (x, y or the private scalar); nullopt if OpenSSL
// cannot provide it.
std::optional<std::string> bn_param(const EVP_PKEY* key, const char* name) {
    BIGNUM* raw = nullptr;
    if (!EVP_PKEY_get_bn_param(key, name, &raw)) return std::nullopt;
    Bn bn(raw);
    std::string out(32, '\0');
    if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), 32) != 32) return std::nullopt;
    return out;
}

Error openssl_failure(const std::string& what) {
    return make_error(ErrorCode::INTERNAL, "OpenSSL: " + what + " failed");
}

// DER for ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } from 32-byte big-endian r
// and s (RFC 3279): what OpenSSL's verify takes. At most 2 + 2 * (2 + 33) bytes.
constexpr size_t kMaxEcdsaDer = 72;
size_t der_integer(const unsigned char* be32, unsigned char* out) {
    size_t skip = 0;
    while (skip < 31 && be32[skip] == 0) ++skip;  // minimal: no leading zero bytes ...
    bool pad = be32[skip] & 0x80;                 // ... except one that keeps it positive
    size_t len = 32 - skip + (pad ? 1 : 0);
    out[0] = 0x02;
    out[1] = static_cast<unsigned char>(len);
    size_t at = 2;
    if (pad) out[at++] = 0;
    std::memcpy(out + at, be32 + skip, 32 - skip);
    return 2 + len;
}
size_t ecdsa_der(const unsigned char* rs, unsigned char* out) {
    size_t n = der_integer(rs, out + 2);
    n += der_integer(rs + 32, out + 2 + n);
    out[0] = 0x30;
    out[1] = static_cast<unsigned char>(n);
    return 2 + n;
}

// What a verifying thread keeps from one card to the next instead of fetching SHA-256
// and setting up a verification per signature (about a tenth of a verify's cost): its
// digest context, and a verify context per key, made on first use. Per thread, so the
// hot path takes no lock; a context holds a reference to its key.
struct ThreadVerifier {
    std::unique_ptr<EVP_MD, void (*)(EVP_MD*)> sha256{EVP_MD_fetch(nullptr, "SHA256", nullptr), EVP_MD_free};
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md{EVP_MD_CTX_new(), EVP_MD_CTX_free};
    struct Slot {
        std::shared_ptr<evp_pkey_st> key;
        std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx{nullptr, EVP_PKEY_CTX_free};
    };
    // Few keys sign most cards; the least recently added slot is replaced.
    static constexpr size_t kSlots = 8;
    Slot slots[kSlots];
    size_t next = 0;

    EVP_PKEY_CTX* context_for(const std::shared_ptr<evp_pkey_st>& key) {
        for (auto& s : slots)
            if (s.key == key && s.ctx) return s.ctx.get();
        Slot& s = slots[next];
        next = (next + 1) % kSlots;
        s.ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
        s.key = key;
        if (!s.ctx || EVP_PKEY_verify_init(s.ctx.get()) != 1) {
            s.ctx.reset();
            s.key.reset();
            return nullptr;
        }
        return s.ctx.get();
    }
};
ThreadVerifier& thread_verifier() {
    thread_local ThreadVerifier v;
    return v;
}

std::optional<std::string> decode_coordinate(std::string_view b64) {
    auto raw = base64url::decode(b64);
    if (!raw || raw->size() != 32) return std::nullopt;
    return raw;
}

}  // namespace

Result<PublicKey> PublicKey::from_xy(std::string_view x_b64, std::string_view y_b64) {
    auto x = decode_coordinate(x_b64), y = decode_coordinate(y_b64);
    if (!x || !y) return make_error(ErrorCode::KEY_INVALID, "EC coordinates must be 32-byte base64url values");
    EVP_PKEY* raw = pkey_from_raw(*x, *y, nullptr);
    if (!raw) return make_error(ErrorCode::KEY_INVALID, "EC point is not on the P-256 curve");
    PublicKey k;
    k.m_key = wrap(raw);
    return k;
}

std::optional<Error> PublicKey::verify_es256(std::string_view signing_input, std::string_view sig) const {
    if (sig.size() != 64) {
        // A DER SEQUENCE starts with 0x30 and its length byte: name the usual mistake.
        bool looks_der = sig.size() >= 8 && static_cast<unsigned char>(sig[0]) == 0x30 &&
                         static_cast<size_t>(static_cast<unsigned char>(sig[1])) + 2 == sig.size();
        return make_error(ErrorCode::SIGNATURE_FORMAT_INVALID,
                          looks_der ? "signature is DER-encoded; JWS ES256 signatures are 64 raw bytes r||s"
                                    : "ES256 signature must be 64 bytes r||s, got " + std::to_string(sig.size()));
    }
    unsigned char der[kMaxEcdsaDer];
    size_t der_len = ecdsa_der(reinterpret_cast<const unsigned char*>(sig.data()), der);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    ThreadVerifier& v = thread_verifier();
    if (!v.md || !v.sha256 || EVP_DigestInit_ex2(v.md.get(), v.sha256.get(), nullptr) != 1 ||
        EVP_DigestUpdate(v.md.get(), signing_input.data(), signing_input.size()) != 1 ||
        EVP_DigestFinal_ex(v.md.get(), digest, &digest_len) != 1)
        return openssl_failure("SHA-256");
    EVP_PKEY_CTX* ctx = v.context_for(m_key);
    if (!ctx) return openssl_failure("preparing an ES256 verification");
    if (EVP_PKEY_verify(ctx, der, der_len, digest, digest_len) == 1) return std::nullopt;
    return make_error(ErrorCode::JWS_SIGNATURE_INVALID, "ES256 signature does not verify with the issuer key");
}

Result<PrivateKey> PrivateKey::generate() {
    EVP_PKEY* raw = EVP_EC_gen("P-256");
    if (!raw) return make_error(ErrorCode::INTERNAL, "OpenSSL could not generate a P-256 key");
    PrivateKey k;
    k.m_key = wrap(raw);
    auto x = bn_param(raw, OSSL_PKEY_PARAM_EC_PUB_X), y = bn_param(raw, OSSL_PKEY_PARAM_EC_PUB_Y);
    if (!x || !y) return openssl_failure("reading the new key's coordinates");
    k.m_x = base64url::encode(*x);
    k.m_y = base64url::encode(*y);
    return k;
}

Result<PrivateKey> PrivateKey::from_jwk_json(std::string_view json) {
    auto j = detail::parse_json(json);
    if (!j || !j->is_object()) return make_error(ErrorCode::KEY_INVALID, "private key file is not a JSON object");
    if (string_member(*j, "kty") != "EC" || string_member(*j, "crv") != "P-256")
        return make_error(ErrorCode::KEY_INVALID, "private key must be an EC P-256 JWK");
    auto x = decode_coordinate(string_member(*j, "x").value_or(""));
    auto y = decode_coordinate(string_member(*j, "y").value_or(""));
    SecretString d_b64(string_member(*j, "d").value_or(""));
    if (j->contains("d")) secure_wipe((*j)["d"].get_ref<std::string&>());
    auto d = base64url::decode(d_b64.str());
    SecretString d_raw(d.value_or(""));
    if (d) secure_wipe(*d);
    if (!x || !y) return make_error(ErrorCode::KEY_INVALID, "private key x/y must be 32-byte base64url values");
    if (d_raw.str().size() != 32) return make_error(ErrorCode::KEY_INVALID, "private key has no valid \"d\" member");
    EVP_PKEY* raw = pkey_from_raw(*x, *y, &d_raw.str());
    if (!raw) return make_error(ErrorCode::KEY_INVALID, "private key d does not match x/y, or x/y are not on P-256");
    PrivateKey k;
    k.m_key = wrap(raw);
    k.m_x = base64url::encode(*x);
    k.m_y = base64url::encode(*y);
    return k;
}

Result<std::string> PrivateKey::sign_es256(std::string_view signing_input) const {
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t der_len = 0;
    if (!md || EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, m_key.get(), nullptr) != 1 ||
        EVP_DigestSign(md.get(), nullptr, &der_len, reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1)
        return openssl_failure("ES256 signing");
    std::string der(der_len, '\0');
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
        return openssl_failure("ES256 signing");
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, void (*)(ECDSA_SIG*)> esig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)),
                                                          ECDSA_SIG_free);
    if (!esig) return openssl_failure("reading back an ECDSA signature");
    std::string out(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(esig.get()), reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(esig.get()), reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
    return out;
}

Result<SecretString> PrivateKey::to_jwk_json(bool with_private) const {
    // Member order follows common JWK practice; kid is the RFC 7638 thumbprint.
    std::string s = "{\"kty\":\"EC\",\"kid\":\"" + kid() +
                    "\",\"use\":\"sig\",\"alg\":\"ES256\",\"crv\":\"P-256\",\"x\":\"" + m_x + "\",\"y\":\"" + m_y +
                    "\"";
    if (with_private) {
        auto raw = bn_param(m_key.get(), OSSL_PKEY_PARAM_PRIV_KEY);
        if (!raw) return openssl_failure("reading the private key");
        SecretString d(std::move(*raw));
        SecretString d_b64(base64url::encode(d.str()));
        s.append(",\"d\":\"").append(d_b64.str()).append("\"");  // no unwiped temporary
    }
    s += "}";
    return SecretString(std::move(s));
}

}  // namespace shcx::jose
