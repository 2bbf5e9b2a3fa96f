// The share store named by --db: a postgresql:// (or postgres://) URI opens PostgreSQL,
// "sqlite:FILE" or a plain path opens SQLite. Either way the schema migrations are
// applied first, and a database with a newer schema than this binary is refused.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "shcx/error.h"
#include "shcx/share/store.h"

namespace shcx::share {

bool is_postgres_uri(std::string_view db);
// The SQLite file of a --db value that is not a PostgreSQL URI ("sqlite:" prefix removed).
std::string sqlite_path(std::string_view db);

// options reach either store (warnings it wants an operator to hear).
Result<std::unique_ptr<Store>> open_store(const std::string& db, StoreOptions options = {});

}  // namespace shcx::share
