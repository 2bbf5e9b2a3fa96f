#include "shcx/detail/pq_api.h"

#include "shcx/detail/shared_library.h"

namespace shcx::detail {
namespace {

// libpq's soname has been libpq.so.5 since PostgreSQL 8.0 (2005).
constexpr const char* kSoname = "libpq.so.5";

}  // namespace

Result<const PqApi*> pq_api() {
    static const Result<PqApi> loaded = load_table<PqApi>(kSoname, [](SharedLibrary& lib, PqApi& a) {
        lib.need("PQconnectdbParams", a.connectdbParams);
        lib.need("PQfinish", a.finish);
        lib.need("PQstatus", a.status);
        lib.need("PQtransactionStatus", a.transactionStatus);
        lib.need("PQerrorMessage", a.errorMessage);
        lib.need("PQsetNoticeProcessor", a.setNoticeProcessor);
        lib.need("PQconsumeInput", a.consumeInput);
        lib.need("PQprepare", a.prepare);
        lib.need("PQexecPrepared", a.execPrepared);
        lib.need("PQexec", a.exec);
        lib.need("PQresultStatus", a.resultStatus);
        lib.need("PQresultErrorMessage", a.resultErrorMessage);
        lib.need("PQresultErrorField", a.resultErrorField);
        lib.need("PQclear", a.clear);
        lib.need("PQntuples", a.ntuples);
        lib.need("PQnfields", a.nfields);
        lib.need("PQftype", a.ftype);
        lib.need("PQgetvalue", a.getvalue);
        lib.need("PQgetlength", a.getlength);
        lib.need("PQgetisnull", a.getisnull);
        lib.need("PQcmdTuples", a.cmdTuples);
    });
    return table_of(loaded);
}

}  // namespace shcx::detail
