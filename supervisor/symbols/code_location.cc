#include "supervisor/symbols/code_location.h"

#include <cxxabi.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "supervisor/symbols/mapped_file.h"

namespace dpsupervise {
namespace {

// "ns::Poll(int)" -> "ns::Poll"; C names stay as they are.
std::string DemangledWithoutParameters(const char* name) {
  if (strncmp(name, "_Z", 2) != 0) return name;
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (demangled == nullptr) return name;
  std::string result(demangled);
  free(demangled);
  const size_t paren = result.find('(');
  return paren == std::string::npos ? result : result.substr(0, paren);
}

bool NameMatches(const char* elf_name, const std::string& wanted) {
  if (elf_name == nullptr) return false;
  // Versioned names from debug files: "getpid@@GLIBC_2.2.5".
  std::string name(elf_name);
  name = name.substr(0, name.find('@'));
  return name == wanted || DemangledWithoutParameters(name.c_str()) == wanted;
}

struct DwflDeleter {
  void operator()(Dwfl* dwfl) const { dwfl_end(dwfl); }
};

const Dwfl_Callbacks kOfflineCallbacks = {dwfl_build_id_find_elf, dwfl_standard_find_debuginfo,
                                          dwfl_offline_section_address, nullptr};

// The function symbol `name` in `module`, as a runtime address.
bool FindInModule(Dwfl_Module* module, const std::string& name, uint64_t* address) {
  const int count = dwfl_module_getsymtab(module);
  for (int i = 0; i < count; ++i) {
    GElf_Sym sym;
    GElf_Addr addr = 0;
    const char* sym_name = dwfl_module_getsym_info(module, i, &sym, &addr, nullptr, nullptr, nullptr);
    if (GELF_ST_TYPE(sym.st_info) != STT_FUNC && GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC) {
      continue;
    }
    if (sym.st_shndx == SHN_UNDEF || !NameMatches(sym_name, name)) continue;
    *address = addr;
    return true;
  }
  return false;
}

struct Search {
  const CodeLocation* location;
  std::string main_path;
  Dwfl_Module* found = nullptr;
};

int VisitModule(Dwfl_Module* module, void**, const char* name, Dwarf_Addr, void* arg) {
  Search* search = static_cast<Search*>(arg);
  const char* file = nullptr;
  dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, &file, nullptr);
  // Compared decoded: /proc/PID/exe has the real path, maps the escaped one.
  const std::string path = name != nullptr ? UnescapeMapsPath(name) : "";
  const std::string base = path.substr(path.rfind('/') + 1);
  const bool wanted = search->location->library.empty()
                          ? path == search->main_path
                          : absl::StartsWith(base, search->location->library);
  if (!wanted) return DWARF_CB_OK;
  search->found = module;
  return DWARF_CB_ABORT;
}

}  // namespace

absl::StatusOr<CodeLocation> ParseCodeLocation(const std::string& text) {
  CodeLocation location;
  location.text = text;
  if (absl::StartsWith(text, "0x")) {
    if (!absl::SimpleHexAtoi(text.substr(2), &location.address) || location.address == 0) {
      return absl::InvalidArgumentError(absl::StrCat("invalid address '", text, "'"));
    }
    return location;
  }
  const size_t colon = text.find(':');
  // "ns::Poll" is a C++ name, not LIB:SYMBOL.
  if (colon != std::string::npos && text.compare(colon, 2, "::") != 0) {
    location.library = text.substr(0, colon);
    location.symbol = text.substr(colon + 1);
    if (location.library.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': empty library name"));
    }
  } else {
    location.symbol = text;
  }
  if (location.symbol.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': empty symbol name"));
  }
  return location;
}

absl::StatusOr<uint64_t> FindCodeLocation(Dwfl* dwfl, pid_t pid, const CodeLocation& location) {
  if (location.symbol.empty()) return location.address;
  Search search;
  search.location = &location;
  search.main_path = ExecutablePath(pid);
  dwfl_getmodules(dwfl, VisitModule, &search, 0);
  if (search.found == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        location.library.empty() ? "the executable" : "no library " + location.library,
        " is not loaded in process ", pid));
  }
  uint64_t address = 0;
  if (!FindInModule(search.found, location.symbol, &address)) {
    const char* name = dwfl_module_info(search.found, nullptr, nullptr, nullptr, nullptr, nullptr,
                                        nullptr, nullptr);
    return absl::InvalidArgumentError(absl::StrCat("--enter-at/--leave-at: no function '",
                                                   location.symbol, "' in ", name ? name : "?"));
  }
  return address;
}

absl::Status ModulesUnreadableError(pid_t pid, const absl::Status& why) {
  return absl::InternalError(absl::StrCat("reading the modules of ", pid, ": ", why.message()));
}

absl::Status CheckSymbolInFile(const std::string& path, const CodeLocation& location) {
  if (location.symbol.empty() || !location.library.empty()) return absl::OkStatus();
  std::unique_ptr<Dwfl, DwflDeleter> dwfl(dwfl_begin(&kOfflineCallbacks));
  if (dwfl == nullptr) return absl::InternalError("dwfl_begin failed");
  Dwfl_Module* module = dwfl_report_offline(dwfl.get(), path.c_str(), path.c_str(), -1);
  dwfl_report_end(dwfl.get(), nullptr, nullptr);
  if (module == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--enter-at/--leave-at: cannot read symbols of ", path, ": ", dwfl_errmsg(-1)));
  }
  uint64_t address = 0;
  if (!FindInModule(module, location.symbol, &address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--enter-at/--leave-at: no function '", location.symbol, "' in ", path,
        " (for a function of a shared library write LIB:SYMBOL, e.g. libc.so.6:getppid)"));
  }
  return absl::OkStatus();
}

}  // namespace dpsupervise
