#include "supervisor/symbolize.h"

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
std::string ModuleDisplayName(const char* name) {
  if (name == nullptr) return "";
  if (absl::StartsWith(name, "[vdso")) return "[vdso]";
  return name;
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
    dwfl_linux_proc_find_elf,
    FindLocalDebuginfo,
    nullptr,  // section_address: only for relocatable (kernel module) files
    nullptr,  // debuginfo_path: the default, ":.debug:/usr/lib/debug"
};

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
  // (pc, is_activation): activation pcs are exact instruction addresses;
  // the others are return addresses.
  std::vector<std::pair<uint64_t, bool>> pcs;
  uint64_t last_sp = 0;
  bool stalled = false;
};

Symbolizer::Symbolizer(pid_t pid, const SymbolizerOptions& options)
    : pid_(pid), options_(options) {}

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
  absl::Status status = ReportModules();
  if (!status.ok()) return status;

  // Our own thread callbacks rather than dwfl_linux_proc_attach: the latter
  // re-reads registers with PTRACE_GETREGS, while the caller's `regs` are
  // authoritative (they may be edited, e.g. pc rewound to the syscall). The
  // ELF only tells libdwfl the architecture. Without one libdwfl would
  // borrow a module's backend, which a Refresh could free; our own binary
  // (x86-64 as well) stands in. A failure leaves the frame-pointer unwinder.
  for (const std::string& exe :
       {absl::StrCat("/proc/", pid_, "/exe"), std::string("/proc/self/exe")}) {
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
  const std::string path = absl::StrCat("/proc/", pid_, "/maps");
  FILE* f = fopen(path.c_str(), "re");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat(path, ": ", strerror(errno)));
  std::vector<Mapping> maps;
  char* line = nullptr;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) > 0) {
    Mapping m;
    char perms[8] = {};
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &m.start, &m.end, perms, &path_at) < 3) {
      continue;
    }
    m.executable = perms[2] == 'x';
    if (path_at > 0 && path_at < len) {
      m.path.assign(line + path_at, len - path_at);
      while (!m.path.empty() && m.path.back() == '\n') m.path.pop_back();
    }
    maps.push_back(std::move(m));
  }
  free(line);
  fclose(f);
  maps_ = std::move(maps);
  return absl::OkStatus();
}

absl::Status Symbolizer::ReportModules() {
  absl::Status status = ReadMaps();
  if (!status.ok()) return status;
  // Modules reported again with the same name and range are kept, with
  // their loaded ELF and DWARF; the rest are dropped at dwfl_report_end.
  want_lines_.clear();
  dwfl_report_begin(dwfl_);
  int rc = dwfl_linux_proc_report(dwfl_, pid_);
  if (dwfl_report_end(dwfl_, nullptr, nullptr) != 0) {
    return absl::InternalError("dwfl_report_end: " + DwflError());
  }
  if (rc > 0) {
    return absl::NotFoundError(
        absl::StrCat("dwfl_linux_proc_report(", pid_, "): ", strerror(rc)));
  }
  if (rc < 0) {
    return absl::InternalError(
        absl::StrCat("dwfl_linux_proc_report(", pid_, "): ", DwflError()));
  }
  return absl::OkStatus();
}

absl::Status Symbolizer::Refresh() { return ReportModules(); }

const Symbolizer::Mapping* Symbolizer::FindMapping(uint64_t addr) const {
  for (const Mapping& m : maps_) {
    if (addr >= m.start && addr < m.end) return &m;
  }
  return nullptr;
}

const Symbolizer::Mapping* Symbolizer::FindMappingOrRefresh(uint64_t addr) {
  const Mapping* m = FindMapping(addr);
  if (m != nullptr) return m;
  if (!ReadMaps().ok()) return nullptr;
  m = FindMapping(addr);
  // A file mapped since the last report (dlopen): tell libdwfl too.
  if (m != nullptr && !m->path.empty() && m->path[0] == '/' &&
      dwfl_addrmodule(dwfl_, addr) == nullptr) {
    if (!ReportModules().ok()) return nullptr;
    m = FindMapping(addr);
  }
  return m;
}

