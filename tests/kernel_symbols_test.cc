// KernelSymbols: /proc/kallsyms text to function names by address
// (tracing/kernel_symbols.h).
#include "supervisor/tracing/kernel_symbols.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace dpsupervise {
namespace {

constexpr char kKallsyms[] =
    "ffffffff81000000 T _stext\n"
    "ffffffff81001000 t do_one_initcall\n"
    "ffffffff81002000 D some_data\n"
    "ffffffff81003000 W weak_function\n"
    "garbage line\n"
    "zzzzzzzzzzzzzzzz T not_hex\n"
    "ffffffffc0a00000 t kvm_module_function\t[kvm]\n"
    "ffffffff81004000 T last_kernel_function\n";

TEST(KernelSymbolsTest, NamesTheFunctionAnAddressFallsIn) {
  KernelSymbols symbols(kKallsyms);
  EXPECT_EQ(symbols.size(), 5u);  // text symbols only, bad lines skipped
  EXPECT_EQ(symbols.FunctionAt(0xffffffff81000000), "_stext");
  EXPECT_EQ(symbols.FunctionAt(0xffffffff81001234), "do_one_initcall");
  // Data is not a function: the text symbol below it is.
  EXPECT_EQ(symbols.FunctionAt(0xffffffff81002010), "do_one_initcall");
  EXPECT_EQ(symbols.FunctionAt(0xffffffff81003001), "weak_function");
  EXPECT_EQ(symbols.FunctionAt(0xffffffff81004000), "last_kernel_function");
  // A module's function, listed after the kernel's: its name without [kvm].
  EXPECT_EQ(symbols.FunctionAt(0xffffffffc0a00010), "kvm_module_function");
  EXPECT_EQ(symbols.FunctionAt(0xffffffff80000000), "");
}

TEST(KernelSymbolsTest, UnprivilegedZeroAddressesGiveNoNames) {
  KernelSymbols symbols("0000000000000000 T _stext\n0000000000000000 t do_one_initcall\n");
  EXPECT_EQ(symbols.size(), 0u);
  EXPECT_EQ(symbols.FunctionAt(0xffffffff81000000), "");
  EXPECT_EQ(KernelSymbols().FunctionAt(1), "");
}

TEST(KernelSymbolsTest, NamesSurviveAMoveOfAShortText) {
  KernelSymbols moved;
  {
    KernelSymbols symbols("10 T f\n");  // short enough for the string's inline buffer
    moved = std::move(symbols);
  }
  EXPECT_EQ(moved.FunctionAt(0x11), "f");
}

TEST(KernelSymbolsTest, ThisKernelsKallsymsNamesItsOwnSymbols) {
  std::ifstream file("/proc/kallsyms");
  std::stringstream text;
  text << file.rdbuf();
  KernelSymbols symbols(text.str());
  if (symbols.size() == 0) GTEST_SKIP() << "kallsyms addresses hidden (not root)";
  // Every global function's own address names a function.
  std::istringstream lines(text.str());
  std::string line;
  int checked = 0;
  while (std::getline(lines, line) && checked < 1000) {
    std::istringstream fields(line);
    std::string address, type, name;
    if (!(fields >> address >> type >> name) || type != "T") continue;
    EXPECT_FALSE(symbols.FunctionAt(std::stoull(address, nullptr, 16)).empty()) << line;
    ++checked;
  }
  EXPECT_EQ(checked, 1000);
}

}  // namespace
}  // namespace dpsupervise
