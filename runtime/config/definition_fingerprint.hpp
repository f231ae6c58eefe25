#pragma once
// A fingerprint of a service's definition, stored in its adoption record: a runtime that adopts a process
// started from another definition (the file changed while no runtime ran) restarts it, as reload restarts a
// changed service. Equal definitions in the sense of same_definition() (file and key positions aside) have
// equal fingerprints; every field of service_config but its supervisor (its place in the tree, not its
// process) is part of it (a unit test checks the struct size).
#include <string>

#include "runtime/config/service_config.hpp"

namespace dynamod {

std::string definition_fingerprint(const service_config& c);  // 16 hex digits

}  // namespace dynamod
