// devtmpfs: see devtmpfs.h.
#include "core/kernel/devtmpfs.h"

#include <cerrno>
#include <map>
#include <mutex>

namespace mcf {
namespace {
struct Nodes {
  std::mutex m;
  std::map<std::string, uint32_t> by_path;
};
Nodes& nodes() {
  static Nodes* n = new Nodes();
  return *n;
}
}  // namespace

int devtmpfs_create_node(const char* name, uint32_t devt) {
  Nodes& n = nodes();
  std::lock_guard<std::mutex> g(n.m);
  auto [it, inserted] = n.by_path.emplace(std::string("/dev/") + name, devt);
  return inserted ? 0 : -EEXIST;
}

void devtmpfs_delete_node(const char* name) {
  Nodes& n = nodes();
  std::lock_guard<std::mutex> g(n.m);
  n.by_path.erase(std::string("/dev/") + name);
}

uint32_t devtmpfs_lookup(const std::string& path) {
  Nodes& n = nodes();
  std::lock_guard<std::mutex> g(n.m);
  auto it = n.by_path.find(path);
  return it == n.by_path.end() ? 0 : it->second;
}

std::vector<std::string> devtmpfs_list() {
  Nodes& n = nodes();
  std::lock_guard<std::mutex> g(n.m);
  std::vector<std::string> out;
  for (const auto& [path, devt] : n.by_path) out.push_back(path);
  return out;
}

}  // namespace mcf
