#include "supervisor/symbols/symbolize.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "supervisor/symbols/mapped_file.h"

namespace dpsupervise {
namespace {

// x86-64 psABI DWARF register numbers: rax rdx rcx rbx rsi rdi rbp rsp
// r8..r15, then 16, the return-address column, which holds rip.
constexpr int kDwarfRsp = 7;
constexpr int kDwarfRegCount = 17;

// Only "_Z" names are C++ manglings: __cxa_demangle also decodes bare type
// manglings, and would turn a C function named "f" into "float".
std::string Demangle(const char* name) {
  if (!absl::StartsWith(name, "_Z")) {
    // Symbol tables of debug files carry versions ("__libc_start_main@@GLIBC_2.34").
    const char* at = strchr(name, '@');
    return at == nullptr ? std::string(name) : std::string(name, at - name);
  }
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || demangled == nullptr) return name;
  std::string result(demangled);
  free(demangled);
  return result;
}

// libdwfl names the vDSO "[vdso: PID]" so its find_elf can read the image
// from that process's memory; reports just say "[vdso]".
// A file's name is its path, decoded ("\012" in maps is a newline).
std::string ModuleDisplayName(const char* name) {
  if (name == nullptr) return "";
  if (absl::StartsWith(name, "[vdso")) return "[vdso]";
  return UnescapeMapsPath(name);
}

bool FileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// True when one of the places dwfl_standard_find_debuginfo searches by default
// (":.debug:/usr/lib/debug", and the build-id tree) holds a candidate file.
bool LocalDebuginfoCandidateExists(Dwfl_Module* mod, const char* file_name,
                                   const char* debuglink_file) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  int len = dwfl_module_build_id(mod, &bits, &vaddr);
  if (len > 1) {
    std::string path = absl::StrFormat("/usr/lib/debug/.build-id/%02x/", bits[0]);
    for (int i = 1; i < len; ++i) absl::StrAppendFormat(&path, "%02x", bits[i]);
    path += ".debug";
    if (FileExists(path)) return true;
  }
  if (file_name == nullptr || file_name[0] != '/') return false;
  std::string file(file_name);
  const size_t slash = file.rfind('/');
  const std::string dir = file.substr(0, slash);
  const std::string link = debuglink_file != nullptr ? std::string(debuglink_file)
                                                     : file.substr(slash + 1) + ".debug";
  for (const std::string& candidate :
       {dir + "/" + link, dir + "/.debug/" + link, "/usr/lib/debug" + dir + "/" + link}) {
    if (candidate != file && FileExists(candidate)) return true;
  }
  return false;
}

// dwfl_standard_find_debuginfo, minus its last resort: when no local file
// matches it asks debuginfod (DEBUGINFOD_URLS), which would download while a
// strict thread is held stopped, and even without URLs dlopens libdebuginfod
// and libcurl. Stripped system libraries (libc) would hit that path on every
// first lookup, so only call the standard search when a local candidate
// exists.
int FindLocalDebuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                       const char* file_name, const char* debuglink_file,
                       GElf_Word debuglink_crc, char** debuginfo_file_name) {
  if (!LocalDebuginfoCandidateExists(mod, file_name, debuglink_file)) return -1;
  return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                      debuglink_crc, debuginfo_file_name);
}

const Dwfl_Callbacks kDwflCallbacks = {
    FindMappedElf,  // deleted files and escaped names too
    FindLocalDebuginfo,
    nullptr,  // section_address: only for relocatable (kernel module) files
    nullptr,  // debuginfo_path: the default, ":.debug:/usr/lib/debug"
};

// Follows DW_AT_abstract_origin and DW_AT_specification from `die` to the
// DIE that declares the function: the one with its name, parameters and
// enclosing namespaces and classes.
Dwarf_Die FunctionDeclaration(Dwarf_Die* die) {
  Dwarf_Die decl = *die;
  for (int hops = 0; hops < 8; ++hops) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    if ((dwarf_attr(&decl, DW_AT_abstract_origin, &attr) == nullptr &&
         dwarf_attr(&decl, DW_AT_specification, &attr) == nullptr) ||
        dwarf_formref_die(&attr, &next) == nullptr) {
      break;
    }
    decl = next;
  }
  return decl;
}

// "ns::Class::" (with "(anonymous namespace)::" for unnamed namespaces) for
// the namespaces and classes around `decl`. False for anything else around
// it (a function, for local classes), which the caller does not spell out.
bool AppendScopePrefix(Dwarf_Die* decl, std::string* out) {
  Dwarf_Die* scopes = nullptr;
  const int n = dwarf_getscopes_die(decl, &scopes);
  bool ok = n > 0;
  std::string prefix;
  // scopes[0] is `decl`, scopes[n - 1] its unit.
  for (int i = n - 2; i >= 1 && ok; --i) {
    const char* name = dwarf_diename(&scopes[i]);
    switch (dwarf_tag(&scopes[i])) {
      case DW_TAG_namespace:
        absl::StrAppend(&prefix, name != nullptr ? name : "(anonymous namespace)", "::");
        break;
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        ok = name != nullptr;
        if (ok) absl::StrAppend(&prefix, name, "::");
        break;
      default:
        ok = false;
    }
  }
  free(scopes);
  if (ok) *out += prefix;
  return ok;
}

