// policy_merge.h: comparisons as libseccomp takes them (one scmp_arg_cmp
// each), and the reasoning that puts several comparisons of one argument
// into one, because libseccomp cannot compare an argument twice in one rule.
// Used by the lowering stage (policy_lowering.h) and tests.
//
// Contract:
// - Merge(a, b): when `a && b` (same argument) is one comparison libseccomp
//   can express, replaces `a` by it (kMerged); kNeverTrue when no value
//   satisfies both; kInexpressible otherwise (e.g. a two-sided range, or
//   `!=` inside a range). `a` is changed only on kMerged. Exact on all 64
//   bits, unsigned, as the kernel compares.
// - Simplify(conjunction): the conjunction with each argument compared at
//   most once, sorted by argument; on kNeverTrue or kInexpressible the
//   `culprits` (one comparison that never holds, or the two that cannot be
//   merged, in source order) for the message.
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_POLICY_MERGE_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_POLICY_MERGE_H_

#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace dpsupervise {
namespace policy {

// One comparison, with where its atom starts in the line (for errors).
struct Literal {
  scmp_arg_cmp cmp;
  size_t pos = 0;
};

scmp_arg_cmp Compare(int arg, scmp_compare op, uint64_t a, uint64_t b = 0);

// Whether argument value `x` satisfies `c`.
bool Holds(const scmp_arg_cmp& c, uint64_t x);

// True for comparisons no value satisfies (arg < 0, arg > 2^64-1, a masked
// compare expecting bits outside its mask).
bool NeverHolds(const scmp_arg_cmp& c);

// "arg0 == 1", "arg1 & 0x800 == 0": values below 4096 in decimal, others in
// hexadecimal.
std::string FormatCompare(const scmp_arg_cmp& c);

enum class Conjunction { kMerged, kNeverTrue, kInexpressible };

Conjunction Merge(scmp_arg_cmp& a, const scmp_arg_cmp& b);

struct Simplified {
  Conjunction outcome = Conjunction::kMerged;
  std::vector<Literal> literals;
  std::vector<Literal> culprits;
};

Simplified Simplify(const std::vector<Literal>& conjunction);

// The culprits joined by " && ", for messages.
std::string FormatCulprits(const std::vector<Literal>& culprits);

}  // namespace policy
}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_POLICY_MERGE_H_
