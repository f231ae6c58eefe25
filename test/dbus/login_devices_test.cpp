#include "dbus/login_devices.hpp"

#include <gtest/gtest.h>

using namespace dynamod::dbus::login;

namespace {
const device_id kCard{226, 0};
const device_id kKeyboard{13, 66};
const device_id kMouse{13, 67};
}  // namespace

TEST(LoginDevices, OnlyDrmCardsAndEvdevNodes) {
  EXPECT_EQ(classify_device("drm", "card0"), device_kind::drm);
  EXPECT_EQ(classify_device("input", "event12"), device_kind::evdev);
  EXPECT_FALSE(classify_device("drm", "renderD128"));
  EXPECT_FALSE(classify_device("drm", "card0-Virtual-1")) << "a connector is no device node";
  EXPECT_FALSE(classify_device("input", "mice"));
  EXPECT_FALSE(classify_device("input", "event"));
  EXPECT_FALSE(classify_device("block", "vda"));
  EXPECT_FALSE(classify_device("hidraw", "hidraw0"));
}

TEST(LoginDevices, OnlyTheControllerTakesAndEachDeviceOnce) {
  session_devices s;
  EXPECT_EQ(s.take(":1.5", kCard, device_kind::drm, true)->error, "org.freedesktop.login1.NotInControl");
  EXPECT_FALSE(s.take_control(":1.5", false));
  EXPECT_EQ(s.take_control(":1.9", false)->error, "org.freedesktop.DBus.Error.AccessDenied") << "one controller";
  EXPECT_FALSE(s.take(":1.5", kCard, device_kind::drm, true));
  EXPECT_EQ(s.take(":1.5", kCard, device_kind::drm, true)->error, "org.freedesktop.login1.DeviceIsTaken");
  EXPECT_EQ(s.take(":1.9", kKeyboard, device_kind::evdev, true)->error, "org.freedesktop.login1.NotInControl");
  EXPECT_FALSE(s.take(":1.5", kKeyboard, device_kind::evdev, true));
  EXPECT_EQ(s.taken(), 2u);
  EXPECT_EQ(s.release(":1.9", kKeyboard)->error, "org.freedesktop.login1.NotInControl");
  EXPECT_FALSE(s.release(":1.5", kKeyboard));
  EXPECT_EQ(s.release(":1.5", kKeyboard)->error, "org.freedesktop.login1.DeviceNotTaken");
}

TEST(LoginDevices, AnInactiveSessionTakesPausedDevices) {
  session_devices s;
  s.take_control(":1.5", false);
  s.take(":1.5", kCard, device_kind::drm, false);
  EXPECT_TRUE(s.is_paused(kCard)) << "TakeDevice answers inactive=true";
  EXPECT_EQ(s.resume_all(), std::vector<device_id>{kCard});
  EXPECT_FALSE(s.is_paused(kCard));
}

TEST(LoginDevices, AVtSwitchPausesDrmAndRevokesEvdevThenResumes) {
  session_devices s;
  s.take_control(":1.5", false);
  s.take(":1.5", kCard, device_kind::drm, true);
  s.take(":1.5", kKeyboard, device_kind::evdev, true);
  s.take(":1.5", kMouse, device_kind::evdev, true);
  auto paused = s.pause_all();
  ASSERT_EQ(paused.size(), 3u);
  EXPECT_EQ(paused[0].device, kKeyboard);
  EXPECT_EQ(paused[0].type, "force");
  EXPECT_EQ(paused[2].device, kCard);
  EXPECT_EQ(paused[2].type, "pause");
  EXPECT_TRUE(s.pause_all().empty()) << "paused once";
  EXPECT_EQ(s.awaiting_pause_complete(), 1u) << "only DRM waits for PauseDeviceComplete";
  s.pause_complete(":1.9", kCard);
  EXPECT_EQ(s.awaiting_pause_complete(), 1u) << "only the controller completes";
  s.pause_complete(":1.5", kCard);
  EXPECT_EQ(s.awaiting_pause_complete(), 0u);
  EXPECT_EQ(s.resume_all().size(), 3u);
  EXPECT_TRUE(s.resume_all().empty());
}

TEST(LoginDevices, LosingControlReleasesEverything) {
  session_devices s;
  s.take_control(":1.5", false);
  s.take(":1.5", kCard, device_kind::drm, true);
  s.take(":1.5", kKeyboard, device_kind::evdev, true);
  EXPECT_TRUE(s.release_control(":1.9").empty()) << "not the controller";
  EXPECT_EQ(s.release_control(":1.5").size(), 2u);
  EXPECT_EQ(s.taken(), 0u);
  EXPECT_TRUE(s.controller().empty());
  EXPECT_FALSE(s.take_control(":1.9", false)) << "free to take again";
}

TEST(LoginDevices, ForcingControlStartsTheNewControllerWithNothing) {
  session_devices s;
  s.take_control(":1.5", false);
  s.take(":1.5", kCard, device_kind::drm, true);
  EXPECT_FALSE(s.take_control(":1.9", true));
  EXPECT_EQ(s.taken(), 0u);
  EXPECT_EQ(s.controller(), ":1.9");
  EXPECT_EQ(s.take(":1.5", kCard, device_kind::drm, true)->error, "org.freedesktop.login1.NotInControl");
}
