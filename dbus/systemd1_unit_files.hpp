// systemd1's unit-file verbs on dynamod's enable state: `systemctl disable x` makes <config dir>/manual/x (a
// link to /dev/null: x starts only when asked), `enable` removes it; the Reload that systemctl sends next makes
// the runtime read it (runtime/config/config_loader: start_at_boot). Also reset-failed.
#pragma once

#include <systemd/sd-bus.h>

namespace dynamod::dbus {

// EnableUnitFiles(asbb) -> (ba(sss)); EnableUnitFilesWithFlags(ast) -> (ba(sss)); ReenableUnitFiles(asbb)
int method_enable_unit_files(sd_bus_message* m, void* userdata, sd_bus_error* error);
int method_enable_unit_files_with_flags(sd_bus_message* m, void* userdata, sd_bus_error* error);
// DisableUnitFiles(asb) -> a(sss); DisableUnitFilesWithFlags(ast) -> a(sss);
// DisableUnitFilesWithFlagsAndInstallInfo(ast) -> (ba(sss))
int method_disable_unit_files(sd_bus_message* m, void* userdata, sd_bus_error* error);
int method_disable_unit_files_with_flags(sd_bus_message* m, void* userdata, sd_bus_error* error);
int method_disable_unit_files_with_info(sd_bus_message* m, void* userdata, sd_bus_error* error);
// ResetFailedUnit(s), ResetFailed()
int method_reset_failed_unit(sd_bus_message* m, void* userdata, sd_bus_error* error);
int method_reset_failed(sd_bus_message* m, void* userdata, sd_bus_error* error);

}  // namespace dynamod::dbus
