#include "supervisor/tracing/kernel_symbols.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace dpsupervise {
namespace {

// `field` read as a hex number; false when it is not one.
bool ParseHex(std::string_view field, uint64_t* value) {
  if (field.empty() || field.size() > 16) return false;
  uint64_t result = 0;
  for (char c : field) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    result = result << 4 | static_cast<uint64_t>(digit);
  }
  *value = result;
  return true;
}

bool IsText(char type) { return type == 't' || type == 'T' || type == 'w' || type == 'W'; }

}  // namespace

KernelSymbols::KernelSymbols(std::string kallsyms) : text_(std::move(kallsyms)) {
  std::string_view rest = text_;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    // "ffffffff81000000 T _stext" or "... t name\t[module]"
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || line.size() < space + 4 || line[space + 2] != ' ') {
      continue;
    }
    uint64_t address = 0;
    if (!ParseHex(line.substr(0, space), &address) || address == 0 || !IsText(line[space + 1])) {
      continue;
    }
    std::string_view name = line.substr(space + 3);
    name = name.substr(0, name.find('\t'));
    if (!name.empty()) {
      symbols_.push_back({address, static_cast<uint32_t>(name.data() - text_.data()),
                          static_cast<uint32_t>(name.size())});
    }
  }
  // kallsyms lists the kernel's symbols by address, then each module's.
  std::stable_sort(symbols_.begin(), symbols_.end(),
                   [](const Symbol& a, const Symbol& b) { return a.address < b.address; });
}

std::string_view KernelSymbols::FunctionAt(uint64_t address) const {
  auto above = std::upper_bound(
      symbols_.begin(), symbols_.end(), address,
      [](uint64_t value, const Symbol& symbol) { return value < symbol.address; });
  if (above == symbols_.begin()) return "";
  const Symbol& symbol = *std::prev(above);
  return std::string_view(text_).substr(symbol.name_offset, symbol.name_size);
}

}  // namespace dpsupervise
