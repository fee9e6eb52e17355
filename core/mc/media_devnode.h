// The media device's char node, after include/media/media-devnode.h and
// drivers/media/mc/mc-devnode.c. Embedded in media_device (R1).
//
// media_devnode_lock (global) orders the REGISTERED flag against open():
// once media_devnode_unregister_prepare() cleared it, no open succeeds and
// every ioctl fails with -EIO (R12).
#pragma once

namespace mcf {

struct media_device;
struct media_devnode;

int media_devnode_register(media_device* mdev);
// Clears MEDIA_FLAG_REGISTERED. Returns false if it was not set.
bool media_devnode_unregister_prepare(media_device* mdev);
// Removes the char device and frees the minor. Open files keep the memory.
void media_devnode_unregister(media_device* mdev);
bool media_devnode_is_registered(media_devnode* devnode);

}  // namespace mcf