// Appends C++ type `type` as the demangler spells it in a function's
// parameter list ("char const*", "unsigned long", "std::foo&"). False for
// types this does not spell out (function pointers, arrays, ...).
bool AppendTypeName(Dwarf_Die* type, std::string* out, int depth = 0) {
  if (depth > 16) return false;
  Dwarf_Attribute attr;
  Dwarf_Die inner;
  const bool has_inner =
      dwarf_formref_die(dwarf_attr_integrate(type, DW_AT_type, &attr), &inner) != nullptr;
  const char* name = dwarf_diename(type);
  switch (dwarf_tag(type)) {
    case DW_TAG_base_type: {
      if (name == nullptr) return false;
      // GCC's names of the integer types, and the demangler's.
      static const std::pair<const char*, const char*> kNames[] = {
          {"long int", "long"},
          {"long unsigned int", "unsigned long"},
          {"short int", "short"},
          {"short unsigned int", "unsigned short"},
          {"long long int", "long long"},
          {"long long unsigned int", "unsigned long long"},
          {"__int128 unsigned", "unsigned __int128"},
      };
      for (const auto& [dwarf_name, demangled] : kNames) {
        if (strcmp(name, dwarf_name) == 0) name = demangled;
      }
      *out += name;
      return true;
    }
    case DW_TAG_unspecified_type:  // decltype(nullptr)
      if (name == nullptr) return false;
      *out += name;
      return true;
    case DW_TAG_typedef:  // manglings name the underlying type
      return has_inner && AppendTypeName(&inner, out, depth + 1);
    case DW_TAG_class_type:
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
    case DW_TAG_enumeration_type:
      if (name == nullptr || !AppendScopePrefix(type, out)) return false;
      *out += name;
      return true;
    case DW_TAG_const_type:
      if (!has_inner) {
        *out += "void const";
        return true;
      }
      if (!AppendTypeName(&inner, out, depth + 1)) return false;
      *out += " const";
      return true;
    case DW_TAG_volatile_type:
      if (!has_inner || !AppendTypeName(&inner, out, depth + 1)) return false;
      *out += " volatile";
      return true;
    case DW_TAG_pointer_type:
    case DW_TAG_reference_type:
    case DW_TAG_rvalue_reference_type: {
      const int tag = dwarf_tag(type);
      if (!has_inner) {
        if (tag != DW_TAG_pointer_type) return false;
        *out += "void";
      } else {
        const int inner_tag = dwarf_tag(&inner);
        if (inner_tag == DW_TAG_subroutine_type || inner_tag == DW_TAG_array_type ||
            inner_tag == DW_TAG_ptr_to_member_type || !AppendTypeName(&inner, out, depth + 1)) {
          return false;
        }
      }
      *out += tag == DW_TAG_pointer_type ? "*" : tag == DW_TAG_reference_type ? "&" : "&&";
      return true;
    }
    default:
      return false;
  }
}

// The parameter list of function declaration `decl` as the demangler spells
// it: "(int, char const*)", "()"; " const" after it for const member
// functions. False when a type is not spelled out.
bool AppendParameters(Dwarf_Die* decl, std::string* out) {
  std::string params = "(";
  std::string qualifier;
  bool first = true;
  Dwarf_Die child;
  if (dwarf_child(decl, &child) == 0) {
    do {
      const int tag = dwarf_tag(&child);
      if (tag == DW_TAG_unspecified_parameters) {
        absl::StrAppend(&params, first ? "" : ", ", "...");
        first = false;
        continue;
      }
      if (tag != DW_TAG_formal_parameter) continue;
      Dwarf_Attribute attr;
      Dwarf_Die type;
      if (dwarf_formref_die(dwarf_attr_integrate(&child, DW_AT_type, &attr), &type) == nullptr) {
        return false;
      }
      if (dwarf_hasattr_integrate(&child, DW_AT_artificial)) {
        // `this`: a pointer to a const class for const member functions.
        Dwarf_Die pointee;
        Dwarf_Attribute* pointee_attr = dwarf_attr_integrate(&type, DW_AT_type, &attr);
        if (dwarf_tag(&type) == DW_TAG_pointer_type &&
            dwarf_formref_die(pointee_attr, &pointee) != nullptr &&
            dwarf_tag(&pointee) == DW_TAG_const_type) {
          qualifier = " const";
        }
        continue;
      }
      // Top-level const and volatile are not part of the signature.
      while (dwarf_tag(&type) == DW_TAG_const_type || dwarf_tag(&type) == DW_TAG_volatile_type) {
        Dwarf_Die inner;
        if (dwarf_formref_die(dwarf_attr_integrate(&type, DW_AT_type, &attr), &inner) == nullptr) {
          return false;
        }
        type = inner;
      }
      if (!first) params += ", ";
      first = false;
      if (!AppendTypeName(&type, &params)) return false;
    } while (dwarf_siblingof(&child, &child) == 0);
  }
  absl::StrAppend(out, params, ")", qualifier);
  return true;
}

