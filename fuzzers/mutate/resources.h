// Resource bookkeeping for the mutator (and anything else that reorders a
// program, e.g. a minimiser): which node an fd stands for, which fds a call
// may use, and rebuilding a program from a new order of calls while keeping
// every fd reference on the call that made it (syzkaller's ResultArg uses,
// here plain call indices).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "fuzzers/prog/prog.h"

namespace mcf::fuzz {

// The node the fd made by call `index` was opened on: an open's node, a dup's
// source followed back to its open. Nullopt for a call that makes no fd, or
// a dup of nothing.
std::optional<NodeRef> fd_node(const Program& p, int index);

// The calls before position `pos` whose result is an fd (open, dup), oldest
// first.
std::vector<int> fd_makers_before(const Program& p, size_t pos);

// Rebuilds `p`: new call k is source[order[k]]. Fd references in `source` are
// source indices (source must itself reference only earlier calls); each is
// moved to where that call landed. A reference whose call was dropped, or
// now comes later, is given to the latest earlier fd on the same node (then
// the same node kind), or -1 when there is none -- never left dangling.
// An index repeated in `order` (a duplicated call) keeps its users on the
// first copy. The result is not canonicalised; callers do that.
void rebuild(Program* p, const std::vector<Call>& source, const std::vector<int>& order);

// The structural edits, each a rebuild():
void insert_call_at(Program* p, size_t pos, const Call& c);  // c.fd indexes p as it was
void remove_call_at(Program* p, size_t pos);
void swap_calls(Program* p, size_t i, size_t j);

}  // namespace mcf::fuzz
