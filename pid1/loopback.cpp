#include "pid1/loopback.hpp"

#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pid1/init_log.hpp"

namespace dynamod::init {

void bring_up_loopback() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log_warning(log_line{} << "loopback: socket: " << errno_text{errno});
    return;
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
    log_warning(log_line{} << "loopback: SIOCGIFFLAGS: " << errno_text{errno});
  } else if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
      log_warning(log_line{} << "loopback: cannot bring up lo: " << errno_text{errno});
    } else {
      log_debug(log_line{} << "loopback interface lo is up");
    }
  }
  ::close(fd);
}

}  // namespace dynamod::init
