#include "shcx/detail/pq_api.h"

#include "shcx/detail/shared_library.h"

namespace shcx::detail {
namespace {

// libpq's soname has been libpq.so.5 since PostgreSQL 8.0 (2005).
constexpr const char* kSoname = "libpq.so.5";

Result<PqApi> load() {
    SharedLibrary lib;
    if (auto e = SharedLibrary::open(kSoname, lib)) return make_error(ErrorCode::INTERNAL, *e);
    PqApi a;
    struct Entry {
        const char* name;
        bool found;
    };
    const Entry entries[] = {
        {"PQconnectdbParams", lib.resolve("PQconnectdbParams", a.connectdbParams)},
        {"PQfinish", lib.resolve("PQfinish", a.finish)},
        {"PQstatus", lib.resolve("PQstatus", a.status)},
        {"PQtransactionStatus", lib.resolve("PQtransactionStatus", a.transactionStatus)},
        {"PQerrorMessage", lib.resolve("PQerrorMessage", a.errorMessage)},
        {"PQsetNoticeProcessor", lib.resolve("PQsetNoticeProcessor", a.setNoticeProcessor)},
        {"PQconsumeInput", lib.resolve("PQconsumeInput", a.consumeInput)},
        {"PQprepare", lib.resolve("PQprepare", a.prepare)},
        {"PQexecPrepared", lib.resolve("PQexecPrepared", a.execPrepared)},
        {"PQexec", lib.resolve("PQexec", a.exec)},
        {"PQresultStatus", lib.resolve("PQresultStatus", a.resultStatus)},
        {"PQresultErrorMessage", lib.resolve("PQresultErrorMessage", a.resultErrorMessage)},
        {"PQresultErrorField", lib.resolve("PQresultErrorField", a.resultErrorField)},
        {"PQclear", lib.resolve("PQclear", a.clear)},
        {"PQntuples", lib.resolve("PQntuples", a.ntuples)},
        {"PQnfields", lib.resolve("PQnfields", a.nfields)},
        {"PQftype", lib.resolve("PQftype", a.ftype)},
        {"PQgetvalue", lib.resolve("PQgetvalue", a.getvalue)},
        {"PQgetlength", lib.resolve("PQgetlength", a.getlength)},
        {"PQgetisnull", lib.resolve("PQgetisnull", a.getisnull)},
        {"PQcmdTuples", lib.resolve("PQcmdTuples", a.cmdTuples)},
    };
    for (const auto& e : entries)
        if (!e.found) return make_error(ErrorCode::INTERNAL, missing_function(kSoname, e.name));
    return a;
}

}  // namespace

Result<const PqApi*> pq_api() {
    static const Result<PqApi> loaded = load();
    if (!loaded) return loaded.error();
    return &loaded.value();
}

}  // namespace shcx::detail
