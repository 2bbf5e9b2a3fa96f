// Verifying SMART Health Cards with libshcx, from an installed package: trust one issuer's
// keys, read each input (QR image, shc:/ text, JWS or .smart-health-card file), verify
// every card found, print one line per card, exit 0 only if every card is valid.
//
// Usage: verify_card ISS JWKS_FILE INPUT...
//   verify_card https://issuer.shcx.example/demo testdata/issuer/jwks.json testdata/cards/*.png
#include <shcx/shcx.h>

#include <ctime>
#include <iostream>

using namespace shcx;

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: verify_card ISS JWKS_FILE INPUT...\n";
        return 2;
    }
    auto jwks = input::read_input_file(argv[2]);
    if (!jwks) {
        std::cerr << "verify_card: " << code_name(jwks.error().code) << ": " << jwks.error().message << "\n";
        return 2;
    }
    auto issuer = trust::issuer_from_jwks(jwks.value(), argv[1], argv[2]);
    if (!issuer) {
        std::cerr << "verify_card: " << code_name(issuer.error().code) << ": " << issuer.error().message << "\n";
        return 2;
    }
    trust::TrustStore store;
    store.add_issuer(std::move(issuer.value()));

    std::vector<input::NamedBytes> sources;
    int exit_code = 0;
    for (int i = 3; i < argc; ++i) {
        auto bytes = input::read_input_file(argv[i]);
        if (bytes) sources.push_back({argv[i], std::move(bytes.value())});
        else {
            std::cout << "unreadable  " << argv[i] << "  " << code_name(bytes.error().code) << "\n";
            exit_code = 2;
        }
    }
    auto found = input::extract_cards(sources);
    for (const auto& e : found.errors) {
        std::cout << "unreadable  " << e.input << "  " << code_name(e.error.code) << "\n";
        exit_code = 2;
    }

    verify::Options options;
    options.at = static_cast<double>(std::time(nullptr));
    for (const auto& card : found.cards) {
        auto report = verify::verify_card(card, store, options);
        std::cout << verify::status_name(report.status) << "  " << card.origins.front();
        if (report.card)
            for (const auto& person : report.card->card.people) std::cout << "  " << person.name;
        if (!report.errors.empty()) std::cout << "  " << code_name(report.errors.front().code);
        std::cout << "\n";
        if (report.status != verify::Status::Valid && exit_code == 0) exit_code = 1;
    }
    return exit_code;
}
