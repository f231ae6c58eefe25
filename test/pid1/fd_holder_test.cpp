#include "pid1/fd_holder.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/init_messages.hpp"

using dynamod::init::fd_holder;
using namespace dynamod::protocol;

namespace {

std::unique_ptr<fd_holder> make() { return std::make_unique<fd_holder>(); }  // too big for the stack

struct fifo_dir {
  std::string dir;
  fifo_dir() {
    char tmpl[] = "/tmp/fd_holder_test.XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~fifo_dir() { std::system(("rm -rf " + dir).c_str()); }
  std::string make_fifo(const std::string& name) {
    const std::string p = dir + "/" + name;
    EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0);
    return p;
  }
};

int open_rw(const std::string& path) { return ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC); }

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

// Sends `frame` with `fd` attached, as the runtime's pid1_link does.
void send_with_fd(int sock, const uint8_t* frame, size_t n, int fd) {
  iovec iov{const_cast<uint8_t*>(frame), n};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ASSERT_EQ(::sendmsg(sock, &msg, 0), static_cast<ssize_t>(n));
}

}  // namespace

TEST(FdHolder, KeepsAFifoAndItsContentAfterEveryOtherDescriptorIsClosed) {
  fifo_dir d;
  const std::string path = d.make_fifo("svc.stdout");
  auto h = make();
  const int writer = open_rw(path);
  ASSERT_GE(writer, 0);
  ASSERT_EQ(h->hold(open_rw(path)), fd_holder::result::held);
  ASSERT_EQ(::write(writer, "last words\n", 11), 11);
  ::close(writer);  // the service exited, no runtime ran
  const int reader = open_rw(path);
  char buf[64] = {};
  ASSERT_EQ(::read(reader, buf, sizeof buf), 11);
  EXPECT_STREQ(buf, "last words\n");
  ::close(reader);
  EXPECT_EQ(h->held(), 1u);
}

TEST(FdHolder, AFifoHandedOverAgainIsHeldOnce) {
  fifo_dir d;
  const std::string path = d.make_fifo("svc.stdout");
  auto h = make();
  ASSERT_EQ(h->hold(open_rw(path)), fd_holder::result::held);
  const int again = open_rw(path);
  EXPECT_EQ(h->hold(again), fd_holder::result::already_held);
  EXPECT_FALSE(is_open(again));
  EXPECT_EQ(h->held(), 1u);
}

TEST(FdHolder, ReleaseClosesTheHeldDescriptorAndFreesItsSlot) {
  fifo_dir d;
  const std::string a = d.make_fifo("a.stdout"), b = d.make_fifo("b.stdout");
  auto h = make();
  const int fa = open_rw(a);
  ASSERT_EQ(h->hold(fa), fd_holder::result::held);
  ASSERT_EQ(h->hold(open_rw(b)), fd_holder::result::held);
  struct stat s {};
  ASSERT_EQ(::stat(a.c_str(), &s), 0);
  EXPECT_TRUE(h->release(s.st_dev, s.st_ino));
  EXPECT_FALSE(is_open(fa));
  EXPECT_FALSE(h->release(s.st_dev, s.st_ino));
  EXPECT_EQ(h->held(), 1u);
  EXPECT_EQ(h->hold(open_rw(a)), fd_holder::result::held);  // the freed slot is used again
  EXPECT_EQ(h->held(), 2u);
}

TEST(FdHolder, CloseAllLetsGoOfEverything) {
  fifo_dir d;
  const std::string a = d.make_fifo("a.stdout"), b = d.make_fifo("b.stdout");
  auto h = make();
  const int fa = open_rw(a), fb = open_rw(b);
  ASSERT_EQ(h->hold(fa), fd_holder::result::held);
  ASSERT_EQ(h->hold(fb), fd_holder::result::held);
  h->close_all();
  EXPECT_FALSE(is_open(fa));
  EXPECT_FALSE(is_open(fb));
  EXPECT_EQ(h->held(), 0u);
}

TEST(FdHolder, RefusesWhatIsNotAFifo) {
  auto h = make();
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(h->hold(fd), fd_holder::result::not_a_fifo);
  EXPECT_FALSE(is_open(fd));
  EXPECT_EQ(h->hold_next(), fd_holder::result::no_descriptor);
}

