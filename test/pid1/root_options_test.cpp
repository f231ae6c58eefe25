// The kernel command line's words about the root (initramfs phase): parsed as the kernel and Debian's
// initramfs read them; bad values keep the default and are reported.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "pid1/kernel_cmdline.hpp"

using namespace dynamod::init;

namespace {

init_options parse(const std::string& line, cmdline_warnings* w = nullptr) {
  init_options o;
  cmdline_warnings local;
  parse_kernel_cmdline(line.data(), line.size(), o, w ? *w : local);
  return o;
}

}  // namespace

TEST(RootOptions, WithoutRootThereIsNoInitramfsPhase) {
  const auto o = parse("console=ttyS0 quiet");
  EXPECT_EQ(o.root.kind, root_kind::none);
  EXPECT_FALSE(o.root.read_write);
}

TEST(RootOptions, EachFormOfRootIsRecognised) {
  auto o = parse("root=/dev/vda1 ro");
  EXPECT_EQ(o.root.kind, root_kind::path);
  EXPECT_STREQ(o.root.value, "/dev/vda1");
  o = parse("root=UUID=3e6be9de-8139-11d1-9106-a43f08d823a6");
  EXPECT_EQ(o.root.kind, root_kind::uuid);
  EXPECT_STREQ(o.root.value, "3e6be9de-8139-11d1-9106-a43f08d823a6");
  o = parse("root=PARTUUID=0a1b2c3d-01");
  EXPECT_EQ(o.root.kind, root_kind::partuuid);
  o = parse("root=LABEL=debian-root");
  EXPECT_EQ(o.root.kind, root_kind::label);
  EXPECT_STREQ(o.root.value, "debian-root");
  o = parse("root=PARTLABEL=root");
  EXPECT_EQ(o.root.kind, root_kind::partlabel);
  o = parse("root=/dev/disk/by-uuid/3e6be9de-8139-11d1-9106-a43f08d823a6");  // udev's link, read without udev
  EXPECT_EQ(o.root.kind, root_kind::uuid);
  EXPECT_STREQ(o.root.value, "3e6be9de-8139-11d1-9106-a43f08d823a6");
  o = parse("root=/dev/disk/by-partlabel/root");
  EXPECT_EQ(o.root.kind, root_kind::partlabel);
  EXPECT_STREQ(o.root.value, "root");
  o = parse("root=254:1");
  EXPECT_EQ(o.root.kind, root_kind::devnum);
  EXPECT_EQ(o.root.major, 254u);
  EXPECT_EQ(o.root.minor, 1u);
  o = parse("root=fe01");  // the kernel's hex form: major 0xfe, minor 1
  EXPECT_EQ(o.root.kind, root_kind::devnum);
  EXPECT_EQ(o.root.major, 0xfeu);
  EXPECT_EQ(o.root.minor, 1u);
}

TEST(RootOptions, QuotesGroupALabelWithSpaces) {
  const auto o = parse("root=\"LABEL=my root\" rw");
  EXPECT_EQ(o.root.kind, root_kind::label);
  EXPECT_STREQ(o.root.value, "my root");
  EXPECT_TRUE(o.root.read_write);
  const auto q = parse("root=LABEL=\"my root\"");
  EXPECT_EQ(q.root.kind, root_kind::label);
  EXPECT_STREQ(q.root.value, "\"my root\"") << "only a quote around the whole value is the kernel's";
}

TEST(RootOptions, FlagsTypeWaitDelayAndInit) {
  const auto o = parse("root=/dev/vda2 rootfstype=btrfs rootflags=subvol=@,compress=zstd rw rootwait rootdelay=3 "
                       "init=/sbin/dynamod-init");
  EXPECT_STREQ(o.root.fstype, "btrfs");
  EXPECT_STREQ(o.root.flags, "subvol=@,compress=zstd");
  EXPECT_TRUE(o.root.read_write);
  EXPECT_TRUE(o.root.wait);
  EXPECT_EQ(o.root.wait_ms, 0u) << "bare rootwait: the caller's bound";
  EXPECT_EQ(o.root.delay_ms, 3000u);
  EXPECT_STREQ(o.root.init, "/sbin/dynamod-init");
  EXPECT_EQ(parse("rootwait=10").root.wait_ms, 10000u);
  EXPECT_FALSE(parse("rw ro").root.read_write) << "the last word wins, as for the kernel";
}

TEST(RootOptions, BadValuesKeepTheDefaultAndAreReported) {
  cmdline_warnings w;
  const std::string long_label = "root=LABEL=" + std::string(300, 'x');
  const auto o = parse("root=/dev/vda1 " + long_label + " rootdelay=soon init=relative/path rootwait=-1 root=zz:1", &w);
  EXPECT_EQ(o.root.kind, root_kind::path) << "a refused root= keeps the earlier one";
  EXPECT_STREQ(o.root.value, "/dev/vda1");
  EXPECT_EQ(o.root.delay_ms, 0u);
  EXPECT_STREQ(o.root.init, "");
  EXPECT_EQ(w.count, 5u);
  EXPECT_NE(std::strstr(w.text[0], "bad value, default kept: root=LABEL=xxx"), nullptr) << w.text[0];
  cmdline_warnings none;
  parse("root= rootfstype=", &none);
  EXPECT_EQ(none.count, 2u) << "empty values are refused too";
}

TEST(RootOptions, UuidsCompareWithoutCaseOrDashes) {
  const uint8_t raw[16] = {0x3e, 0x6b, 0xe9, 0xde, 0x81, 0x39, 0x11, 0xd1,
                           0x91, 0x06, 0xa4, 0x3f, 0x08, 0xd8, 0x23, 0xa6};
  char text[37];
  format_uuid(raw, text);
  EXPECT_STREQ(text, "3e6be9de-8139-11d1-9106-a43f08d823a6");
  EXPECT_TRUE(uuid_matches("3E6BE9DE-8139-11D1-9106-A43F08D823A6", raw));
  EXPECT_TRUE(uuid_matches("3e6be9de813911d19106a43f08d823a6", raw));
  EXPECT_FALSE(uuid_matches("3e6be9de-8139-11d1-9106-a43f08d823a7", raw));
  EXPECT_FALSE(uuid_matches("3e6be9de-8139-11d1-9106-a43f08d823", raw)) << "too short";
  EXPECT_FALSE(uuid_matches("3e6be9de-8139-11d1-9106-a43f08d823a6ff", raw)) << "too long";
  EXPECT_FALSE(uuid_matches("3e6be9de-8139-11d1-9106-a43f08d823ag", raw));
}
