// libFuzzer target for the policy parser (supervisor/policy/policy.h), built outside
// Bazel with clang by tools/fuzz/run_policy_fuzzer.sh:
//
//     tools/fuzz/run_policy_fuzzer.sh [SECONDS]
//
// Each input is parsed as a policy file that lives in
// $DPSUPERVISE_FUZZ_POLICY_DIR (testdata/policies by default), so `@include`
// of the example files works. Besides crashes, hangs and sanitizer errors, it
// traps (and so reports a crash with the input) when the parser breaks its
// contract: a status other than OK or InvalidArgument, an error message not of
// the form "file:line:column: error: ...\nSOURCE\n   ^", or a parsed policy
// whose strict filter does not build (InvalidArgument, e.g. too many
// instructions, is allowed).
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "supervisor/seccomp/filter.h"
#include "supervisor/policy/policy.h"

namespace {

std::string* g_filename = nullptr;

[[noreturn]] void Fail(const char* what, const absl::Status& status) {
  fprintf(stderr, "policy_fuzzer: %s: %s\n", what, status.ToString().c_str());
  fflush(stderr);
  abort();
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "FILE:LINE:COLUMN: error: WHAT\nSOURCE\nCARET" with LINE, COLUMN >= 1 and
// the caret in COLUMN.
bool WellFormedMessage(absl::string_view message) {
  const size_t header_end = message.find('\n');
  if (header_end == absl::string_view::npos) return false;
  const absl::string_view header = message.substr(0, header_end);
  const size_t error = header.find(": error: ");
  if (error == absl::string_view::npos) return false;
  const absl::string_view location = header.substr(0, error);
  const size_t c2 = location.rfind(':');
  if (c2 == absl::string_view::npos) return false;
  const size_t c1 = location.rfind(':', c2 - 1);
  if (c1 == absl::string_view::npos || c1 == 0 || c2 == 0) return false;
  const absl::string_view line = location.substr(c1 + 1, c2 - c1 - 1);
  const absl::string_view column = location.substr(c2 + 1);
  if (!AllDigits(line) || !AllDigits(column) || line[0] == '0' || column[0] == '0') return false;
  const size_t caret_start = message.rfind('\n');
  if (caret_start == header_end) return false;  // no source line
  const absl::string_view caret = message.substr(caret_start + 1);
  if (caret.empty() || caret.back() != '^') return false;
  if (caret.find_first_not_of(" \t") != caret.size() - 1) return false;
  return std::to_string(caret.size()) == column;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  const char* dir = getenv("DPSUPERVISE_FUZZ_POLICY_DIR");
  g_filename = new std::string(std::string(dir ? dir : "testdata/policies") + "/fuzz.policy");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = dpsupervise::ParsePolicy(text, *g_filename);
  if (!policy.ok()) {
    if (policy.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail("ParsePolicy returned neither OK nor InvalidArgument", policy.status());
    }
    if (!WellFormedMessage(policy.status().message())) {
      Fail("malformed error message", policy.status());
    }
    return 0;
  }
  auto filter = dpsupervise::BuildStrictFilter(policy->rules);
  if (!filter.ok() && filter.status().code() != absl::StatusCode::kInvalidArgument) {
    Fail("BuildStrictFilter failed on a policy ParsePolicy accepted", filter.status());
  }
  return 0;
}
