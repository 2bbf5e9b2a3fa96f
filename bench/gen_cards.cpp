// Writes N signed cards (each its own rid) as DIR/card-NNNNN.jws and
// DIR/card-NNNNN.smart-health-card, signing in-process (10,000 `shcx issue` processes
// would dominate the benchmark's run time). Usage: shcx_gen_cards DIR N KEY.jwk ISS BUNDLE
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "shcx/card/inflate.h"
#include "shcx/jose/jose.h"

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s DIR N KEY.jwk ISS BUNDLE.json\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1], iss = argv[4];
    int n = std::atoi(argv[2]);
    auto slurp = [](const char* path) {
        std::ifstream f(path, std::ios::binary);
        std::ostringstream ss;
        ss << f.rdbuf();
        return ss.str();
    };
    auto key = shcx::jose::PrivateKey::from_jwk_json(slurp(argv[3]));
    if (!key) {
        std::fprintf(stderr, "bad key: %s\n", key.error().message.c_str());
        return 2;
    }
    std::string bundle = slurp(argv[5]);
    std::string header = "{\"zip\":\"DEF\",\"alg\":\"ES256\",\"kid\":\"" + key.value().kid() + "\"}";
    for (int i = 1; i <= n; ++i) {
        std::string payload = "{\"iss\":\"" + iss + "\",\"nbf\":1768471200,\"vc\":{\"type\":[\"https://smarthealth.cards#health-card\"],"
                              "\"credentialSubject\":{\"fhirVersion\":\"4.0.1\",\"fhirBundle\":" + bundle +
                              "},\"rid\":\"bench" + std::to_string(i) + "\"}}";
        std::string jws = shcx::jose::sign_compact(key.value(), header, shcx::inflate::deflate_raw(payload));
        char name[32];
        std::snprintf(name, sizeof name, "card-%05d", i);
        std::ofstream(dir + "/" + name + ".jws") << jws << "\n";
        std::ofstream(dir + "/" + name + ".smart-health-card") << "{\"verifiableCredential\":[\"" << jws << "\"]}\n";
    }
    return 0;
}
