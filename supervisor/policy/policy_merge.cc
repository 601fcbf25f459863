#include "supervisor/policy/policy_merge.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dpsupervise {
namespace policy {
namespace {

constexpr uint64_t kMax = ~0ULL;

bool SameCompare(const scmp_arg_cmp& a, const scmp_arg_cmp& b) {
  return a.arg == b.arg && a.op == b.op && a.datum_a == b.datum_a && a.datum_b == b.datum_b;
}

std::string FormatValue(uint64_t v) {
  return v < 4096 ? absl::StrCat(v) : absl::StrCat("0x", absl::Hex(v));
}

// The values an order comparison accepts, as [lo, hi]; false for the other
// operators. `empty` when it accepts nothing (arg < 0).
bool ToInterval(const scmp_arg_cmp& c, uint64_t* lo, uint64_t* hi, bool* empty) {
  *empty = false;
  switch (c.op) {
    case SCMP_CMP_EQ:
      *lo = *hi = c.datum_a;
      return true;
    case SCMP_CMP_LT:
      *empty = c.datum_a == 0;
      *lo = 0;
      *hi = c.datum_a - 1;
      return true;
    case SCMP_CMP_LE:
      *lo = 0;
      *hi = c.datum_a;
      return true;
    case SCMP_CMP_GT:
      *empty = c.datum_a == kMax;
      *lo = c.datum_a + 1;
      *hi = kMax;
      return true;
    case SCMP_CMP_GE:
      *lo = c.datum_a;
      *hi = kMax;
      return true;
    default:
      return false;
  }
}

// One comparison accepting exactly [lo, hi], if libseccomp has one.
std::optional<scmp_arg_cmp> FromInterval(unsigned arg, uint64_t lo, uint64_t hi) {
  if (lo == hi) return Compare(arg, SCMP_CMP_EQ, lo);
  if (lo == 0) return Compare(arg, SCMP_CMP_LE, hi);
  if (hi == kMax) return Compare(arg, SCMP_CMP_GE, lo);
  return std::nullopt;  // a two-sided range needs two comparisons
}

}  // namespace

scmp_arg_cmp Compare(int arg, scmp_compare op, uint64_t a, uint64_t b) {
  return scmp_arg_cmp{static_cast<unsigned>(arg), op, a, b};
}

bool Holds(const scmp_arg_cmp& c, uint64_t x) {
  switch (c.op) {
    case SCMP_CMP_NE:
      return x != c.datum_a;
    case SCMP_CMP_LT:
      return x < c.datum_a;
    case SCMP_CMP_LE:
      return x <= c.datum_a;
    case SCMP_CMP_EQ:
      return x == c.datum_a;
    case SCMP_CMP_GE:
      return x >= c.datum_a;
    case SCMP_CMP_GT:
      return x > c.datum_a;
    case SCMP_CMP_MASKED_EQ:
      return (x & c.datum_a) == c.datum_b;
    default:
      return false;
  }
}

// "arg0 == 1", "arg1 & 0x800 == 0".
std::string FormatCompare(const scmp_arg_cmp& c) {
  const std::string arg = absl::StrCat("arg", c.arg);
  switch (c.op) {
    case SCMP_CMP_NE:
      return absl::StrCat(arg, " != ", FormatValue(c.datum_a));
    case SCMP_CMP_LT:
      return absl::StrCat(arg, " < ", FormatValue(c.datum_a));
    case SCMP_CMP_LE:
      return absl::StrCat(arg, " <= ", FormatValue(c.datum_a));
    case SCMP_CMP_EQ:
      return absl::StrCat(arg, " == ", FormatValue(c.datum_a));
    case SCMP_CMP_GE:
      return absl::StrCat(arg, " >= ", FormatValue(c.datum_a));
    case SCMP_CMP_GT:
      return absl::StrCat(arg, " > ", FormatValue(c.datum_a));
    case SCMP_CMP_MASKED_EQ:
      return absl::StrCat(arg, " & ", FormatValue(c.datum_a), " == ", FormatValue(c.datum_b));
    default:
      return arg;
  }
}

bool NeverHolds(const scmp_arg_cmp& c) {
  uint64_t lo, hi;
  bool empty = false;
  if (ToInterval(c, &lo, &hi, &empty)) return empty;
  return c.op == SCMP_CMP_MASKED_EQ && (c.datum_b & ~c.datum_a) != 0;
}

// Replaces `a` by one comparison equivalent to `a && b` (same argument) when
// libseccomp can express it.
Conjunction Merge(scmp_arg_cmp& a, const scmp_arg_cmp& b) {
  if (SameCompare(a, b)) return Conjunction::kMerged;
  if (a.op == SCMP_CMP_EQ) return Holds(b, a.datum_a) ? Conjunction::kMerged
                                                       : Conjunction::kNeverTrue;
  if (b.op == SCMP_CMP_EQ) {
    if (!Holds(a, b.datum_a)) return Conjunction::kNeverTrue;
    a = b;
    return Conjunction::kMerged;
  }
  if (a.op == SCMP_CMP_MASKED_EQ && b.op == SCMP_CMP_MASKED_EQ) {
    // Bits both masks test must agree; then one mask test covers both.
    if (((a.datum_b ^ b.datum_b) & a.datum_a & b.datum_a) != 0) return Conjunction::kNeverTrue;
    a = Compare(a.arg, SCMP_CMP_MASKED_EQ, a.datum_a | b.datum_a, a.datum_b | b.datum_b);
    return Conjunction::kMerged;
  }
  uint64_t lo1, hi1, lo2, hi2;
  bool empty1, empty2;
  const bool interval1 = ToInterval(a, &lo1, &hi1, &empty1);
  const bool interval2 = ToInterval(b, &lo2, &hi2, &empty2);
  if (interval1 && b.op == SCMP_CMP_NE) {
    // Only a bound equal to the excluded value can move.
    if (b.datum_a < lo1 || b.datum_a > hi1) return Conjunction::kMerged;
    if (lo1 == hi1) return Conjunction::kNeverTrue;
    uint64_t lo = lo1;
    uint64_t hi = hi1;
    if (b.datum_a == lo1) {
      ++lo;
    } else if (b.datum_a == hi1) {
      --hi;
    } else {
      return Conjunction::kInexpressible;
    }
    auto merged = FromInterval(a.arg, lo, hi);
    if (!merged) return Conjunction::kInexpressible;
    a = *merged;
    return Conjunction::kMerged;
  }
  if (a.op == SCMP_CMP_NE && interval2) {
    scmp_arg_cmp swapped = b;
    Conjunction result = Merge(swapped, a);
    if (result == Conjunction::kMerged) a = swapped;
    return result;
  }
  if (!interval1 || !interval2) return Conjunction::kInexpressible;
  const uint64_t lo = std::max(lo1, lo2);
  const uint64_t hi = std::min(hi1, hi2);
  if (lo > hi) return Conjunction::kNeverTrue;
  auto merged = FromInterval(a.arg, lo, hi);
  if (!merged) return Conjunction::kInexpressible;
  a = *merged;
  return Conjunction::kMerged;
}

// One libseccomp rule's conditions for a conjunction of literals, with each
// argument compared at most once. On failure, `culprits` holds the two
// comparisons that could not be merged (or the one that never holds).
Simplified Simplify(const std::vector<Literal>& conjunction) {
  Simplified result;
  for (const Literal& literal : conjunction) {
    if (NeverHolds(literal.cmp)) {
      result.outcome = Conjunction::kNeverTrue;
      result.culprits = {literal};
      return result;
    }
    auto same_arg = std::find_if(result.literals.begin(), result.literals.end(),
                                 [&](const Literal& l) { return l.cmp.arg == literal.cmp.arg; });
    if (same_arg == result.literals.end()) {
      result.literals.push_back(literal);
      continue;
    }
    const Literal before = *same_arg;
    Conjunction merged = Merge(same_arg->cmp, literal.cmp);
    if (merged != Conjunction::kMerged) {
      result.outcome = merged;
      result.culprits = {before, literal};
      return result;
    }
  }
  std::sort(result.literals.begin(), result.literals.end(),
            [](const Literal& a, const Literal& b) { return a.cmp.arg < b.cmp.arg; });
  return result;
}

std::string FormatCulprits(const std::vector<Literal>& culprits) {
  std::vector<std::string> parts;
  for (const Literal& l : culprits) parts.push_back(FormatCompare(l.cmp));
  return absl::StrJoin(parts, " && ");
}


}  // namespace policy
}  // namespace dpsupervise
