// kernel_symbols.h: kernel function names by address, from the text of
// /proc/kallsyms, for the addresses tracepoints carry (an IPI's callsite,
// an hrtimer's or a work item's function).
//
// Made for a startup every run pays: one pass over the ~120k lines with no
// allocation per symbol (names stay in the one text kept), instead
// of libtraceevent's tep_parse_kallsyms (a sscanf, two allocations and a
// free per symbol: 0.15 s of CPU here).
#ifndef DPSUPERVISE_SUPERVISOR_TRACING_KERNEL_SYMBOLS_H_
#define DPSUPERVISE_SUPERVISOR_TRACING_KERNEL_SYMBOLS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dpsupervise {

class KernelSymbols {
 public:
  KernelSymbols() = default;
  // `kallsyms`: lines "ADDRESS TYPE NAME[\t[MODULE]]". Text symbols only
  // (types t, T, w, W); lines with address 0 (kallsyms read without
  // privilege) or that do not parse are skipped.
  explicit KernelSymbols(std::string kallsyms);

  // The name of the function `address` falls in (the text symbol at or
  // below it); "" when there is none (below the first, or none loaded).
  std::string_view FunctionAt(uint64_t address) const;
  size_t size() const { return symbols_.size(); }

 private:
  struct Symbol {
    uint64_t address;
    uint32_t name_offset;  // into text_ (offsets, not views: text_ may move)
    uint32_t name_size;
  };
  std::string text_;
  std::vector<Symbol> symbols_;  // by address
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACING_KERNEL_SYMBOLS_H_