bool IsCplusplus(Dwarf_Die* die) {
  Dwarf_Die cu;
  if (dwarf_diecu(die, &cu, nullptr, nullptr) == nullptr) return false;
  switch (dwarf_srclang(&cu)) {
    case DW_LANG_C_plus_plus:
    case DW_LANG_C_plus_plus_03:
    case DW_LANG_C_plus_plus_11:
    case DW_LANG_C_plus_plus_14:
      return true;
    default:
      return false;
  }
}

// The function a DW_TAG_inlined_subroutine DIE stands for, named like the
// symbol table names functions: the demangled linkage name. GCC gives none
// to functions with internal linkage (static, anonymous namespace), which
// are rebuilt from the declaration, scopes and parameter types
// ("(anonymous namespace)::Helper(int)"), or just qualified when a type is
// beyond AppendTypeName. Plain names for C, extern "C" and main. Empty when
// unknown.
std::string InlinedFunctionName(Dwarf_Die* die) {
  for (int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    Dwarf_Attribute attr;
    const char* text = dwarf_formstring(dwarf_attr_integrate(die, name, &attr));
    if (text != nullptr && text[0] != '\0') return Demangle(text);
  }
  Dwarf_Die decl = FunctionDeclaration(die);
  const char* name = dwarf_diename(&decl);
  if (name == nullptr) return "";
  // External C++ functions have linkage names; without one, an external
  // function is extern "C" (or main), its symbol the plain name.
  if (!IsCplusplus(&decl) || dwarf_hasattr_integrate(&decl, DW_AT_external)) return name;
  std::string result;
  AppendScopePrefix(&decl, &result);
  result += name;
  AppendParameters(&decl, &result);
  return result;
}

// Where the call that DW_TAG_inlined_subroutine `die` stands for is, in the
// function around it: DW_AT_call_file (an index into its unit's file table)
// and DW_AT_call_line. Empty and 0 when unknown.
void InlinedCallSite(Dwarf_Die* die, std::string* file, int* line) {
  file->clear();
  *line = 0;
  Dwarf_Attribute attr;
  Dwarf_Word index = 0;
  Dwarf_Die cu;
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &index) != 0 ||
      dwarf_diecu(die, &cu, nullptr, nullptr) == nullptr ||
      dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 || index >= nfiles) {
    return;
  }
  const char* name = dwarf_filesrc(files, index, nullptr, nullptr);
  if (name == nullptr) return;
  *file = name;
  Dwarf_Word value = 0;
  if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &value) == 0) {
    *line = static_cast<int>(value);
  }
}

std::string DwflError() {
  const char* msg = dwfl_errmsg(-1);
  return msg != nullptr ? msg : "unknown libdwfl error";
}

}  // namespace

// What libdwfl's callbacks need while one Backtrace runs.
struct Symbolizer::UnwindContext {
  pid_t tid = 0;
  const user_regs_struct* regs = nullptr;
  size_t max_frames = 0;
  // Activation pcs (libdwfl's term) are exact instruction addresses; the
  // others are return addresses.
  std::vector<RawFrame> pcs;
  uint64_t last_sp = 0;
  bool stalled = false;
  // libdwfl reads the stack a word at a time: each 4 KiB page it touches is
  // read once (the thread is stopped, so it cannot change meanwhile).
  // Pages that cannot be read whole are left out and read word by word.
  static constexpr uint64_t kPageSize = 4096;
  std::unordered_map<uint64_t, std::unique_ptr<unsigned char[]>> pages;
};

Symbolizer::Symbolizer(pid_t pid, const SymbolizerOptions& options)
    : pid_(pid), task_(pid), options_(options) {}

Symbolizer::~Symbolizer() {
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
  if (arch_elf_ != nullptr) elf_end(arch_elf_);
  if (arch_fd_ >= 0) close(arch_fd_);
}

absl::StatusOr<std::unique_ptr<Symbolizer>> Symbolizer::Create(pid_t pid,
                                                              const SymbolizerOptions& options) {
  std::unique_ptr<Symbolizer> symbolizer(new Symbolizer(pid, options));
  absl::Status status = symbolizer->Init();
  if (!status.ok()) return status;
  return symbolizer;
}

absl::Status Symbolizer::Init() {
  elf_version(EV_CURRENT);
  dwfl_ = dwfl_begin(&kDwflCallbacks);
  if (dwfl_ == nullptr) return absl::InternalError("dwfl_begin: " + DwflError());
  absl::Status status = ReadMaps();
  if (status.ok()) status = ReportModules();
  if (!status.ok()) return status;

  // Our own thread callbacks rather than dwfl_linux_proc_attach: the latter
  // re-reads registers with PTRACE_GETREGS, while the caller's `regs` are
  // authoritative (they may be edited, e.g. pc rewound to the syscall). The
  // ELF only tells libdwfl the architecture. Without one libdwfl would
  // borrow a module's backend, which a Refresh could free; our own binary
  // (x86-64 as well) stands in. A failure leaves the frame-pointer unwinder.
  for (const std::string& exe :
       {absl::StrCat("/proc/", task_, "/exe"), std::string("/proc/self/exe")}) {
    arch_fd_ = open(exe.c_str(), O_RDONLY | O_CLOEXEC);
    if (arch_fd_ < 0) continue;
    arch_elf_ = elf_begin(arch_fd_, ELF_C_READ_MMAP, nullptr);
    if (arch_elf_ != nullptr) break;
    close(arch_fd_);
    arch_fd_ = -1;
  }
  static const Dwfl_Thread_Callbacks kThreadCallbacks = {
      &Symbolizer::NextThread,
      &Symbolizer::GetThread,
      &Symbolizer::MemoryRead,
      &Symbolizer::SetInitialRegisters,
      nullptr,  // detach: nothing was attached
      nullptr,  // thread_detach: the caller owns the ptrace stop
  };
  attached_ = arch_elf_ != nullptr &&
              dwfl_attach_state(dwfl_, arch_elf_, pid_, &kThreadCallbacks, this);
  return absl::OkStatus();
}

