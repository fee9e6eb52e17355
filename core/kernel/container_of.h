// container_of(), as in include/linux/container_of.h: from a pointer to a
// member back to the struct that embeds it. The model embeds objects the way
// the kernel does (a device in a media_devnode in a media_device), so the
// lifetime questions are the kernel's. (-Wno-invalid-offsetof: the model's
// structs are not standard-layout, which clang handles for non-virtual bases.)
#pragma once

#include <cstddef>

#define container_of(ptr, type, member) \
  (reinterpret_cast<type*>(reinterpret_cast<char*>(ptr) - offsetof(type, member)))
