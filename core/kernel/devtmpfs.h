// devtmpfs: the /dev names of character devices. device_add() of a device
// with a devt creates "/dev/<name>", device_del() removes it; open() looks the
// path up here to find the devt, then the char device (core/fs/char_dev.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcf {

// `owner` is the name of the node device's parent ("vimc.0"), so a node can
// be found by the device it belongs to. -EEXIST if the name is taken.
int devtmpfs_create_node(const char* name, uint32_t devt, const char* owner = "");
void devtmpfs_delete_node(const char* name);
// "/dev/media0" -> devt, or 0 when there is no such node.
uint32_t devtmpfs_lookup(const std::string& path);
// Every node path, sorted (for tools and tests).
std::vector<std::string> devtmpfs_list();
// The paths of the nodes of `owner` whose name starts with `prefix`
// ("video", "v4l-subdev", "media"), in node-number order.
std::vector<std::string> devtmpfs_nodes_of(const std::string& owner, const std::string& prefix);

}  // namespace mcf
