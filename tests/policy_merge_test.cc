// Unit tests of comparison merging (supervisor/policy/policy_merge.h): when two
// comparisons of one argument become one, never hold, or cannot be merged.
#include "supervisor/policy/policy_merge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dpsupervise {
namespace policy {
namespace {

constexpr uint64_t kMax = ~0ULL;

// The merged comparison, formatted, or "never" / "inexpressible".
std::string MergeOf(scmp_arg_cmp a, const scmp_arg_cmp& b) {
  const scmp_arg_cmp before = a;
  switch (Merge(a, b)) {
    case Conjunction::kMerged:
      return FormatCompare(a);
    case Conjunction::kNeverTrue:
      EXPECT_EQ(FormatCompare(a), FormatCompare(before)) << "changed on failure";
      return "never";
    case Conjunction::kInexpressible:
      EXPECT_EQ(FormatCompare(a), FormatCompare(before)) << "changed on failure";
      return "inexpressible";
  }
  return "?";
}

TEST(PolicyMergeTest, FormatShowsSmallValuesInDecimal) {
  EXPECT_EQ(FormatCompare(Compare(0, SCMP_CMP_EQ, 1)), "arg0 == 1");
  EXPECT_EQ(FormatCompare(Compare(3, SCMP_CMP_GE, 4096)), "arg3 >= 0x1000");
  EXPECT_EQ(FormatCompare(Compare(1, SCMP_CMP_MASKED_EQ, 0x1000, 0)), "arg1 & 0x1000 == 0");
}

TEST(PolicyMergeTest, AnEqualityKeepsOrRefusesTheOther) {
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_EQ, 3), Compare(0, SCMP_CMP_LT, 5)), "arg0 == 3");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_GE, 2), Compare(0, SCMP_CMP_EQ, 3)), "arg0 == 3");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_EQ, 7), Compare(0, SCMP_CMP_LT, 5)), "never");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_EQ, 7), Compare(0, SCMP_CMP_EQ, 7)), "arg0 == 7");
}

TEST(PolicyMergeTest, IntervalsIntersectWhenOneSided) {
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_LT, 10), Compare(0, SCMP_CMP_LE, 4)), "arg0 <= 4");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_GT, 10), Compare(0, SCMP_CMP_GE, 20)), "arg0 >= 20");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_GE, 5), Compare(0, SCMP_CMP_LE, 5)), "arg0 == 5");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_GT, 5), Compare(0, SCMP_CMP_LT, 5)), "never");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_GT, 1), Compare(0, SCMP_CMP_LT, 5)), "inexpressible");
}

TEST(PolicyMergeTest, AnInequalityMovesABoundOrCannotBeExpressed) {
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_LE, 5), Compare(0, SCMP_CMP_NE, 5)), "arg0 <= 4");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_NE, 0), Compare(0, SCMP_CMP_GE, 0)), "arg0 >= 1");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_LE, 5), Compare(0, SCMP_CMP_NE, 9)), "arg0 <= 5");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_LE, 5), Compare(0, SCMP_CMP_NE, 2)), "inexpressible");
  EXPECT_EQ(MergeOf(Compare(0, SCMP_CMP_NE, 1), Compare(0, SCMP_CMP_NE, 2)), "inexpressible");
}

TEST(PolicyMergeTest, MasksCombineWhenTheirSharedBitsAgree) {
  EXPECT_EQ(MergeOf(Compare(1, SCMP_CMP_MASKED_EQ, 0x3, 0x1), Compare(1, SCMP_CMP_MASKED_EQ, 0xc, 0x4)),
            "arg1 & 15 == 5");
  EXPECT_EQ(MergeOf(Compare(1, SCMP_CMP_MASKED_EQ, 0x3, 0x1), Compare(1, SCMP_CMP_MASKED_EQ, 0x1, 0x0)),
            "never");
  EXPECT_EQ(MergeOf(Compare(1, SCMP_CMP_MASKED_EQ, 0x3, 0x1), Compare(1, SCMP_CMP_LT, 9)),
            "inexpressible");
}

TEST(PolicyMergeTest, ComparisonsThatNeverHold) {
  EXPECT_TRUE(NeverHolds(Compare(0, SCMP_CMP_LT, 0)));
  EXPECT_TRUE(NeverHolds(Compare(0, SCMP_CMP_GT, kMax)));
  EXPECT_TRUE(NeverHolds(Compare(0, SCMP_CMP_MASKED_EQ, 0x1, 0x2)));
  EXPECT_FALSE(NeverHolds(Compare(0, SCMP_CMP_LE, 0)));
  EXPECT_TRUE(Holds(Compare(0, SCMP_CMP_MASKED_EQ, 0x6, 0x2), 0x3));
  EXPECT_FALSE(Holds(Compare(0, SCMP_CMP_MASKED_EQ, 0x6, 0x2), 0x4));
}

TEST(PolicyMergeTest, SimplifyComparesEachArgumentOnceInArgumentOrder) {
  Simplified s = Simplify({{Compare(2, SCMP_CMP_EQ, 1), 30},
                           {Compare(0, SCMP_CMP_GE, 3), 10},
                           {Compare(0, SCMP_CMP_LE, 3), 20}});
  EXPECT_EQ(s.outcome, Conjunction::kMerged);
  ASSERT_EQ(s.literals.size(), 2u);
  EXPECT_EQ(FormatCompare(s.literals[0].cmp), "arg0 == 3");
  EXPECT_EQ(s.literals[0].pos, 10u);
  EXPECT_EQ(FormatCompare(s.literals[1].cmp), "arg2 == 1");
}

TEST(PolicyMergeTest, SimplifyNamesTheCulprits) {
  Simplified s = Simplify({{Compare(0, SCMP_CMP_GT, 1), 10}, {Compare(0, SCMP_CMP_LT, 5), 20}});
  EXPECT_EQ(s.outcome, Conjunction::kInexpressible);
  EXPECT_EQ(FormatCulprits(s.culprits), "arg0 > 1 && arg0 < 5");
  EXPECT_EQ(s.culprits.back().pos, 20u);
  s = Simplify({{Compare(0, SCMP_CMP_EQ, 1), 10}, {Compare(1, SCMP_CMP_LT, 0), 20}});
  EXPECT_EQ(s.outcome, Conjunction::kNeverTrue);
  EXPECT_EQ(FormatCulprits(s.culprits), "arg1 < 0");
}

}  // namespace
}  // namespace policy
}  // namespace dpsupervise
