// The calling context: see task.h.
#include "core/kernel/task.h"

namespace mcf {

task_struct* current() {
  thread_local task_struct task;
  return &task;
}

}  // namespace mcf
