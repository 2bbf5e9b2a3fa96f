// shcx keygen: a new ES256 issuer key as a private JWK (kid = RFC 7638 thumbprint).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>

#include "cli_common.h"
#include "shcx/jose/es256.h"

namespace shcx::cli {
namespace {

struct KeygenOptions {
    std::string out;
    std::string jwks_out;
    bool force = false;
};

int run_keygen(const KeygenOptions& opt) {
    bool private_to_stdout = opt.out.empty() || opt.out == kStdoutPath;
    if (private_to_stdout && opt.jwks_out == kStdoutPath)
        return usage_error("the private key and --jwks-out - would both go to standard output; give --out FILE");
    for (const auto* path : {&opt.out, &opt.jwks_out}) {
        if (!path->empty() && *path != kStdoutPath && !opt.force && std::filesystem::exists(*path)) {
            print_error(make_error(ErrorCode::IO_ERROR, "already exists (use --force to replace it)"), *path);
            return kFailure;
        }
    }
    auto key = jose::PrivateKey::generate();
    if (!key) {
        print_error(key.error());
        return kFailure;
    }
    auto private_jwk = key.value().to_jwk_json(true);
    auto public_jwk = key.value().to_jwk_json(false);
    if (!private_jwk || !public_jwk) {
        print_error(private_jwk ? public_jwk.error() : private_jwk.error());
        return kFailure;
    }
    SecretString& jwk = private_jwk.value();
    jwk.str() += "\n";
    if (private_to_stdout) {
        std::cout << jwk.str();
    } else {
        if (auto err = write_output(opt.out, jwk.str(), 0600)) {
            print_error(*err);
            return kFailure;
        }
    }
    if (!opt.jwks_out.empty()) {
        std::string jwks = "{\"keys\":[" + public_jwk.value().str() + "]}\n";
        if (auto err = write_output(opt.jwks_out, jwks, 0644)) {
            print_error(*err);
            return kFailure;
        }
    }
    if (!private_to_stdout && opt.jwks_out != kStdoutPath) std::cout << key.value().kid() << "\n";
    return kOk;
}

}  // namespace

void setup_keygen(CLI::App& app, int& exit_code) {
    auto opt = std::make_shared<KeygenOptions>();
    auto* cmd = app.add_subcommand("keygen", "Generate an ES256 issuer key (private JWK)");
    cmd->add_option("--out", opt->out,
                    "Write the private JWK to FILE (mode 0600) and print its kid; - (the default) for standard output");
    cmd->add_option("--jwks-out", opt->jwks_out, "Also write the public key as a JWKS to FILE; - for standard output");
    cmd->add_flag("--force", opt->force, "Replace existing files");
    cmd->callback([opt, &exit_code] { exit_code = run_keygen(*opt); });
}

}  // namespace shcx::cli
