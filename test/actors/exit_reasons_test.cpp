#include "actors/exit_reasons.hpp"

#include <caf/sec.hpp>
#include <gtest/gtest.h>

using namespace dynamod;

// An empty caf::error is a normal exit; CAF 0.17 dereferences null in its category(), which crashed the
// supervisor when an adopted one-shot stopped cleanly.
TEST(ExitReasons, ANormalExitIsNoServiceExitAndNeverDereferenced) {
  const caf::error normal;
  EXPECT_FALSE(is_service_exit(normal));
  EXPECT_FALSE(is_service_exit(normal, service_exit::oom));
  EXPECT_EQ(classify(normal), exit_class::normal);
  EXPECT_EQ(describe_exit(normal), "exited with status 0");
}

TEST(ExitReasons, OurReasonsAreRecognisedByCode) {
  EXPECT_TRUE(is_service_exit(make_error(service_exit::oom)));
  EXPECT_TRUE(is_service_exit(make_error(service_exit::oom), service_exit::oom));
  EXPECT_FALSE(is_service_exit(make_error(service_exit::shutdown), service_exit::oom));
  EXPECT_FALSE(is_service_exit(caf::make_error(caf::sec::runtime_error)));
  EXPECT_EQ(classify(make_error(service_exit::oom)), exit_class::abnormal);
  EXPECT_EQ(classify(make_error(service_exit::shutdown)), exit_class::shutdown);
}
