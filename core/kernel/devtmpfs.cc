// devtmpfs: see devtmpfs.h.
#include "core/kernel/devtmpfs.h"

#include <cerrno>
#include <algorithm>
#include <map>
#include <mutex>

namespace mcf {
namespace {
struct Node {
  uint32_t devt;
  std::string owner;
};
struct Nodes {
  std::mutex m;
  std::map<std::string, Node> by_path;
};
Nodes& nodes() {
  static Nodes* n = new Nodes();
  return *n;
}
}  // namespace

int devtmpfs_create_node(const char* name, uint32_t devt, const char* owner) {
  Nodes& n = nodes();
  std::lock_guard<std::mutex> g(n.m);
  auto [it, inserted] = n.by_path.emplace(std::string("/dev/") + name, Node{devt, owner});
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
  return it == n.by_path.end() ? 0 : it->second.devt;
}

std::vector<std::string> devtmpfs_list() {
  Nodes& n = nodes();
  std::lock_guard<std::mutex> g(n.m);
  std::vector<std::string> out;
  for (const auto& [path, devt] : n.by_path) out.push_back(path);
  return out;
}

}  // namespace mcf

namespace mcf {

std::vector<std::string> devtmpfs_nodes_of(const std::string& owner, const std::string& prefix) {
  Nodes& n = nodes();
  std::vector<std::pair<long, std::string>> found;
  {
    std::lock_guard<std::mutex> g(n.m);
    std::string full = "/dev/" + prefix;
    for (const auto& [path, node] : n.by_path) {
      if (node.owner != owner || path.compare(0, full.size(), full) != 0) continue;
      std::string digits = path.substr(full.size());
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
      found.emplace_back(std::stol(digits), path);
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [num, path] : found) out.push_back(std::move(path));
  return out;
}

}  // namespace mcf