absl::Status Symbolizer::ReadMaps() {
  absl::StatusOr<std::vector<MemoryMapping>> maps = dpsupervise::ReadMaps(task_);
  if (!maps.ok()) return maps.status();
  maps_ = std::move(*maps);
  return absl::OkStatus();
}

absl::Status Symbolizer::ReportModules() {
  // Modules reported again with the same name and range are kept, with
  // their loaded ELF and DWARF; the rest are dropped at dwfl_report_end.
  want_lines_.clear();
  frame_cache_.clear();
  dwfl_report_begin(dwfl_);
  int rc = dwfl_linux_proc_report(dwfl_, task_);
  if (dwfl_report_end(dwfl_, nullptr, nullptr) != 0) {
    return absl::InternalError("dwfl_report_end: " + DwflError());
  }
  SetModulesPid(dwfl_, task_);
  if (rc > 0) {
    return absl::NotFoundError(
        absl::StrCat("dwfl_linux_proc_report(", task_, "): ", strerror(rc)));
  }
  if (rc < 0) {
    return absl::InternalError(
        absl::StrCat("dwfl_linux_proc_report(", task_, "): ", DwflError()));
  }
  return absl::OkStatus();
}

bool Symbolizer::SameFileMappings(const std::vector<MemoryMapping>& a,
                                  const std::vector<MemoryMapping>& b) {
  auto file_backed = [](const MemoryMapping& m) { return !m.name.empty() && m.name[0] == '/'; };
  auto ai = a.begin(), bi = b.begin();
  for (;;) {
    while (ai != a.end() && !file_backed(*ai)) ++ai;
    while (bi != b.end() && !file_backed(*bi)) ++bi;
    if (ai == a.end() || bi == b.end()) return ai == a.end() && bi == b.end();
    if (ai->start != bi->start || ai->end != bi->end || ai->name != bi->name) return false;
    ++ai;
    ++bi;
  }
}

absl::Status Symbolizer::Refresh(pid_t live_tid) {
  if (live_tid != 0) task_ = live_tid;
  // Re-reporting every module to libdwfl costs more than reading the maps:
  // only when a file was mapped or unmapped since the last report (dlopen,
  // dlclose). Anonymous mappings (heap, stacks) come and go freely.
  const std::vector<MemoryMapping> before = maps_;
  absl::Status status = ReadMaps();
  if (!status.ok()) return status;
  if (SameFileMappings(before, maps_)) return absl::OkStatus();
  return ReportModules();
}

absl::StatusOr<uint64_t> Symbolizer::ResolveCodeLocation(const CodeLocation& location) {
  if (location.symbol.empty()) return location.address;
  absl::Status refreshed = Refresh();
  if (!refreshed.ok()) return ModulesUnreadableError(task_, refreshed);
  return FindCodeLocation(dwfl_, task_, location);
}

const MemoryMapping* Symbolizer::FindMapping(uint64_t addr) const {
  for (const MemoryMapping& m : maps_) {
    if (m.Contains(addr)) return &m;
  }
  return nullptr;
}

const MemoryMapping* Symbolizer::FindMappingOrRefresh(uint64_t addr) {
  const MemoryMapping* m = FindMapping(addr);
  if (m != nullptr) return m;
  if (!ReadMaps().ok()) return nullptr;
  m = FindMapping(addr);
  // A file mapped since the last report (dlopen): tell libdwfl too.
  if (m != nullptr && !m->name.empty() && m->name[0] == '/' &&
      dwfl_addrmodule(dwfl_, addr) == nullptr) {
    if (!ReportModules().ok()) return nullptr;
  }
  return m;
}

Frame Symbolizer::Symbolize(uint64_t pc) { return SymbolizeAt(pc, /*is_return_address=*/false); }

namespace {

struct DataSymbolSearch {
  uint64_t address;
  Frame found;
};

int FindDataSymbolIn(Dwfl_Module* mod, void**, const char*, Dwarf_Addr, void* arg) {
  auto* search = static_cast<DataSymbolSearch*>(arg);
  GElf_Sym sym;
  GElf_Off offset = 0;
  const char* name =
      dwfl_module_addrinfo(mod, search->address, &offset, &sym, nullptr, nullptr, nullptr);
  // Only a symbol whose extent covers the address: the nearest one below
  // it would name something else.
  if (name == nullptr || name[0] == '\0' || sym.st_size == 0 || offset >= sym.st_size) {
    return DWARF_CB_OK;
  }
  search->found.function = Demangle(name);
  search->found.offset = offset;
  return DWARF_CB_ABORT;
}

}  // namespace

