// shcx share migrate --from sqlite:FILE --to postgresql://...: moves a one-host share
// store onto PostgreSQL (store_move.h says exactly what moves and what stays behind).
#include <CLI/CLI.hpp>

#include <memory>

#include "cli_common.h"
#include "shcx/share/open_store.h"
#include "shcx/share/service.h"
#include "shcx/share/store_move.h"

namespace shcx::cli {
namespace {

struct MigrateOptions {
    std::string from, to;
};

int run_migrate(const MigrateOptions& o) {
    if (share::is_postgres_uri(o.from)) {
        usage_error("--from names the SQLite store (sqlite:FILE or FILE)");
        return kFailure;
    }
    if (!share::is_postgres_uri(o.to)) {
        usage_error("--to must be a postgresql:// URI");
        return kFailure;
    }
    std::string file = share::sqlite_path(o.from);
    auto moved = share::move_sqlite_to_postgres(file, o.to, share::SystemClock().now());
    if (!moved) {
        print_error(moved.error());
        return kFailure;
    }
    const auto& r = moved.value();
    std::cout << "Users:   " << r.users << " added, " << r.users_existing << " already there\n"
              << "Shares:  " << r.shares << " live share" << (r.shares == 1 ? "" : "s") << " moved with " << r.events
              << " audit event" << (r.events == 1 ? "" : "s") << "; " << r.expired << " expired one"
              << (r.expired == 1 ? "" : "s") << " wiped in the source\n"
              << "Emergency: " << r.emergency << " of them emergency share" << (r.emergency == 1 ? "" : "s")
              << " with both tiers and " << r.accesses << " logged access" << (r.accesses == 1 ? "" : "es") << "\n";
    std::cerr << "shcx: serve the PostgreSQL store with --pepper " << file
              << ".pepper (or the pepper the source used): tokens and PINs are checked with it\n";
    return kOk;
}

}  // namespace

void setup_share_migrate(CLI::App& share, int& exit_code) {
    auto o = std::make_shared<MigrateOptions>();
    auto* migrate = share.add_subcommand("migrate", "Move users and live shares from SQLite to PostgreSQL");
    migrate->add_option("--from", o->from, "The SQLite store: sqlite:FILE (or FILE)")->required();
    migrate->add_option("--to", o->to, "The PostgreSQL store: a postgresql:// URI")->required();
    migrate->callback([o, &exit_code] { exit_code = run_migrate(*o); });
}

}  // namespace shcx::cli
