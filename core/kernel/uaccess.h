// User memory, after include/linux/uaccess.h.
//
// Each process has a user arena: a range of simulated user addresses backed by
// a byte buffer. The model reaches user memory only through copy_from_user /
// copy_to_user, which check the whole range against the calling process's
// arena: it never dereferences an address chosen by the caller. Like the
// kernel's, they may fault, so they must not run in atomic context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace mcf {

using user_addr_t = uint64_t;

struct user_arena {
  static constexpr user_addr_t kDefaultBase = 0x20000000;

  user_arena(user_addr_t base, size_t size) : base(base), bytes(size, 0) {}

  bool contains(user_addr_t addr, size_t n) const {
    return addr >= base && n <= bytes.size() && addr - base <= bytes.size() - n;
  }
  // Harness access (the "user space" side). False if out of the arena.
  bool write(user_addr_t addr, const void* src, size_t n);
  bool read(user_addr_t addr, void* dst, size_t n);

  const user_addr_t base;
  std::mutex m;  // user space and the model may touch the arena from several threads
  std::vector<uint8_t> bytes;
};

// Both return the number of bytes not copied: 0 on success, n on a fault.
size_t copy_from_user(void* to, user_addr_t from, size_t n);
size_t copy_to_user(user_addr_t to, const void* from, size_t n);
// clear_user: zeroes user memory; returns bytes not cleared.
size_t clear_user(user_addr_t to, size_t n);

}  // namespace mcf
