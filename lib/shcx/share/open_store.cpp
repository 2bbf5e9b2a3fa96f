#include "shcx/share/open_store.h"

#include "shcx/share/pg_store.h"

namespace shcx::share {

bool is_postgres_uri(std::string_view db) {
    return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

std::string sqlite_path(std::string_view db) {
    if (db.rfind("sqlite:", 0) == 0) db.remove_prefix(7);
    return std::string(db);
}

Result<std::unique_ptr<Store>> open_store(const std::string& db, StoreOptions options) {
    if (is_postgres_uri(db)) return open_pg_store(db, {}, options);
    std::string path = sqlite_path(db);
    if (path.empty()) return make_error(ErrorCode::USAGE, "--db needs a SQLite file or a postgresql:// URI");
    return open_sqlite_store(path, std::move(options));
}

}  // namespace shcx::share
