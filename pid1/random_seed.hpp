// Carries kernel RNG entropy across boots: a seed saved at shutdown is mixed into /dev/urandom at the
// next boot (not credited: the file may have been copied), then replaced at once so it is never reused.
#pragma once

namespace dynamod::init {

inline constexpr const char kRandomSeedPath[] = "/var/lib/dynamod/random-seed";

void load_random_seed();
void save_random_seed();

}  // namespace dynamod::init
