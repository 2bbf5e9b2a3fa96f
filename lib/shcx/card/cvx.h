// The CVX vaccine code table (data/cvx.tsv, compiled into the library).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shcx::cvx {

struct Entry {
    std::string code, name, manufacturer;
    int series_doses = 0;  // doses in the primary series; 0 = unknown / not a series
};

// nullptr for a code not in the table.
const Entry* find(std::string_view code);
const std::vector<Entry>& all();

}  // namespace shcx::cvx
