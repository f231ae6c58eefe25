#include "pid1/system_identity.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mount.h>
#include <sys/random.h>
#include <unistd.h>

#include "pid1/file_io.hpp"
#include "pid1/init_log.hpp"

namespace dynamod::init {

namespace {
constexpr const char kFallbackHostname[] = "dynamod";
constexpr const char kMachineIdPath[] = "/etc/machine-id";
constexpr const char kRunMachineIdPath[] = "/run/machine-id";

bool hostname_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
}  // namespace

size_t hostname_from_file(const char* content, size_t length, char* out, size_t capacity) {
  size_t pos = 0;
  while (pos < length) {
    size_t end = pos;
    while (end < length && content[end] != '\n') ++end;
    size_t b = pos, e = end;
    while (b < e && (content[b] == ' ' || content[b] == '\t' || content[b] == '\r')) ++b;
    while (e > b && (content[e - 1] == ' ' || content[e - 1] == '\t' || content[e - 1] == '\r')) --e;
    pos = end + 1;
    if (b == e || content[b] == '#') continue;
    const size_t n = e - b;
    if (n > 64 || n + 1 > capacity) return 0;
    for (size_t i = b; i < e; ++i) {
      if (!hostname_char(content[i])) return 0;
    }
    std::memcpy(out, content + b, n);
    out[n] = '\0';
    return n;
  }
  return 0;
}

bool is_valid_machine_id(const char* content, size_t length) {
  if (length == 33 && content[32] == '\n') length = 32;
  if (length != 32) return false;
  for (size_t i = 0; i < 32; ++i) {
    const char c = content[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void format_machine_id(const unsigned char random[16], char out[33]) {
  unsigned char b[16];
  std::memcpy(b, random, 16);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4, as systemd does
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < 16; ++i) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 0xF];
  }
  out[32] = '\n';
}

void set_hostname_from_config() {
  char content[512];
  char name[65];
  const long n = read_file("/etc/hostname", content, sizeof content);
  size_t len = n > 0 ? hostname_from_file(content, static_cast<size_t>(n), name, sizeof name) : 0;
  if (len == 0) {
    if (n > 0) log_warning(log_line{} << "/etc/hostname holds no valid hostname, using \"" << kFallbackHostname
                                      << "\"");
    std::memcpy(name, kFallbackHostname, sizeof kFallbackHostname);
    len = sizeof kFallbackHostname - 1;
  }
  if (::sethostname(name, len) < 0) {
    log_warning(log_line{} << "sethostname(" << name << ") failed: " << errno_text{errno});
    return;
  }
  log_notice(log_line{} << "hostname set to " << name);
}

void ensure_machine_id() {
  char content[64];
  const long n = read_file(kMachineIdPath, content, sizeof content);
  if (n > 0 && is_valid_machine_id(content, static_cast<size_t>(n))) return;

  unsigned char random[16];
  // The id must be unique, not secret: GRND_INSECURE does not wait for the pool at early boot.
  ssize_t got = ::getrandom(random, sizeof random, GRND_INSECURE);
  if (got < 0 && errno == EINVAL) got = ::getrandom(random, sizeof random, 0);  // kernel < 5.6
  if (got != static_cast<ssize_t>(sizeof random)) {
    log_error(log_line{} << "getrandom failed, no machine id: " << errno_text{errno});
    return;
  }
  char id[33];
  format_machine_id(random, id);
  const int rc = write_file(kMachineIdPath, id, sizeof id, 0444);
  if (rc == 0) {
    log_notice((log_line{} << "created " << kMachineIdPath << " ").append(id, 32));
    return;
  }
  if (rc != -EROFS) {
    log_error(log_line{} << "cannot write " << kMachineIdPath << ": " << errno_text{-rc});
    return;
  }
  // Read-only root: keep the id in /run for this boot and bind it over the (existing, empty) file.
  if (const int rc2 = write_file(kRunMachineIdPath, id, sizeof id, 0444); rc2 < 0) {
    log_error(log_line{} << "cannot write " << kRunMachineIdPath << ": " << errno_text{-rc2});
    return;
  }
  if (::mount(kRunMachineIdPath, kMachineIdPath, nullptr, MS_BIND, nullptr) < 0) {
    log_error(log_line{} << "cannot bind " << kRunMachineIdPath << " over " << kMachineIdPath << ": "
                         << errno_text{errno});
    return;
  }
  log_notice(log_line{} << "read-only root: machine id lives in " << kRunMachineIdPath);
}

}  // namespace dynamod::init