Frame Symbolizer::DataSymbol(uint64_t address) {
  DataSymbolSearch search{address, Frame{}};
  search.found.pc = address;
  dwfl_getmodules(dwfl_, FindDataSymbolIn, &search, 0);
  return search.found;
}

Frame Symbolizer::SymbolizeAt(uint64_t pc, bool is_return_address) {
  Frame frame;
  frame.pc = pc;
  // A return address may be the first byte after the function (a call to a
  // noreturn function ends it), and its line is the one after the call: look
  // up the call instruction instead.
  const uint64_t lookup = is_return_address && pc > 0 ? pc - 1 : pc;
  Dwfl_Module* mod = dwfl_addrmodule(dwfl_, lookup);
  if (mod == nullptr && FindMapping(lookup) == nullptr && FindMappingOrRefresh(lookup) != nullptr) {
    mod = dwfl_addrmodule(dwfl_, lookup);
  }
  if (mod == nullptr) return frame;

  Dwarf_Addr mod_start = 0;
  Dwarf_Addr mod_end = 0;
  const char* mod_name =
      dwfl_module_info(mod, nullptr, &mod_start, &mod_end, nullptr, nullptr, nullptr, nullptr);
  // dwfl_addrmodule can answer with a module that does not cover the
  // address (0x7ffffffff000 gave ld.so with libdwfl 0.188): check the range.
  if (lookup < mod_start || lookup >= mod_end) return frame;
  frame.module = ModuleDisplayName(mod_name);
  GElf_Off sym_offset = 0;
  GElf_Sym sym;
  const char* name =
      dwfl_module_addrinfo(mod, lookup, &sym_offset, &sym, nullptr, nullptr, nullptr);
  if (name != nullptr && name[0] != '\0') {
    frame.function = Demangle(name);
    frame.offset = pc - (lookup - sym_offset);
  } else {
    Dwarf_Addr bias = mod_start;
    if (dwfl_module_getelf(mod, &bias) == nullptr) bias = mod_start;
    frame.offset = pc - bias;
  }
  Dwfl_Line* line = WantLines(mod) ? dwfl_module_getsrc(mod, lookup) : nullptr;
  if (line != nullptr) {
    int lineno = 0;
    const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
    if (file != nullptr) {
      frame.file = file;
      frame.line = lineno;
    }
  }
  return frame;
}

void Symbolizer::AppendFrames(const RawFrame& raw, size_t max_frames, std::vector<Frame>* frames) {
  if (frames->size() >= max_frames) return;
  // A storm of violations comes from a few call sites, and libdwfl's symbol
  // lookup walks a module's whole symbol table: reuse what was found.
  const auto key = std::make_pair(raw.pc, raw.exact);
  auto cached = frame_cache_.find(key);
  if (cached == frame_cache_.end()) {
    if (frame_cache_.size() >= kMaxCachedFrames) frame_cache_.clear();
    cached = frame_cache_.emplace(key, FramesAt(raw)).first;
  }
  for (const Frame& frame : cached->second) {
    if (frames->size() >= max_frames) return;
    frames->push_back(frame);
  }
}

std::vector<Frame> Symbolizer::FramesAt(const RawFrame& raw) {
  Frame outer = SymbolizeAt(raw.pc, /*is_return_address=*/!raw.exact);
  const uint64_t lookup = !raw.exact && raw.pc > 0 ? raw.pc - 1 : raw.pc;
  // SymbolizeAt found no module covering the address: no DWARF either.
  Dwfl_Module* mod = outer.module.empty() ? nullptr : dwfl_addrmodule(dwfl_, lookup);
  std::vector<Frame> inlined;
  if (mod != nullptr && WantLines(mod)) {
    Dwarf_Addr bias = 0;
    Dwarf_Die* cudie = dwfl_module_addrdie(mod, lookup, &bias);
    Dwarf_Die* scopes = nullptr;
    const int nscopes = cudie != nullptr ? dwarf_getscopes(cudie, lookup - bias, &scopes) : 0;
    bool in_inlined_code = false;
    for (int i = 0; i < nscopes && !in_inlined_code; ++i) {
      in_inlined_code = dwarf_tag(&scopes[i]) == DW_TAG_inlined_subroutine;
    }
    // Past the innermost inlined_subroutine, dwarf_getscopes goes on with the
    // scopes around the inlined function's abstract definition (its lexical
    // context), not with the code it was inlined into; that chain, nested
    // inline instances up to the subprogram, is the innermost DIE's parents
    // (as eu-addr2line -i finds it).
    Dwarf_Die* chain = nullptr;
    const int nchain = in_inlined_code ? dwarf_getscopes_die(&scopes[0], &chain) : 0;
    free(scopes);
    // The inlined_subroutine just inside the frame being built: its call site
    // is that frame's position.
    Dwarf_Die* inner = nullptr;
    for (int i = 0; i < nchain; ++i) {
      const int tag = dwarf_tag(&chain[i]);
      if (tag == DW_TAG_subprogram) break;
      if (tag != DW_TAG_inlined_subroutine) continue;  // lexical blocks
      Frame frame;
      frame.pc = raw.pc;
      frame.module = outer.module;
      const std::string name = InlinedFunctionName(&chain[i]);
      frame.function = (name.empty() ? "??" : name) + " [inlined]";
      if (inner == nullptr) {
        // The innermost: at the pc's own line.
        frame.file = outer.file;
        frame.line = outer.line;
      } else {
        InlinedCallSite(inner, &frame.file, &frame.line);
      }
      inlined.push_back(std::move(frame));
      inner = &chain[i];
    }
    if (inner != nullptr) InlinedCallSite(inner, &outer.file, &outer.line);
    free(chain);
  }
  inlined.push_back(std::move(outer));
  return inlined;
}

