// The SQLite EmergencyStore, private to lib/shcx/share (SqliteStore::emergency()).
#pragma once

#include <memory>

#include "shcx/share/emergency_store.h"
#include "shcx/share/sqlite_db.h"

namespace shcx::share {

std::unique_ptr<EmergencyStore> make_sqlite_emergency(sqlite::Pool& pool);

}  // namespace shcx::share
