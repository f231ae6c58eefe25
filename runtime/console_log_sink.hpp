// The runtime's log lines on the console (stderr), through the console writer: a slow console never holds
// the actor that logged. runtime.log's sink stays synchronous and loses nothing.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>
#include <string>

#include "runtime/console_writer.hpp"

namespace dynamod {

class console_log_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  console_log_sink(std::shared_ptr<console_writer> out, int fd) : out_(std::move(out)), fd_(fd) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    out_->write(fd_, std::string(line.data(), line.size()));
  }
  void flush_() override {}

 private:
  std::shared_ptr<console_writer> out_;  // shared: the logger may outlive main's scope
  int fd_;
};

}  // namespace dynamod
