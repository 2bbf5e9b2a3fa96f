// Cards made for the conformance tests: signed with the test issuer key
// (testdata/issuer/key.jwk), from a payload given as JSON or as exact text, so a test can
// sign what a producer would get wrong (whitespace, a NUL byte, a member named twice).
#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "shcx/card/inflate.h"
#include "shcx/jose/es256.h"
#include "shcx/jose/jws.h"
#include "shcx/read/image.h"
#include "shcx/trust/trust.h"
#include "support.h"

namespace shcx::test {

inline const std::string kDemoIss = "https://issuer.shcx.example/demo";
inline constexpr double kDemoNbf = 1768471200;  // 2026-01-15T10:00:00Z

inline jose::PrivateKey demo_key() {
    static const auto key = jose::PrivateKey::from_jwk_json(read_file(testdata_dir() / "issuer/key.jwk")).value();
    return key;
}

inline nlohmann::json demo_bundle(const std::string& name = "covid-three-doses") {
    return nlohmann::json::parse(read_file(testdata_dir() / ("bundles/" + name + ".json")));
}

inline nlohmann::json demo_payload(double nbf = kDemoNbf, const std::string& bundle = "covid-three-doses") {
    return {{"iss", kDemoIss},
            {"nbf", nbf},
            {"vc",
             {{"type", {"https://smarthealth.cards#health-card"}},
              {"credentialSubject", {{"fhirVersion", "4.0.1"}, {"fhirBundle", demo_bundle(bundle)}}},
              {"rid", "rid1"}}}};
}

inline std::string demo_header() { return R"({"zip":"DEF","alg":"ES256","kid":")" + demo_key().kid() + "\"}"; }

// Signs exactly these header and payload bytes.
inline std::string sign_text(const std::string& payload_text, const std::string& header_text = demo_header()) {
    return jose::sign_compact(demo_key(), header_text, inflate::deflate_raw(payload_text).value()).value();
}
inline std::string sign_json(const nlohmann::json& payload) { return sign_text(payload.dump()); }

// The demo issuer's key, trusted for kDemoIss.
inline trust::TrustStore demo_trust() {
    trust::TrustStore store;
    auto issuer = trust::issuer_from_jwks(read_file(testdata_dir() / "issuer/jwks.json"), kDemoIss, "test").value();
    issuer.name = "shcx demo issuer";
    store.add_issuer(std::move(issuer));
    return store;
}

// The image mirrored left to right and/or with dark and light swapped, as PNG bytes.
inline std::string transformed_png(const std::string& png, bool mirror, bool invert) {
    auto img = image::decode_gray(png).value();
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) {
            auto& p = img.pixels[static_cast<size_t>(y) * static_cast<size_t>(img.width) + static_cast<size_t>(x)];
            if (invert) p = static_cast<uint8_t>(255 - p);
        }
    if (mirror)
        for (int y = 0; y < img.height; ++y) {
            auto row = img.pixels.begin() + static_cast<long>(y) * img.width;
            std::reverse(row, row + img.width);
        }
    return image::encode_png(img);
}

}  // namespace shcx::test
