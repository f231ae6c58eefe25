#include "runtime/io/journal_forwarder.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>

using dynamod::journal_forwarder;

TEST(JournalForwarder, ALineIsOneDatagramOfJournalFields) {
  EXPECT_EQ(journal_forwarder::datagram("sshd.service", "sshd", false, "Server listening on 0.0.0.0 port 22."),
            "MESSAGE=Server listening on 0.0.0.0 port 22.\nPRIORITY=6\nSYSLOG_IDENTIFIER=sshd\n"
            "OBJECT_SYSTEMD_UNIT=sshd.service\n");
  EXPECT_NE(journal_forwarder::datagram("x.service", "x", true, "oops").find("PRIORITY=3\n"), std::string::npos)
      << "stderr is an error";
}

TEST(JournalForwarder, AValueWithANewlineIsSentBinarySafe) {
  const std::string d = journal_forwarder::datagram("x.service", "x", false, std::string("a\nb"));
  const std::string expected = std::string("MESSAGE\n") + std::string("\x03\0\0\0\0\0\0\0", 8) + "a\nb\n";
  EXPECT_EQ(d.substr(0, expected.size()), expected);
}

TEST(JournalForwarder, SendsToTheSocketAndSkipsQuietlyWithoutOne) {
  const auto dir = std::filesystem::temp_directory_path() / ("dynamod-journal-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "socket").string();
  journal_forwarder absent(path);
  absent.send("x.service", "x", false, "nobody listens");
  EXPECT_EQ(absent.sent(), 0u);
  EXPECT_EQ(absent.dropped(), 0u) << "no journald is not a drop";

  const int server = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::copy(path.begin(), path.end(), addr.sun_path);
  ASSERT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  journal_forwarder present(path);
  present.send("web.service", "web", true, "listening");
  char buf[512] = {};
  const ssize_t n = ::recv(server, buf, sizeof buf - 1, MSG_DONTWAIT);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), journal_forwarder::datagram("web.service", "web", true, "listening"));
  EXPECT_EQ(present.sent(), 1u);
  ::close(server);
  std::filesystem::remove_all(dir);
}
