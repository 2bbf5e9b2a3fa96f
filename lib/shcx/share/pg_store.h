// The share Store on PostgreSQL (libpq), for several `share serve` instances behind a
// load balancer on one database. Each operation is one short transaction at READ
// COMMITTED whose decisions are conditional row writes (UPDATE ... WHERE ... with the
// row lock that implies), so exactly-N reveals and bounded attempts hold across every
// process without serialization retries; docs/postgresql.md says why and what the
// server keeps of wiped content.
#pragma once

#include <memory>
#include <string>

#include "shcx/error.h"
#include "shcx/share/store.h"

namespace shcx::share {

struct PgStoreOptions {
    int max_connections = 16;    // per process; each server thread holds one only briefly
    int connection_wait_s = 30;  // then the operation fails instead of queueing forever
};

// uri: any libpq connection URI or key=value string, e.g.
// postgresql://shcx@/shares?host=/run/postgresql. Applies pending schema migrations
// (refusing a newer schema) before returning. store_options is accepted for symmetry with
// open_sqlite_store; PostgreSQL has nothing to warn about (there is no WAL file of ours to
// scrub: docs/postgresql.md, "What the database server keeps").
Result<std::unique_ptr<Store>> open_pg_store(const std::string& uri, const PgStoreOptions& options = {},
                                             const StoreOptions& store_options = {});

// The highest schema migration recorded in the database (0: none yet).
Result<int> pg_schema_version(const std::string& uri);

}  // namespace shcx::share
