// User memory: see uaccess.h.
#include "core/kernel/uaccess.h"

#include <cstring>

#include "core/kernel/lock.h"
#include "core/kernel/task.h"

namespace mcf {

bool user_arena::write(user_addr_t addr, const void* src, size_t n) {
  std::lock_guard<std::mutex> g(m);
  if (!contains(addr, n)) return false;
  if (n) std::memcpy(bytes.data() + (addr - base), src, n);
  return true;
}

bool user_arena::read(user_addr_t addr, void* dst, size_t n) {
  std::lock_guard<std::mutex> g(m);
  if (!contains(addr, n)) return false;
  if (n) std::memcpy(dst, bytes.data() + (addr - base), n);
  return true;
}

size_t copy_from_user(void* to, user_addr_t from, size_t n) {
  might_sleep("copy_from_user");  // might_fault()
  user_arena* mm = current()->mm;
  if (mm == nullptr || !mm->read(from, to, n)) return n;
  return 0;
}

size_t copy_to_user(user_addr_t to, const void* from, size_t n) {
  might_sleep("copy_to_user");
  user_arena* mm = current()->mm;
  if (mm == nullptr || !mm->write(to, from, n)) return n;
  return 0;
}

size_t clear_user(user_addr_t to, size_t n) {
  might_sleep("clear_user");
  // Check the range before allocating the zeros: `n` comes from user space
  // and may be huge (a std::vector of n bytes would throw or exhaust memory).
  user_arena* mm = current()->mm;
  if (mm == nullptr || !mm->contains(to, n)) return n;
  std::vector<uint8_t> zeros(n, 0);
  return copy_to_user(to, zeros.data(), n);
}

}  // namespace mcf