std::vector<Frame> Symbolizer::SymbolizeFrames(const std::vector<RawFrame>& raws,
                                               size_t max_frames) {
  std::vector<Frame> frames;
  frames.reserve(std::min(raws.size(), max_frames));
  for (const RawFrame& raw : raws) {
    if (frames.size() >= max_frames) break;
    AppendFrames(raw, max_frames, &frames);
  }
  return frames;
}

bool Symbolizer::WantLines(Dwfl_Module* mod) {
  if (options_.separate_debug_lines) return true;
  auto it = want_lines_.find(mod);
  if (it != want_lines_.end()) return it->second;
  // DWARF in the module's own file: the application's, mmapped and parsed
  // lazily. Otherwise it would come from a separate, compressed debug file.
  bool has_own_dwarf = false;
  Dwarf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(mod, &bias);
  size_t shstrndx = 0;
  if (elf != nullptr && elf_getshdrstrndx(elf, &shstrndx) == 0) {
    for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr && !has_own_dwarf;
         scn = elf_nextscn(elf, scn)) {
      GElf_Shdr shdr;
      if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type == SHT_NOBITS) continue;
      const char* name = elf_strptr(elf, shstrndx, shdr.sh_name);
      has_own_dwarf = name != nullptr && strcmp(name, ".debug_line") == 0;
    }
  }
  want_lines_[mod] = has_own_dwarf;
  return has_own_dwarf;
}

uint64_t Symbolizer::FunctionStart(uint64_t pc) {
  Dwfl_Module* mod = dwfl_addrmodule(dwfl_, pc);
  if (mod == nullptr) return 0;
  GElf_Off offset = 0;
  GElf_Sym sym;
  if (dwfl_module_addrinfo(mod, pc, &offset, &sym, nullptr, nullptr, nullptr) == nullptr) {
    return 0;
  }
  return pc - offset;
}

bool Symbolizer::ReadBytes(pid_t tid, uint64_t addr, void* buf, size_t size) const {
  iovec local = {buf, size};
  iovec remote = {reinterpret_cast<void*>(addr), size};
  if (process_vm_readv(tid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size)) return true;
  // process_vm_readv honours page protections; PTRACE_PEEKDATA (forced
  // access, like a debugger) still reads e.g. execute-only code. Valid only
  // because the caller holds `tid` in a ptrace stop.
  unsigned char* out = static_cast<unsigned char*>(buf);
  for (size_t done = 0; done < size;) {
    const uint64_t word_addr = (addr + done) & ~7ull;
    errno = 0;
    long word = ptrace(PTRACE_PEEKDATA, tid, reinterpret_cast<void*>(word_addr), nullptr);
    if (errno != 0) return false;
    const size_t skip = (addr + done) - word_addr;
    const size_t n = std::min(size - done, sizeof(word) - skip);
    memcpy(out + done, reinterpret_cast<unsigned char*>(&word) + skip, n);
    done += n;
  }
  return true;
}

bool Symbolizer::ReadWord(pid_t tid, uint64_t addr, uint64_t* value) const {
  if (sampled_stack_ != nullptr) {
    // Only the copy holds the stack as it was; anything else read as a
    // word during an unwind is a stack slot too, which the copy lacks.
    const uint64_t start = sampled_stack_->start;
    const size_t size = sampled_stack_->bytes->size();
    if (addr < start || addr - start > size || size - (addr - start) < sizeof(*value)) {
      return false;
    }
    memcpy(value, sampled_stack_->bytes->data() + (addr - start), sizeof(*value));
    return true;
  }
  return ReadBytes(tid, addr, value, sizeof(*value));
}

bool Symbolizer::LooksLikeReturnAddress(pid_t tid, uint64_t addr) {
  const MemoryMapping* m = FindMappingOrRefresh(addr);
  if (m == nullptr || !m->executable || addr < m->start + 8) return false;
  // b[7] is the byte just before `addr`; a call ends there.
  unsigned char b[8];
  if (!ReadBytes(tid, addr - 8, b, sizeof(b))) return false;
  return b[3] == 0xe8 ||                            // call rel32
         (b[6] == 0xff && (b[7] & 0xf8) == 0xd0) ||  // call reg
         (b[6] == 0xff && (b[7] & 0xf8) == 0x10) ||  // call [reg]
         (b[5] == 0xff && (b[6] & 0xf8) == 0x50) ||  // call [reg+disp8]
         (b[5] == 0xff && b[6] == 0x14) ||           // call [sib]
         (b[4] == 0xff && b[5] == 0x54) ||           // call [sib+disp8]
         (b[2] == 0xff && b[3] == 0x15) ||           // call [rip+disp32]
         (b[2] == 0xff && (b[3] & 0xf8) == 0x90) ||  // call [reg+disp32]
         (b[1] == 0xff && b[2] == 0x94);             // call [sib+disp32]
}

