// The runtime's log lines quote service names, paths, exit reasons and client requests: a spdlog formatter
// that escapes control characters in every message (terminal_safe) before the sink's pattern is applied, so
// no line in runtime.log or on stderr can be forged or carry terminal escapes.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>

#include <memory>
#include <string>

#include "protocol/terminal_text.hpp"

namespace dynamod {

class safe_log_format final : public spdlog::formatter {
 public:
  explicit safe_log_format(std::string pattern)
      : pattern_(pattern), inner_(std::make_unique<spdlog::pattern_formatter>(std::move(pattern))) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view payload{msg.payload.data(), msg.payload.size()};
    if (is_terminal_safe(payload)) return inner_->format(msg, dest);
    const std::string escaped = terminal_safe(payload);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t{escaped.data(), escaped.size()};
    inner_->format(copy, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<safe_log_format>(pattern_); }

 private:
  std::string pattern_;
  std::unique_ptr<spdlog::pattern_formatter> inner_;
};

}  // namespace dynamod
