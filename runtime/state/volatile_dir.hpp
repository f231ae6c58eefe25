// Where the runtime keeps what must outlive it but not the boot: adoption records, restart histories and the
// services' log FIFOs. On /run/dynamod (tmpfs) that is the state directory itself. A state directory on a disk
// filesystem (user mode may put it anywhere) gets a private directory under /dev/shm instead, named after the
// state directory, and links to it (<state>/services, <state>/supervisors, <state>/log): creating three files per
// service on a disk costs journal work on every start (milliseconds each on ext4 with `discard` while earlier
// deletions commit), and nothing there needs to survive a reboot. A state directory that already holds real
// directories of those names (a previous runtime's records) keeps them, so nothing it runs is lost.
#pragma once

#include <sys/types.h>

#include <string>

namespace dynamod {

struct volatile_placement {
  std::string dir;          // records in dir/services, histories in dir/supervisors, FIFOs in dir/log
  bool redirected = false;  // dir is under /dev/shm, linked from the state directory
  std::string note;         // why it is where it is (logged once)
};

volatile_placement place_volatile_state(const std::string& state_dir, uid_t uid);

// After the runtime stopped every service (nothing left to adopt): the /dev/shm directory and the links go.
void remove_volatile_state(const std::string& state_dir, const volatile_placement& p);

}  // namespace dynamod