uint64_t Symbolizer::LeafReturnAddressSlot(pid_t tid, const user_regs_struct& regs) {
  unsigned char insn = 0;
  // At `ret` the frame is already popped and rbp is the caller's.
  if (ReadBytes(tid, regs.rip, &insn, 1) && insn == 0xc3) return regs.rsp;
  const uint64_t start = FunctionStart(regs.rip);
  if (start == 0) return 0;
  unsigned char code[8];
  if (!ReadBytes(tid, start, code, sizeof(code))) return 0;
  size_t push_at = 0;
  if (code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa) push_at = 4;
  // No "push rbp" prologue (e.g. libc's syscall wrappers, which are built
  // without frame pointers): rbp is still the caller's and the return
  // address is where the call left it, unless the function pushed more;
  // LooksLikeReturnAddress screens that case out.
  if (code[push_at] != 0x55) return regs.rsp;
  if (regs.rip <= start + push_at) return regs.rsp;
  const bool mov_rbp_rsp =
      code[push_at + 1] == 0x48 && code[push_at + 2] == 0x89 && code[push_at + 3] == 0xe5;
  if (mov_rbp_rsp && regs.rip <= start + push_at + 1) return regs.rsp + 8;
  return 0;
}

absl::StatusOr<std::vector<Frame>> Symbolizer::FramePointerBacktrace(pid_t tid,
                                                                     const user_regs_struct& regs,
                                                                     int max_frames) {
  if (max_frames <= 0) return std::vector<Frame>();
  const size_t max = static_cast<size_t>(max_frames);
  return SymbolizeFrames(FramePointerWalk(tid, regs, max), max);
}

std::vector<Symbolizer::RawFrame> Symbolizer::FramePointerWalk(pid_t tid,
                                                               const user_regs_struct& regs,
                                                               size_t max) {
  std::vector<RawFrame> frames;
  if (max == 0) return frames;
  frames.push_back({regs.rip, /*exact=*/true});
  // Every frame lives in the mapping of the stack pointer (the thread's
  // stack); a signal on an alternate stack ends the walk, acceptably.
  const MemoryMapping* stack = FindMappingOrRefresh(regs.rsp);
  if (stack == nullptr) return frames;
  const uint64_t stack_start = stack->start;
  const uint64_t stack_end = stack->end;

  const uint64_t slot = LeafReturnAddressSlot(tid, regs);
  uint64_t ra = 0;
  if (slot != 0 && frames.size() < max && ReadWord(tid, slot, &ra) &&
      LooksLikeReturnAddress(tid, ra)) {
    frames.push_back({ra, /*exact=*/false});
  }
  uint64_t fp = regs.rbp;
  uint64_t min_fp = regs.rsp;
  while (frames.size() < max) {
    // Callers' frames sit at strictly higher addresses, 8-aligned, and hold
    // the saved rbp and the return address.
    if (fp % 8 != 0 || fp < min_fp || fp < stack_start || fp + 16 > stack_end) break;
    uint64_t saved_fp = 0;
    if (!ReadWord(tid, fp, &saved_fp) || !ReadWord(tid, fp + 8, &ra)) break;
    if (!LooksLikeReturnAddress(tid, ra)) break;
    frames.push_back({ra, /*exact=*/false});
    min_fp = fp + 16;
    fp = saved_fp;
  }
  return frames;
}

absl::StatusOr<std::vector<Frame>> Symbolizer::Backtrace(pid_t tid, const user_regs_struct& regs,
                                                         int max_frames) {
  if (max_frames <= 0) return std::vector<Frame>();
  const size_t max = static_cast<size_t>(max_frames);
  absl::StatusOr<std::vector<RawFrame>> raws = Unwind(tid, regs, max);
  if (!raws.ok()) return raws.status();
  return SymbolizeFrames(*raws, max);
}

absl::StatusOr<std::vector<Symbolizer::RawFrame>> Symbolizer::Unwind(pid_t tid,
                                                                     const user_regs_struct& regs,
                                                                     size_t max_frames) {
  UnwindContext context;
  context.tid = tid;
  context.regs = &regs;
  context.max_frames = max_frames;
  std::string dwfl_problem = "libdwfl has no process state (unknown architecture)";
  int rc = -1;
  if (attached_) {
    unwind_ = &context;
    rc = dwfl_getthread_frames(dwfl_, tid, &Symbolizer::CollectFrame, &context);
    unwind_ = nullptr;
    // -1: unwinding failed part way (the frames so far are still good);
    // DWARF_CB_ABORT: we stopped it at max_frames.
    if (rc == -1) dwfl_problem = DwflError();
  }
  const bool dwfl_incomplete = rc == -1 || context.stalled || context.pcs.size() < 2;
  if (dwfl_incomplete && context.pcs.size() < context.max_frames) {
    // libdwfl gave up early (no CFI and no usable frame for its own
    // fallback, unreadable memory): try the frame-pointer chain, and keep
    // whichever saw more of the stack (physical frames, before inline
    // expansion).
    std::vector<RawFrame> fp_pcs = FramePointerWalk(tid, regs, context.max_frames);
    if (fp_pcs.size() > context.pcs.size()) return fp_pcs;
  }
  if (context.pcs.empty()) {
    return absl::InternalError(absl::StrCat("unwinding thread ", tid, ": ", dwfl_problem));
  }
  // Frame 0 is the exact pc (regs.rip), whatever libdwfl thinks of it.
  context.pcs[0].exact = true;
  return std::move(context.pcs);
}

