// Services' output lines, also handed to systemd-journald when one runs (the Debian service set runs it), so that
// `systemctl status x` shows x's recent lines as it does under systemd: journald's native protocol, one datagram
// per line, with OBJECT_SYSTEMD_UNIT=x.service, which systemctl matches for messages from uid 0 about a unit
// (../shared/spec/dbus.md §5). dynamod's own log files stay the record; the journal is a copy.
//
// Shared by every log sink (thread-safe: one unbound datagram socket, sendto is atomic). Never waits: a full
// journald socket drops the copy (counted); without journald (ENOENT, ECONNREFUSED) it tries again at most every
// 5 s instead of once per line.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace dynamod {

class journal_forwarder {
 public:
  explicit journal_forwarder(std::string socket_path);  // /run/systemd/journal/socket
  ~journal_forwarder();
  journal_forwarder(const journal_forwarder&) = delete;
  journal_forwarder& operator=(const journal_forwarder&) = delete;

  // `unit` "x.service", `identifier` "x"; stderr lines get priority 3 (err), stdout lines 6 (info).
  void send(std::string_view unit, std::string_view identifier, bool stderr_stream, std::string_view text);

  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  // The datagram for one line (pure; tested): KEY=VALUE lines, or KEY\n<le64 size><bytes>\n for a value with a
  // newline (journald's binary-safe form).
  static std::string datagram(std::string_view unit, std::string_view identifier, bool stderr_stream,
                              std::string_view text);

 private:
  std::string path_;
  int fd_ = -1;
  std::atomic<int64_t> absent_until_ms_{0};
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace dynamod
