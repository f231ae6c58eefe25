// Leaving the initramfs for the real root, as switch_root(8) does: move the API file systems into the new root,
// free the initramfs (its files are RAM nobody can reach once we chroot), move the new root onto / and chroot.
// Heap-free: the directory walk uses a fixed buffer per level and never crosses into another mount.
#pragma once

#include <cstdint>

namespace dynamod::init {

// Moves /dev, /proc, /sys and /run (with everything mounted below them) to the same places under `new_root`;
// one whose directory is missing there is detached instead. False if a move fails (nothing is freed then).
bool move_api_mounts(const char* new_root);

// Deletes every file and directory below the directory `dir_fd` that is on device `dev`: directories on other
// devices (mount points) are kept with their contents. Returns how many entries could not be removed; adds the
// bytes the removed files held to *freed.
unsigned delete_tree_on_device(int dir_fd, unsigned long dev, uint64_t* freed, unsigned depth = 0);

// After move_api_mounts: frees the initramfs and makes `new_root` the root of PID 1 (cwd "/").
// False (errno logged) if the new root could not be moved onto /.
bool switch_root(const char* new_root);

}  // namespace dynamod::init
