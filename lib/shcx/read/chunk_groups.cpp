#include "shcx/read/chunk_groups.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace shcx::chunk_groups {
namespace {

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

size_t dots(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '.')); }

class Grouper {
public:
    Grouper(const std::vector<Piece>& pieces, const std::vector<Proof>& proofs) : m_pieces(pieces), m_proofs(proofs) {}

    Grouping run() {
        // 1. Exact copies count once; the copy is remembered on the piece it repeats.
        std::map<std::tuple<int, int, std::string>, size_t> first;
        std::vector<size_t> kept;
        for (size_t i = 0; i < m_pieces.size(); ++i) {
            const auto& c = m_pieces[i].chunk;
            auto [it, inserted] = first.emplace(std::make_tuple(c.total, c.index, c.jws_part), i);
            if (inserted) kept.push_back(i);
            else m_copies[it->second].push_back(i);
        }
        // 2. A complete set 1..N inside one source stands alone.
        std::map<std::pair<size_t, int>, std::vector<size_t>> by_source;  // (source, N) -> pieces
        for (size_t i : kept) by_source[{m_pieces[i].source, m_pieces[i].chunk.total}].push_back(i);
        std::map<int, std::vector<size_t>> loose;  // N -> pieces, in input order
        for (auto& [key, group] : by_source) {
            int total = key.second;
            std::vector<size_t> slot(static_cast<size_t>(total) + 1, kNone);
            bool complete = group.size() == static_cast<size_t>(total);
            for (size_t i : group) {
                size_t& s = slot[static_cast<size_t>(m_pieces[i].chunk.index)];
                if (s != kNone) complete = false;
                s = i;
            }
            if (complete) {
                emit(std::vector<size_t>(slot.begin() + 1, slot.end()));
            } else {
                auto& pool = loose[total];
                pool.insert(pool.end(), group.begin(), group.end());
            }
        }
        // 3. Loose chunks, per N.
        for (auto& [total, pool] : loose) {
            std::sort(pool.begin(), pool.end());
            join_loose(total, pool);
        }
        std::stable_sort(m_out.cards.begin(), m_out.cards.end(),
                         [](const Card& a, const Card& b) { return a.source < b.source; });
        return std::move(m_out);
    }

private:
    static constexpr size_t kNone = static_cast<size_t>(-1);

    void emit(const std::vector<size_t>& in_order) {
        Card card;
        card.chunks = static_cast<int>(in_order.size());
        card.pieces = in_order;
        card.source = m_pieces[in_order.front()].source;
        for (size_t i : in_order) {
            card.jws += m_pieces[i].chunk.jws_part;
            card.source = std::min(card.source, m_pieces[i].source);
            for (size_t copy : m_copies[i]) card.duplicates.push_back(copy);
        }
        m_out.cards.push_back(std::move(card));
    }

    std::string assembled(const std::vector<std::vector<size_t>>& candidates, const std::vector<size_t>& choice) const {
        std::string jws;
        for (size_t k = 0; k < choice.size(); ++k) jws += m_pieces[candidates[k][choice[k]]].chunk.jws_part;
        return jws;
    }

    // One combination (a candidate per index) whose JWS passes `proof`, tried in input
    // order; nullopt when none does within the remaining budget.
    std::optional<std::vector<size_t>> search(const std::vector<std::vector<size_t>>& candidates, const Proof& proof,
                                              size_t& budget) const {
        std::vector<size_t> choice(candidates.size(), 0);
        while (budget > 0) {
            --budget;
            size_t dot_count = 0;
            for (size_t k = 0; k < choice.size(); ++k)
                dot_count += dots(m_pieces[candidates[k][choice[k]]].chunk.jws_part);
            if (dot_count == 2 && proof(assembled(candidates, choice))) {
                std::vector<size_t> picked;
                for (size_t k = 0; k < choice.size(); ++k) picked.push_back(candidates[k][choice[k]]);
                return picked;
            }
            // Next combination (odometer, last index fastest).
            size_t k = choice.size();
            while (k > 0) {
                --k;
                if (++choice[k] < candidates[k].size()) break;
                choice[k] = 0;
                if (k == 0) return std::nullopt;
            }
        }
        return std::nullopt;
    }

    void join_loose(int total, std::vector<size_t> pool) {
        size_t budget = kMaxCombinations;
        while (!pool.empty()) {
            std::vector<std::vector<size_t>> candidates(static_cast<size_t>(total));
            for (size_t i : pool) candidates[static_cast<size_t>(m_pieces[i].chunk.index - 1)].push_back(i);
            bool any_missing =
                std::any_of(candidates.begin(), candidates.end(), [](const auto& c) { return c.empty(); });
            bool forced =
                std::all_of(candidates.begin(), candidates.end(), [](const auto& c) { return c.size() == 1; });
            std::optional<std::vector<size_t>> picked;
            if (forced) {
                picked.emplace();
                for (const auto& c : candidates) picked->push_back(c.front());
            } else if (!any_missing) {
                for (const auto& proof : m_proofs)
                    if ((picked = search(candidates, proof, budget))) break;
            }
            if (!picked) return report(total, candidates);
            emit(*picked);
            std::set<size_t> used(picked->begin(), picked->end());
            pool.erase(std::remove_if(pool.begin(), pool.end(), [&](size_t i) { return used.count(i) > 0; }),
                       pool.end());
        }
    }

    void report(int total, const std::vector<std::vector<size_t>>& candidates) {
        std::vector<std::string> origins, missing, ambiguous, present;
        for (size_t k = 0; k < candidates.size(); ++k) {
            std::vector<std::string> here;
            for (size_t i : candidates[k]) {
                here.push_back(m_pieces[i].origin);
                origins.push_back(m_pieces[i].origin);
                for (size_t copy : m_copies[i]) origins.push_back(m_pieces[copy].origin);
            }
            std::string index = std::to_string(k + 1);
            if (here.empty()) missing.push_back(index);
            else if (here.size() > 1) ambiguous.push_back(index + " (" + join(here) + ")");
            else present.push_back(index + " (" + here.front() + ")");
        }
        std::string of = " of a " + std::to_string(total) + "-chunk card";
        Problem p;
        p.inputs = join(origins);
        if (!ambiguous.empty()) {
            p.error = make_error(ErrorCode::QR_CHUNK_DUPLICATE,
                                 "chunk " + join(ambiguous) + of + " differ, and no combination" +
                                     (missing.empty() ? "" : " (chunk " + join(missing) + " missing)") +
                                     " assembles into a card that verifies or decodes");
        } else {
            p.error =
                make_error(ErrorCode::QR_CHUNK_MISSING, "missing chunk " + join(missing) + of +
                                                            (present.empty() ? "" : "; have chunk " + join(present)));
        }
        m_out.problems.push_back(std::move(p));
    }

    const std::vector<Piece>& m_pieces;
    const std::vector<Proof>& m_proofs;
    std::map<size_t, std::vector<size_t>> m_copies;  // piece -> its exact copies
    Grouping m_out;
};

}  // namespace

Grouping group(const std::vector<Piece>& pieces, const std::vector<Proof>& proofs) {
    return Grouper(pieces, proofs).run();
}

}  // namespace shcx::chunk_groups
