// Descriptions of every ioctl the model implements: the command, the node it
// belongs to, the argument struct's size and the fields a program sets.
// Data, not code (syzkaller's sys/linux/*.txt in miniature): the text and
// binary encodings, the mutator and the executor all read this one table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fuzzers/prog/prog.h"

namespace mcf::fuzz {

enum class FieldType : uint8_t {
  kInt,        // any value; the mutator favours boundaries
  kEnum,       // one of `values` most of the time
  kFlags,      // an OR of `values` most of the time
  kEntityId,   // a media entity id (may carry MEDIA_ENT_ID_FLAG_NEXT)
  kPadIndex,   // a pad index
  kBufIndex,   // a videobuf2 buffer index
  kCount,      // an element count (G_TOPOLOGY num_*)
  kUserPtr,    // a user address: see user_ptr_* below
};

struct FieldDesc {
  const char* name;   // "source.entity", "fmt.pix.width"
  uint16_t offset;    // in the argument struct
  uint8_t size;       // 4 or 8 bytes
  FieldType type;
  std::vector<uint64_t> values;  // kEnum / kFlags choices
  // The UAPI name of each of `values`, same order ("V4L2_MEMORY_MMAP"); null
  // for a value without one. The text encoding prints and parses these.
  std::vector<const char*> value_names;
};

struct IoctlDesc {
  const char* name;   // "MEDIA_IOC_SETUP_LINK"
  unsigned long cmd;
  NodeKind node;      // the node kind the command is meant for
  uint16_t arg_size;  // sizeof the argument struct (0: no argument)
  std::vector<FieldDesc> fields;
};

const std::vector<IoctlDesc>& ioctl_table();
// Row index by name, or -1.
int find_ioctl(const std::string& name);

// A user pointer field's value: either an offset into the data region of the
// user arena (the executor turns it into an address), or, with kUserPtrRaw
// set, a raw address used as is (NULL, 4, out of the arena...).
constexpr uint64_t kUserPtrRaw = 1ull << 63;
inline bool user_ptr_is_raw(uint64_t v) { return v & kUserPtrRaw; }
inline uint64_t user_ptr_value(uint64_t v) { return v & ~kUserPtrRaw; }

}  // namespace mcf::fuzz
