// The PostgreSQL EmergencyStore, private to lib/shcx/share (PgStore::emergency()).
// Include only from .cpp files (it pulls in libpq through pg_conn.h).
#pragma once

#include <memory>

#include "shcx/share/emergency_store.h"
#include "shcx/share/pg_conn.h"

namespace shcx::share {

std::unique_ptr<EmergencyStore> make_pg_emergency(pg::Pool& pool);

}  // namespace shcx::share
