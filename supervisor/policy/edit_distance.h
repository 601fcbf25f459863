// edit_distance.h: the distance behind "did you mean" suggestions, for
// misspelt syscall and constant names (policy) and long options (cli).
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_EDIT_DISTANCE_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_EDIT_DISTANCE_H_

#include <stddef.h>

#include "absl/strings/string_view.h"

namespace dpsupervise {

// The Levenshtein distance from `a` to `b`: insertions, deletions and
// substitutions, each counting 1. O(|a| * |b|) time, O(|b|) memory.
size_t EditDistance(absl::string_view a, absl::string_view b);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_EDIT_DISTANCE_H_