absl::StatusOr<std::vector<Frame>> Symbolizer::BacktraceOfSample(
    const user_regs_struct& regs, const std::vector<uint8_t>& stack,
    const std::vector<uint64_t>& callchain, int max_frames) {
  if (max_frames <= 0) return std::vector<Frame>();
  const size_t max = static_cast<size_t>(max_frames);
  const SampledStack sampled{regs.rsp, &stack};
  sampled_stack_ = &sampled;
  // The sampled thread may be gone: code is read through the process.
  absl::StatusOr<std::vector<RawFrame>> raws = Unwind(task_, regs, max);
  sampled_stack_ = nullptr;
  if (!raws.ok()) return raws.status();
  ContinueWithCallchain(callchain, max, &*raws);
  return SymbolizeFrames(*raws, max);
}

void Symbolizer::ContinueWithCallchain(const std::vector<uint64_t>& callchain, size_t max_frames,
                                       std::vector<RawFrame>* raws) {
  if (raws->size() >= max_frames || callchain.size() < 2) return;
  // The callchain's entries after the unwind's last return address are
  // the frames above it; an unwind that found no return address at all
  // takes the whole chain. When the two disagree (the last return address
  // is not in the chain), the unwind, which read the CFI, is trusted.
  size_t next = 1;
  if (raws->size() > 1) {
    const uint64_t last = raws->back().pc;
    auto found = std::find(callchain.begin() + 1, callchain.end(), last);
    if (found == callchain.end()) return;
    next = static_cast<size_t>(found - callchain.begin()) + 1;
  }
  for (; next < callchain.size() && raws->size() < max_frames; ++next) {
    raws->push_back({callchain[next], /*exact=*/false});
  }
}

pid_t Symbolizer::NextThread(Dwfl* dwfl, void* arg, void** thread_arg) {
  // Only the thread being unwound is known to be stopped; never enumerate
  // the others.
  auto* self = static_cast<Symbolizer*>(arg);
  if (*thread_arg != nullptr || self->unwind_ == nullptr) return 0;
  *thread_arg = arg;
  return self->unwind_->tid;
}

bool Symbolizer::GetThread(Dwfl* dwfl, pid_t tid, void* arg, void** thread_arg) {
  auto* self = static_cast<Symbolizer*>(arg);
  *thread_arg = arg;
  return self->unwind_ != nullptr && self->unwind_->tid == tid;
}

bool Symbolizer::MemoryRead(Dwfl* dwfl, uint64_t addr, uint64_t* result, void* arg) {
  auto* self = static_cast<Symbolizer*>(arg);
  UnwindContext* context = self->unwind_;
  if (context == nullptr || self->sampled_stack_ != nullptr) {
    return self->ReadWord(self->task_, addr, result);
  }
  constexpr uint64_t kPage = UnwindContext::kPageSize;
  const uint64_t page = addr & ~(kPage - 1);
  if (addr - page > kPage - sizeof(*result)) return self->ReadWord(context->tid, addr, result);
  auto cached = context->pages.find(page);
  if (cached == context->pages.end()) {
    auto bytes = std::make_unique<unsigned char[]>(kPage);
    iovec local = {bytes.get(), kPage};
    iovec remote = {reinterpret_cast<void*>(page), kPage};
    if (process_vm_readv(context->tid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(kPage)) {
      return self->ReadWord(context->tid, addr, result);
    }
    cached = context->pages.emplace(page, std::move(bytes)).first;
  }
  memcpy(result, cached->second.get() + (addr - page), sizeof(*result));
  return true;
}

bool Symbolizer::SetInitialRegisters(Dwfl_Thread* thread, void* thread_arg) {
  auto* self = static_cast<Symbolizer*>(thread_arg);
  if (self->unwind_ == nullptr) return false;
  const user_regs_struct& r = *self->unwind_->regs;
  const Dwarf_Word dwarf_regs[kDwarfRegCount] = {
      r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
      r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip,
  };
  return dwfl_thread_state_registers(thread, 0, kDwarfRegCount, dwarf_regs);
}

int Symbolizer::CollectFrame(Dwfl_Frame* state, void* arg) {
  auto* context = static_cast<UnwindContext*>(arg);
  Dwarf_Addr pc = 0;
  bool is_activation = false;
  if (!dwfl_frame_pc(state, &pc, &is_activation)) return DWARF_CB_ABORT;
  // A corrupt stack can make the unwinder repeat a frame forever (same pc,
  // same stack pointer): stop there.
  Dwarf_Word sp = 0;
  if (dwfl_frame_reg(state, kDwarfRsp, &sp) == 0) {
    if (!context->pcs.empty() && context->pcs.back().pc == pc && context->last_sp == sp) {
      context->stalled = true;
      return DWARF_CB_ABORT;
    }
    context->last_sp = sp;
  }
  context->pcs.push_back({pc, is_activation});
  return context->pcs.size() >= context->max_frames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

}  // namespace dpsupervise
