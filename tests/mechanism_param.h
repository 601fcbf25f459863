// mechanism_param.h: end-to-end tests run over both strict mechanisms, the
// injected seccomp filter and syscall user dispatch, in the same binary (CI
// time is spent on test cases, not on more binaries to link).
#ifndef DPSUPERVISE_TESTS_MECHANISM_PARAM_H_
#define DPSUPERVISE_TESTS_MECHANISM_PARAM_H_

#include <gtest/gtest.h>

#include <string>

#include "tests/run_util.h"

namespace dptest {

// A fixture whose parameter is the --mechanism every RunSupervised and
// SupervisorArgv of the test passes.
class BothMechanisms : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { SetMechanism(GetParam()); }
  void TearDown() override { SetMechanism(""); }
  bool dispatch() const { return std::string(GetParam()) == "dispatch"; }
};

}  // namespace dptest

// Instantiates `suite` (a BothMechanisms) as suite/seccomp and suite/dispatch.
#define DP_INSTANTIATE_BOTH_MECHANISMS(suite)                                              \
  INSTANTIATE_TEST_SUITE_P(Mechanism, suite, ::testing::Values("seccomp", "dispatch"), \
                           [](const auto& info) { return std::string(info.param); })

#endif  // DPSUPERVISE_TESTS_MECHANISM_PARAM_H_
