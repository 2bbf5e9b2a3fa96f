#include "shcx/trust/x5c.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "shcx/base64url.h"

namespace shcx::x5c {
namespace {

using X509Ptr = std::unique_ptr<X509, void (*)(X509*)>;

X509Ptr from_b64_der(const std::string& b64) {
    // x5c uses standard base64 (RFC 7517 §4.7), not base64url.
    std::string raw((b64.size() / 4 + 1) * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                            reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    if (n < 0) return {nullptr, X509_free};
    const unsigned char* p = reinterpret_cast<const unsigned char*>(raw.data());
    return {d2i_X509(nullptr, &p, n), X509_free};
}

std::string coord(EVP_PKEY* key, const char* name) {
    BIGNUM* bn = nullptr;
    if (!EVP_PKEY_get_bn_param(key, name, &bn)) return "";
    std::string out(32, '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_free(bn);
    return base64url::encode(out);
}

bool san_has_uri(X509* cert, std::string_view uri) {
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (!names) return false;
    bool found = false;
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != GEN_URI) continue;
        const ASN1_STRING* s = gn->d.uniformResourceIdentifier;
        found = std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<size_t>(ASN1_STRING_length(s))) == uri;
    }
    GENERAL_NAMES_free(names);
    return found;
}

}  // namespace

std::vector<Error> check(const jose::Jwk& key, std::string_view iss, double at,
                         const std::vector<std::string>& anchor_pems) {
    std::vector<Error> errors;
    if (key.x5c.empty()) return errors;
    auto bad = [&](const std::string& msg) { errors.push_back(make_error(ErrorCode::X5C_INVALID, "x5c: " + msg)); };
    std::vector<X509Ptr> chain;
    for (const auto& b64 : key.x5c) {
        chain.push_back(from_b64_der(b64));
        if (!chain.back()) {
            bad("a certificate cannot be decoded");
            return errors;
        }
    }
    X509* leaf = chain[0].get();
    EVP_PKEY* pub = X509_get0_pubkey(leaf);
    if (!pub || coord(pub, OSSL_PKEY_PARAM_EC_PUB_X) != key.x || coord(pub, OSSL_PKEY_PARAM_EC_PUB_Y) != key.y)
        bad("the leaf certificate's key is not the JWK's key");
    if (!san_has_uri(leaf, iss)) bad("the leaf certificate's subjectAltName URI is not " + std::string(iss));
    time_t t = static_cast<time_t>(at);
    if (X509_cmp_time(X509_get0_notBefore(leaf), &t) > 0 || X509_cmp_time(X509_get0_notAfter(leaf), &t) < 0)
        bad("the leaf certificate is not valid at the card's issue time (nbf)");
    if (anchor_pems.empty()) return errors;

    std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store(X509_STORE_new(), X509_STORE_free);
    for (const auto& pem : anchor_pems) {
        std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
        while (X509* a = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
            X509_STORE_add_cert(store.get(), a);
            X509_free(a);
        }
    }
    std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(sk_X509_new_null(),
                                                                         [](STACK_OF(X509) * s) { sk_X509_free(s); });
    for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].get());
    std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get());
    X509_STORE_CTX_set_time(ctx.get(), 0, t);
    if (X509_verify_cert(ctx.get()) != 1)
        bad(std::string("chain does not verify to a configured anchor: ") +
            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
    return errors;
}

}  // namespace shcx::x5c
