#include "shcx/trust/local_issuers.h"

#include <filesystem>

#include "shcx/card/card.h"
#include "shcx/detail/json.h"
#include "shcx/fsutil.h"
#include "shcx/jose/jwk.h"
#include "shcx/trust/fetch.h"
#include "shcx/trust/store.h"

namespace shcx::trust_store {
namespace {

namespace fs = std::filesystem;
using detail::Json;

constexpr const char* kLocalIssuers = "local_issuers.json";

std::string file_of(const std::string& store) { return (fs::path(store) / kLocalIssuers).string(); }

// The file's JSON document; an empty directory when there is no file yet. A file that
// exists but cannot be read is an error, never silently replaced.
Result<Json> read_doc(const std::string& store) {
    std::string path = file_of(store);
    std::error_code ec;
    if (!fs::exists(path, ec)) return Json{{"issuerInfo", Json::array()}};
    auto text = fsutil::read_file(path, kMaxStoreFileBytes);
    if (!text) return make_error(ErrorCode::IO_ERROR, path + ": " + text.error().message);
    auto j = detail::parse_json(text.value());
    if (!j || !j->is_object() || !detail::member(*j, "issuerInfo") || !(*j)["issuerInfo"].is_array())
        return make_error(ErrorCode::IO_ERROR, path + " is not a local issuer list (fix or remove it)");
    return std::move(*j);
}

std::optional<Error> write_doc(const std::string& store, const Json& doc) {
    std::error_code ec;
    if (fs::create_directories(store, ec)) trust_store::make_world_readable(store);
    if (auto e = fsutil::write_file_atomic(file_of(store), doc.dump(2) + "\n")) return e;
    trust_store::make_world_readable(file_of(store));
    return std::nullopt;
}

}  // namespace

Result<std::vector<trust::Issuer>> read_local_issuers(const std::string& store) {
    auto doc = read_doc(store);
    if (!doc) return doc.error();
    if (doc.value()["issuerInfo"].empty()) return std::vector<trust::Issuer>{};
    auto snap = trust::parse_vci_snapshot(doc.value().dump(), "local issuers");
    if (!snap) return snap.error();
    for (auto& i : snap.value().issuers) i.source = "local";
    return std::move(snap.value().issuers);
}

std::optional<Error> add_local_issuer(const std::string& store, const std::string& iss, const std::string& name,
                                      const std::string& jwks_json, bool allow_loopback_http) {
    if (!card::issuer_url_is_valid(iss) && !(allow_loopback_http && trust_fetch::is_loopback_http(iss)))
        return make_error(ErrorCode::ISSUER_URL_INVALID,
                          "the issuer must be an https:// URL without a trailing slash, got \"" + iss + "\"");
    auto keys = jose::parse_jwks(jwks_json);
    if (!keys) return keys.error();
    if (keys.value().empty()) return make_error(ErrorCode::KEY_INVALID, "the JWKS holds no keys");
    for (const auto& k : keys.value()) {
        auto problems = jose::check_issuer_key(k);
        if (!problems.empty()) return problems.front();
    }
    auto doc = read_doc(store);
    if (!doc) return doc.error();
    Json kept = Json::array();
    for (const auto& e : doc.value()["issuerInfo"]) {
        const Json* i = detail::member(e, "issuer");
        if (!i || detail::string_member(*i, "iss") != iss) kept.push_back(e);
    }
    Json issuer = {{"iss", iss}};
    if (!name.empty()) issuer["name"] = name;
    kept.push_back({{"issuer", issuer}, {"keys", (*detail::parse_json(jwks_json))["keys"]}});
    doc.value()["issuerInfo"] = std::move(kept);
    return write_doc(store, doc.value());
}

Result<bool> remove_local_issuer(const std::string& store, const std::string& iss) {
    auto doc = read_doc(store);
    if (!doc) return doc.error();
    Json kept = Json::array();
    bool removed = false;
    for (const auto& e : doc.value()["issuerInfo"]) {
        const Json* i = detail::member(e, "issuer");
        if (i && detail::string_member(*i, "iss") == iss) removed = true;
        else kept.push_back(e);
    }
    if (!removed) return false;
    doc.value()["issuerInfo"] = std::move(kept);
    if (auto e = write_doc(store, doc.value())) return *e;
    return true;
}

}  // namespace shcx::trust_store
