// Writes N signed cards (each its own rid) as DIR/card-NNNNN.jws and
// DIR/card-NNNNN.smart-health-card, signing in-process with lib/shcx/issue (10,000
// `shcx issue` processes would dominate the benchmark's run time).
// Usage: shcx_gen_cards DIR N KEY.jwk ISS BUNDLE
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "shcx/issue/issue.h"

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s DIR N KEY.jwk ISS BUNDLE.json\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1];
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
    shcx::issue::Claims claims;
    claims.iss = argv[4];
    claims.nbf = 1768471200;  // 2026-01-15T10:00:00Z, as testdata/
    for (int i = 1; i <= n; ++i) {
        claims.rid = "bench" + std::to_string(i);
        auto card = shcx::issue::issue(bundle, claims, key.value());
        if (!card) {
            std::fprintf(stderr, "%s: %s\n", std::string(shcx::code_name(card.error().code)).c_str(),
                         card.error().message.c_str());
            return 2;
        }
        char name[32];
        std::snprintf(name, sizeof name, "card-%05d", i);
        std::ofstream(dir + "/" + name + ".jws") << card.value().jws << "\n";
        std::ofstream(dir + "/" + name + ".smart-health-card") << shcx::issue::health_card_file(card.value().jws);
    }
    return 0;
}