TEST(FdHolder, ReceivesTheDescriptorThatCameWithAHoldFifoFrame) {
  fifo_dir d;
  const std::string path = d.make_fifo("svc.stderr");
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  init_message m;
  m.type = init_msg::hold_fifo;
  uint8_t frame[kInitMaxFrame];
  const size_t n = encode(m, frame, sizeof frame);
  ASSERT_GT(n, 0u);
  const int fd = open_rw(path);
  send_with_fd(pair[1], frame, n, fd);
  ::close(fd);
  auto h = make();
  uint8_t buf[kInitMaxFrame];
  bool truncated = true;
  ASSERT_EQ(h->receive(pair[0], buf, sizeof buf, truncated), static_cast<ssize_t>(n));
  EXPECT_FALSE(truncated);
  frame_view v;
  size_t size = 0;
  ASSERT_EQ(peek_frame(buf, n, kInitProtocolVersion, kInitMaxFrame, v, size), frame_status::ok);
  init_message out;
  ASSERT_EQ(decode(v, out), decode_status::ok);
  EXPECT_EQ(out.type, init_msg::hold_fifo);
  EXPECT_EQ(h->hold_next(), fd_holder::result::held);
  EXPECT_EQ(h->hold_next(), fd_holder::result::no_descriptor);
  ::close(pair[0]);
  ::close(pair[1]);
}

TEST(FdHolder, UnclaimedDescriptorsAreClosedWhenTheChannelCloses) {
  fifo_dir d;
  const std::string path = d.make_fifo("svc.stdout");
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  const uint8_t junk[1] = {0};
  const int fd = open_rw(path);
  send_with_fd(pair[1], junk, 1, fd);
  ::close(fd);
  auto h = make();
  uint8_t buf[16];
  bool truncated = false;
  ASSERT_EQ(h->receive(pair[0], buf, sizeof buf, truncated), 1);
  h->drop_pending();
  EXPECT_EQ(h->hold_next(), fd_holder::result::no_descriptor);
  EXPECT_EQ(h->held(), 0u);
  ::close(pair[0]);
  ::close(pair[1]);
}

TEST(InitMessages, DropFifoRoundTripsDeviceAndInode) {
  init_message m;
  m.type = init_msg::drop_fifo;
  m.device = 0x1234567890ull;
  m.inode = 0xfedcba9876543210ull;
  uint8_t buf[kInitMaxFrame];
  const size_t n = encode(m, buf, sizeof buf);
  frame_view v;
  size_t size = 0;
  ASSERT_EQ(peek_frame(buf, n, kInitProtocolVersion, kInitMaxFrame, v, size), frame_status::ok);
  init_message out;
  ASSERT_EQ(decode(v, out), decode_status::ok);
  EXPECT_EQ(out.type, init_msg::drop_fifo);
  EXPECT_EQ(out.device, m.device);
  EXPECT_EQ(out.inode, m.inode);
}

TEST(FdHolder, ManyFifosAreHeldReleasedAndHeldAgainByTheirIdentity) {
  fifo_dir d;
  auto h = make();
  constexpr int kCount = 600;
  std::vector<std::string> paths;
  std::vector<int> fds;
  for (int i = 0; i < kCount; ++i) {
    paths.push_back(d.make_fifo("s" + std::to_string(i) + ".stdout"));
    fds.push_back(open_rw(paths.back()));
    ASSERT_EQ(h->hold(fds.back()), fd_holder::result::held) << i;
  }
  EXPECT_EQ(h->held(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; i += 2) {  // every other one goes (tombstones in the index)
    struct stat s {};
    ASSERT_EQ(::stat(paths[i].c_str(), &s), 0);
    EXPECT_TRUE(h->release(s.st_dev, s.st_ino)) << i;
    EXPECT_FALSE(is_open(fds[i])) << i;
  }
  EXPECT_EQ(h->held(), static_cast<size_t>(kCount / 2));
  for (int i = 0; i < kCount; ++i) {
    // The ones still held are found behind the tombstones; the released ones are taken again.
    const auto expected = i % 2 == 0 ? fd_holder::result::held : fd_holder::result::already_held;
    EXPECT_EQ(h->hold(open_rw(paths[i])), expected) << i;
  }
  EXPECT_EQ(h->held(), static_cast<size_t>(kCount));
  for (int i = 1; i < kCount; i += 2) EXPECT_TRUE(is_open(fds[i])) << "a held descriptor was closed: " << i;
  h->close_all();
  EXPECT_EQ(h->held(), 0u);
}
