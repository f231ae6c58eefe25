// A blocking client for the runtime's control socket: one connection, requests with ids, replies
// read frame by frame. Used by dynamodctl and by the integration tests.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "protocol/control_messages.hpp"

namespace dynamod {

class control_client {
 public:
  control_client() = default;
  ~control_client();
  control_client(const control_client&) = delete;
  control_client& operator=(const control_client&) = delete;

  // Returns an error message, or nothing on success.
  std::optional<std::string> connect(const std::string& socket_path);

  // Sends a request and returns its id.
  uint32_t send(const std::string& command, const std::vector<std::string>& args, uint32_t flags = 0);

  // Reads the next reply (any id). Returns nothing if the connection ended; `error` says why.
  std::optional<protocol::control_reply> next_reply(std::string& error, int timeout_ms = -1);

  // Sends a request and collects every reply for it until a result, error or end arrives.
  // `on_event` sees streamed events as they come. `timeout_ms` (-1: none) bounds each wait for the runtime.
  std::optional<protocol::control_reply> call(const std::string& command, const std::vector<std::string>& args,
                                              uint32_t flags, std::string& error,
                                              const std::function<void(const protocol::control_reply&)>& on_event = {},
                                              int timeout_ms = -1);

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  uint32_t next_id_ = 1;
  std::vector<uint8_t> buffer_;
};

}  // namespace dynamod
