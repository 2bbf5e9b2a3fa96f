// `shcx share migrate`: moves a SQLite share store onto PostgreSQL. The pepper's
// fingerprint, the users (with their token hashes, expiry and last use) and every live,
// unexpired share (with its sealed content, burned attempts and audit events; an
// emergency share with both sealed tiers, its break-glass state and access log) are copied
// in one PostgreSQL transaction; attempt leases are not (none can be in use: the source
// is locked for writing throughout); then, in one SQLite transaction, the
// moved shares become tombstones in state "moved" (which wipes their emergency tiers,
// migrations/*/0003_emergency.sql) and the expired ones are wiped, so the
// source holds no sealed content afterwards and no share can be revealed on both sides.
// Running it again after an interruption finishes the job (shares already on the
// target are recognised by their hash and id). The pepper file must come along: token
// hashes and PIN verifiers are keyed with it.
#pragma once

#include <string>

#include "shcx/error.h"

namespace shcx::share {

struct MoveReport {
    int users = 0;           // users created on the target
    int users_existing = 0;  // users the target already had (same name and token hash)
    int shares = 0;          // live shares now on the target
    int expired = 0;         // expired shares wiped in the source instead
    int events = 0;          // audit events copied
    int emergency = 0;       // of the shares, emergency shares moved with both tiers
    int accesses = 0;        // their access-log rows copied
};

Result<MoveReport> move_sqlite_to_postgres(const std::string& sqlite_file, const std::string& postgres_uri, double now);

}  // namespace shcx::share