Frame Symbolizer::Symbolize(uint64_t pc) { return SymbolizeAt(pc, /*is_return_address=*/false); }

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
  return ReadBytes(tid, addr, value, sizeof(*value));
}

bool Symbolizer::LooksLikeReturnAddress(pid_t tid, uint64_t addr) {
  const Mapping* m = FindMappingOrRefresh(addr);
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
  std::vector<Frame> frames;
  if (max_frames <= 0) return frames;
  const size_t max = static_cast<size_t>(max_frames);
  frames.push_back(SymbolizeAt(regs.rip, /*is_return_address=*/false));
  // Every frame lives in the mapping of the stack pointer (the thread's
  // stack); a signal on an alternate stack ends the walk, acceptably.
  const Mapping* stack = FindMappingOrRefresh(regs.rsp);
  if (stack == nullptr) return frames;
  const uint64_t stack_start = stack->start;
  const uint64_t stack_end = stack->end;

  const uint64_t slot = LeafReturnAddressSlot(tid, regs);
  uint64_t ra = 0;
  if (slot != 0 && frames.size() < max && ReadWord(tid, slot, &ra) &&
      LooksLikeReturnAddress(tid, ra)) {
    frames.push_back(SymbolizeAt(ra, /*is_return_address=*/true));
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
    frames.push_back(SymbolizeAt(ra, /*is_return_address=*/true));
    min_fp = fp + 16;
    fp = saved_fp;
  }
  return frames;
}

absl::StatusOr<std::vector<Frame>> Symbolizer::Backtrace(pid_t tid, const user_regs_struct& regs,
                                                         int max_frames) {
  std::vector<Frame> frames;
  if (max_frames <= 0) return frames;
  UnwindContext context;
  context.tid = tid;
  context.regs = &regs;
  context.max_frames = static_cast<size_t>(max_frames);
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
    // whichever saw more of the stack.
    absl::StatusOr<std::vector<Frame>> fp_frames = FramePointerBacktrace(tid, regs, max_frames);
    if (fp_frames.ok() && fp_frames->size() > context.pcs.size()) return fp_frames;
  }
  if (context.pcs.empty()) {
    return absl::InternalError(absl::StrCat("unwinding thread ", tid, ": ", dwfl_problem));
  }
  frames.reserve(context.pcs.size());
  for (size_t i = 0; i < context.pcs.size(); ++i) {
    // Frame 0 is the exact pc (regs.rip), whatever libdwfl thinks of it.
    const bool exact = i == 0 || context.pcs[i].second;
    frames.push_back(SymbolizeAt(context.pcs[i].first, /*is_return_address=*/!exact));
  }
  return frames;
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
  const pid_t tid = self->unwind_ != nullptr ? self->unwind_->tid : self->pid_;
  return self->ReadWord(tid, addr, result);
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
    if (!context->pcs.empty() && context->pcs.back().first == pc && context->last_sp == sp) {
      context->stalled = true;
      return DWARF_CB_ABORT;
    }
    context->last_sp = sp;
  }
  context->pcs.emplace_back(pc, is_activation);
  return context->pcs.size() >= context->max_frames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

std::string FormatFrame(const Frame& f) {
  if (!f.function.empty()) {
    std::string text = absl::StrFormat("%s+0x%x", f.function, f.offset);
    if (!f.file.empty()) {
      if (f.line > 0) {
        absl::StrAppend(&text, " (", f.file, ":", f.line, ")");
      } else {
        absl::StrAppend(&text, " (", f.file, ")");
      }
    } else if (!f.module.empty()) {
      absl::StrAppend(&text, " (", f.module, ")");
    }
    return text;
  }
  if (!f.module.empty()) return absl::StrFormat("?? (%s+0x%x)", f.module, f.offset);
  return "??";
}

}  // namespace dpsupervise
