// Unit tests of the breakpoint table, on this very process's memory
// (/proc/self/mem reaches it like a tracee's).
#include "supervisor/monitor/breakpoints.h"

#include <unistd.h>

#include "gtest/gtest.h"

namespace dpsupervise {
namespace {

// Code is not needed: the table writes bytes wherever it is told to.
uint8_t g_code[16] = {0x90, 0x55, 0x48, 0x89};

uint64_t AddressOf(const uint8_t* byte) { return reinterpret_cast<uint64_t>(byte); }

TEST(Breakpoints, InsertWritesInt3AndRemoveRestoresTheByte) {
  Breakpoints breakpoints({}, {});
  EXPECT_TRUE(breakpoints.empty());
  ASSERT_TRUE(
      breakpoints.Insert(getpid(), AddressOf(&g_code[1]), Breakpoints::Role::kEnter, "f").ok());
  EXPECT_EQ(g_code[1], 0xcc);
  const Breakpoints::Breakpoint* at = breakpoints.At(AddressOf(&g_code[1]));
  ASSERT_NE(at, nullptr);
  EXPECT_EQ(at->original, 0x55);
  EXPECT_EQ(at->label, "f");
  EXPECT_EQ(breakpoints.At(AddressOf(&g_code[2])), nullptr);
  // Inserting twice keeps the original byte, not the int3.
  ASSERT_TRUE(
      breakpoints.Insert(getpid(), AddressOf(&g_code[1]), Breakpoints::Role::kEnter, "f").ok());
  EXPECT_EQ(breakpoints.At(AddressOf(&g_code[1]))->original, 0x55);
  breakpoints.Remove(getpid(), AddressOf(&g_code[1]));
  EXPECT_EQ(g_code[1], 0x55);
  EXPECT_TRUE(breakpoints.empty());
}

TEST(Breakpoints, LiftAndRestoreAroundAStep) {
  Breakpoints breakpoints({}, {});
  ASSERT_TRUE(
      breakpoints.Insert(getpid(), AddressOf(&g_code[2]), Breakpoints::Role::kLeave, "g").ok());
  const Breakpoints::Breakpoint breakpoint = *breakpoints.At(AddressOf(&g_code[2]));
  ASSERT_TRUE(Breakpoints::Lift(getpid(), breakpoint).ok());
  EXPECT_EQ(g_code[2], 0x48);
  ASSERT_TRUE(Breakpoints::Restore(getpid(), breakpoint).ok());
  EXPECT_EQ(g_code[2], 0xcc);
  breakpoints.RemoveAll(getpid());
  EXPECT_EQ(g_code[2], 0x48);
}

TEST(Breakpoints, RemoveRoleLeavesTheOthers) {
  Breakpoints breakpoints({}, {});
  ASSERT_TRUE(
      breakpoints.Insert(getpid(), AddressOf(&g_code[0]), Breakpoints::Role::kEnter, "a").ok());
  ASSERT_TRUE(
      breakpoints.Insert(getpid(), AddressOf(&g_code[3]), Breakpoints::Role::kLeave, "b").ok());
  breakpoints.RemoveRole(getpid(), Breakpoints::Role::kEnter);
  EXPECT_EQ(g_code[0], 0x90);
  EXPECT_EQ(g_code[3], 0xcc);
  EXPECT_NE(breakpoints.At(AddressOf(&g_code[3])), nullptr);
  breakpoints.RemoveAll(getpid());
  EXPECT_EQ(g_code[3], 0x89);
}

TEST(Breakpoints, AGoneProcessIsNotFound) {
  Breakpoints breakpoints({}, {});
  // No process has pid 0x7ffffff0 (above pid_max's 2^22 limit).
  absl::Status inserted =
      breakpoints.Insert(0x7ffffff0, AddressOf(&g_code[0]), Breakpoints::Role::kEnter, "a");
  EXPECT_TRUE(absl::IsNotFound(inserted)) << inserted;
  EXPECT_TRUE(breakpoints.empty());
}

TEST(Breakpoints, LocationsWaitUntilTheyResolve) {
  auto missing = ParseCodeLocation("no_such_library.so:no_such_function");
  ASSERT_TRUE(missing.ok()) << missing.status();
  Breakpoints breakpoints({*missing}, {});
  EXPECT_TRUE(breakpoints.has_pending());
  ASSERT_TRUE(breakpoints.ArmPending(getpid()).ok());
  EXPECT_TRUE(breakpoints.has_pending());  // its library is not loaded
  EXPECT_TRUE(breakpoints.empty());
  breakpoints.DropPending();
  EXPECT_FALSE(breakpoints.has_pending());
}

}  // namespace
}  // namespace dpsupervise
