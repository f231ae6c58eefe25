// Brings up the loopback interface: services expect 127.0.0.1 to work from the first second,
// and nothing else would configure it in a minimal system.
#pragma once

namespace dynamod::init {

void bring_up_loopback();

}  // namespace dynamod::init
