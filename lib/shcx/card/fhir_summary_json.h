// Internal to the library: the per-person summary of an already parsed bundle (card.cpp
// has parsed the whole payload; the bundle is not parsed twice). Implemented in
// fhir_summary.cpp. Includes simdjson: only .cpp files include this header.
#pragma once

#include <vector>

#include "shcx/card/fhir_summary.h"
#include "shcx/detail/json_view.h"

namespace shcx::card {
std::vector<Person> people_of(detail::JsonView bundle);
}
