// libpq's functions, from libpq.so.5 opened on first use (detail/shared_library.h), so
// that only a process that opens a PostgreSQL share store loads libpq and its
// dependencies (Kerberos, LDAP, ...).
#pragma once

#include <libpq-fe.h>

#include "shcx/error.h"

namespace shcx::detail {

// The functions share/pg_*.cpp call, named as in libpq without "PQ".
struct PqApi {
    decltype(&::PQconnectdbParams) connectdbParams = nullptr;
    decltype(&::PQfinish) finish = nullptr;
    decltype(&::PQstatus) status = nullptr;
    decltype(&::PQtransactionStatus) transactionStatus = nullptr;
    decltype(&::PQerrorMessage) errorMessage = nullptr;
    decltype(&::PQsetNoticeProcessor) setNoticeProcessor = nullptr;
    decltype(&::PQconsumeInput) consumeInput = nullptr;
    decltype(&::PQprepare) prepare = nullptr;
    decltype(&::PQexecPrepared) execPrepared = nullptr;
    decltype(&::PQexec) exec = nullptr;
    decltype(&::PQresultStatus) resultStatus = nullptr;
    decltype(&::PQresultErrorMessage) resultErrorMessage = nullptr;
    decltype(&::PQresultErrorField) resultErrorField = nullptr;
    decltype(&::PQclear) clear = nullptr;
    decltype(&::PQntuples) ntuples = nullptr;
    decltype(&::PQnfields) nfields = nullptr;
    decltype(&::PQftype) ftype = nullptr;
    decltype(&::PQgetvalue) getvalue = nullptr;
    decltype(&::PQgetlength) getlength = nullptr;
    decltype(&::PQgetisnull) getisnull = nullptr;
    decltype(&::PQcmdTuples) cmdTuples = nullptr;
};

// libpq, loaded once per process (thread-safe). INTERNAL when it cannot be loaded; the
// message names the library.
Result<const PqApi*> pq_api();

}  // namespace shcx::detail
