// Size-rotated log files, one scheme for every log the runtime writes: the service logs (log sinks) and
// runtime.log. `file` rotates to file.1, file.1 to file.2, ... up to file.<keep>; keep 0 just removes it.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace dynamod {

void rotate_log_files(const std::string& file, int keep);

// spdlog sink for runtime.log: appends, rotates beyond max_size (0: never) like a service log. A failed
// write is counted and said in the file once it can be written again (nothing is dropped silently).
class rotating_log_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  rotating_log_sink(std::string file, uint64_t max_size, int keep);  // throws spdlog_ex if it cannot open
  ~rotating_log_sink() override;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  bool open_file();
  std::string file_;
  uint64_t max_size_;
  int keep_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t lost_ = 0;  // messages not written since the last successful write
};

}  // namespace dynamod
