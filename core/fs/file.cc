// Open files: see file.h.
#include "core/fs/file.h"

#include <algorithm>

#include "core/fs/char_dev.h"
#include "core/kernel/slab.h"

namespace mcf {

file* get_file(file* f) {
  f->f_count.inc();
  return f;
}

void fput(file* f) {
  if (!f->f_count.dec_and_test()) return;
  // __fput(): the driver's release, then the char device's pin goes. `cd`
  // stays valid until cdev_put because the pin keeps its parent alive.
  cdev* cd = f->f_inode.i_cdev;
  if (f->f_op != nullptr && f->f_op->release != nullptr) f->f_op->release(&f->f_inode, f);
  if (cd != nullptr) cdev_put(cd);
  kfree(f);
}

void poll_wait(file* filp, wait_queue_head* wq, poll_table* pt) {
  if (pt == nullptr || wq == nullptr) return;
  if (std::find(pt->queues.begin(), pt->queues.end(), wq) != pt->queues.end()) return;
  add_wait_queue(wq, &pt->entry);
  pt->queues.push_back(wq);
}

}  // namespace mcf
