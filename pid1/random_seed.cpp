#include "pid1/random_seed.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include "pid1/file_io.hpp"
#include "pid1/init_log.hpp"

namespace dynamod::init {

namespace {
constexpr unsigned kSeedSize = 512;
}

void load_random_seed() {
  char seed[kSeedSize + 1];
  const long n = read_file(kRandomSeedPath, seed, sizeof seed);
  if (n == -ENOENT) {
    log_debug(log_line{} << "no random seed at " << kRandomSeedPath);
  } else if (n < 0) {
    log_warning(log_line{} << "cannot read " << kRandomSeedPath << ": " << errno_text{static_cast<int>(-n)});
  } else if (n > 0) {
    const int fd = ::open("/dev/urandom", O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      log_warning(log_line{} << "cannot open /dev/urandom: " << errno_text{errno});
    } else {
      if (const int rc = write_all(fd, seed, static_cast<size_t>(n)); rc < 0) {
        log_warning(log_line{} << "cannot seed /dev/urandom: " << errno_text{-rc});
      } else {
        log_notice(log_line{} << "kernel random pool seeded with " << n << " bytes from " << kRandomSeedPath);
      }
      ::close(fd);
    }
  }
  // Replace the seed now so a crash before the next clean shutdown does not reuse it.
  save_random_seed();
}

void save_random_seed() {
  unsigned char seed[kSeedSize];
  const ssize_t n = ::getrandom(seed, sizeof seed, GRND_NONBLOCK);
  if (n < 0) {
    // Before the pool is initialised there is nothing worth saving.
    log_debug(log_line{} << "random seed not saved: " << errno_text{errno});
    return;
  }
  if (const int rc = make_directories("/var/lib/dynamod", 0755); rc < 0) {
    log_debug(log_line{} << "random seed not saved: /var/lib/dynamod: " << errno_text{-rc});
    return;
  }
  if (const int rc = write_file(kRandomSeedPath, seed, static_cast<size_t>(n), 0600); rc == -EROFS) {
    // Booting with / read-only until fsck has run: a boot service replaces the seed once / is writable.
    log_notice(log_line{} << "random seed not replaced yet: / is read-only");
  } else if (rc < 0) {
    log_warning(log_line{} << "cannot save random seed: " << errno_text{-rc});
  }
}

}  // namespace dynamod::init
