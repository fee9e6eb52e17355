// Resource bookkeeping: see resources.h.
#include "fuzzers/mutate/resources.h"

#include <numeric>

namespace mcf::fuzz {

std::optional<NodeRef> fd_node(const Program& p, int index) {
  // A dup chain only goes backwards, so this ends within index+1 steps.
  while (index >= 0 && static_cast<size_t>(index) < p.calls.size()) {
    const Call& c = p.calls[index];
    if (c.kind == CallKind::kOpen) return c.node;
    if (c.kind != CallKind::kDup || c.fd >= index) return std::nullopt;
    index = c.fd;
  }
  return std::nullopt;
}

std::vector<int> fd_makers_before(const Program& p, size_t pos) {
  std::vector<int> out;
  for (size_t i = 0; i < pos && i < p.calls.size(); ++i)
    if (call_makes_fd(p.calls[i].kind)) out.push_back(static_cast<int>(i));
  return out;
}

namespace {

// The latest fd made before `pos` in `p` on `want` (exactly, else the same
// node kind), or -1.
int retarget(const Program& p, size_t pos, const std::optional<NodeRef>& want) {
  if (!want) return -1;
  int same_kind = -1;
  for (int i = static_cast<int>(pos) - 1; i >= 0; --i) {
    if (!call_makes_fd(p.calls[i].kind)) continue;
    std::optional<NodeRef> n = fd_node(p, i);
    if (!n) continue;
    if (*n == *want) return i;
    if (same_kind < 0 && n->kind == want->kind) same_kind = i;
  }
  return same_kind;
}

}  // namespace

void rebuild(Program* p, const std::vector<Call>& source, const std::vector<int>& order) {
  Program src{source};
  // The schedule (either strategy) names calls per thread: kept as it is.
  Program out = *p;
  out.calls.clear();
  out.calls.reserve(order.size());
  // first_copy[s]: where source call s first landed so far, or -1.
  std::vector<int> first_copy(source.size(), -1);
  for (int s : order) {
    Call c = source[s];
    size_t pos = out.calls.size();
    if (call_uses_fd(c.kind) && c.fd >= 0) {
      int r = c.fd;
      bool known = static_cast<size_t>(r) < source.size() && r < s;
      int moved = known ? first_copy[r] : -1;
      if (moved >= 0 && call_makes_fd(out.calls[moved].kind)) {
        c.fd = static_cast<int16_t>(moved);
      } else {
        c.fd = static_cast<int16_t>(retarget(out, pos, known ? fd_node(src, r) : std::nullopt));
      }
    }
    if (first_copy[s] < 0) first_copy[s] = static_cast<int>(pos);
    out.calls.push_back(c);
  }
  *p = std::move(out);
}

void insert_call_at(Program* p, size_t pos, const Call& c) {
  std::vector<Call> source = p->calls;
  source.push_back(c);
  std::vector<int> order(p->calls.size());
  std::iota(order.begin(), order.end(), 0);
  order.insert(order.begin() + pos, static_cast<int>(p->calls.size()));
  // The new call is last in `source`, so any earlier reference it holds is
  // "earlier" there too.
  rebuild(p, source, order);
}

void remove_call_at(Program* p, size_t pos) {
  std::vector<int> order;
  for (size_t i = 0; i < p->calls.size(); ++i)
    if (i != pos) order.push_back(static_cast<int>(i));
  rebuild(p, p->calls, order);
}

void swap_calls(Program* p, size_t i, size_t j) {
  std::vector<int> order(p->calls.size());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[i], order[j]);
  rebuild(p, p->calls, order);
}

}  // namespace mcf::fuzz
