#include "runtime/io/log_files.hpp"

#include <spdlog/common.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dynamod {

void rotate_log_files(const std::string& file, int keep) {
  if (keep <= 0) {
    ::unlink(file.c_str());
    return;
  }
  for (int i = keep; i > 1; --i) {
    ::rename((file + "." + std::to_string(i - 1)).c_str(), (file + "." + std::to_string(i)).c_str());
  }
  ::rename(file.c_str(), (file + ".1").c_str());
}

rotating_log_sink::rotating_log_sink(std::string file, uint64_t max_size, int keep)
    : file_(std::move(file)), max_size_(max_size), keep_(keep) {
  if (!open_file()) throw spdlog::spdlog_ex("cannot open " + file_, errno);
}

rotating_log_sink::~rotating_log_sink() {
  if (fd_ >= 0) ::close(fd_);
}

bool rotating_log_sink::open_file() {
  fd_ = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) return false;
  struct stat s {};
  size_ = ::fstat(fd_, &s) == 0 ? static_cast<uint64_t>(s.st_size) : 0;
  return true;
}

namespace {

bool write_all(int fd, const char* data, size_t size) {
  size_t off = 0;
  while (off < size) {
    const ssize_t n = ::write(fd, data + off, size - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void rotating_log_sink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t text;
  formatter_->format(msg, text);
  if (max_size_ > 0 && fd_ >= 0 && size_ > 0 && size_ + text.size() > max_size_) {
    ::close(fd_);
    fd_ = -1;
    rotate_log_files(file_, keep_);
  }
  if (fd_ < 0 && !open_file()) {
    ++lost_;
    return;
  }
  if (lost_ > 0) {
    const std::string note = "(" + std::to_string(lost_) + " earlier messages could not be written to this file)\n";
    if (write_all(fd_, note.data(), note.size())) {
      size_ += note.size();
      lost_ = 0;
    }
  }
  if (!write_all(fd_, text.data(), text.size())) {
    ++lost_;
    return;
  }
  size_ += text.size();
}

}  // namespace dynamod
