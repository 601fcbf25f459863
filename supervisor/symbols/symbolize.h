// symbolize.h: symbols, source lines and backtraces of a live traced process,
// for violation reports. Built on elfutils libdwfl.
//
// The thread being unwound is in a ptrace stop held by the caller; every other
// thread of the process may keep running. Nothing here attaches, stops,
// resumes or detaches anything: registers come from the caller and memory is
// read with process_vm_readv (PTRACE_PEEKDATA as a fallback, which is valid
// because the caller holds the thread stopped). Debug information comes from
// local files; debuginfod is not consulted, so a report does not wait on the
// network while a strict thread is held.
#ifndef DPSUPERVISE_SUPERVISOR_SYMBOLS_SYMBOLIZE_H_
#define DPSUPERVISE_SUPERVISOR_SYMBOLS_SYMBOLIZE_H_

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include <memory>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "supervisor/model/violation.h"
#include "supervisor/os/procfs.h"
#include "supervisor/symbols/code_location.h"

// libdwfl and libelf types, declared here (at global scope, where elfutils
// declares them) so users of this header need no elfutils headers.
struct Dwfl;
struct Dwfl_Frame;
struct Dwfl_Module;
struct Dwfl_Thread;
struct Elf;

namespace dpsupervise {

struct SymbolizerOptions {
  // Also take source lines from separate debug files (/usr/lib/debug, e.g.
  // libc6-dbg for libc). Their DWARF is zlib-compressed and libdw inflates
  // all of it on first use: ~35 ms for libc, once per Symbolizer, while the
  // thread is held. Off, such modules still get function names (from the
  // debug file's symbol table, which is cheap) but no file:line; modules that
  // carry their own DWARF (the application, built with -g) always get lines.
  bool separate_debug_lines = false;
};

// Symbolizes addresses and unwinds stopped threads of one process. Not
// thread-safe: use one Symbolizer from one thread at a time.
//
// Frame fields as filled here: `function` is demangled (empty when unknown);
// `offset` is pc - function start, or, when the function is unknown but the
// module is, pc - the module's load bias (the address addr2line wants);
// `module` is the mapped file's path as in /proc/pid/maps, or "[vdso]";
// `file` is the source file as recorded in the debug info.
//
// Backtraces show inlined calls like gdb does: a physical frame whose pc lies
// in code inlined from other functions becomes one frame per inlined function,
// innermost first, followed by the function that holds the code. They all
// carry the same pc. The inline frames are named after the inlined function
// with " [inlined]" appended ("dptest::RawSyscall0(long) [inlined]"), have
// offset 0, and the file:line of the pc (innermost) or of the inlined call
// made in them; the last frame is the ELF symbol, at the file:line of the
// outermost inlined call. Inline frames need DWARF, so they are found only in
// modules whose lines are looked up (see SymbolizerOptions).
class Symbolizer {
 public:
  // Prepares symbolization for process `pid`: reads /proc/pid/maps and reports
  // its modules to libdwfl. ELF and DWARF data are loaded lazily, on first use
  // of each module, so this is cheap. `pid` may be any thread of the process
  // (best the one about to be unwound): once the leader has exited
  // (pthread_exit in main) while other threads run on, its /proc entries
  // show no address space, a live thread's do.
  static absl::StatusOr<std::unique_ptr<Symbolizer>> Create(
      pid_t pid, const SymbolizerOptions& options = SymbolizerOptions());

  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // Re-reads the module list, after dlopen/mmap or exec. Modules that did not
  // change keep their loaded symbol tables. With `live_tid`, the process is
  // read through that thread of it from now on (see Create): the one
  // read through so far may have exited.
  absl::Status Refresh(pid_t live_tid = 0);

  // Symbol of one address, taken as an exact instruction address (as for a
  // faulting pc or frame 0). An address that no module covers gives an empty
  // function and module ("??").
  Frame Symbolize(uint64_t pc);

  // The data symbol (a global array, a static variable) that covers
  // `address`, as function and offset of the frame; empty when none does.
  // Unlike Symbolize, it also looks past a module's file-backed mappings:
  // .bss continues in anonymous memory after the last one.
  Frame DataSymbol(uint64_t address);

  // Backtrace of thread `tid`, which the caller already holds in a ptrace
  // stop (never attached, interrupted or detached here). `regs` are its
  // current registers. Innermost first, frames[0].pc == regs.rip, at most
  // `max_frames` frames, inline frames included (see above; Symbolize does
  // not expand them). Caller frames hold the return address as pc but are
  // symbolized at pc - 1, the call instruction, like gdb does. Unwinds with
  // libdwfl (CFI, and libdwfl's own frame-pointer fallback); when that stops
  // early with an error, also walks the frame-pointer chain and keeps the
  // longer result.
  absl::StatusOr<std::vector<Frame>> Backtrace(pid_t tid, const user_regs_struct& regs,
                                               int max_frames = 32);

  // Backtrace of a thread of this process that is NOT held stopped, from a
  // copy of its user registers and of the top of its stack taken at one
  // moment (a perf sample: PERF_SAMPLE_REGS_USER, PERF_SAMPLE_STACK_USER).
  // Unwinds like Backtrace (libdwfl, the frame-pointer walk as fallback),
  // but stack words come only from `stack`, the bytes from regs.rsp up: the
  // live stack has moved on since. Where that unwind ends (at the copy's
  // end), `callchain`, the kernel's frame-pointer walk of the live stack at
  // the same moment (PERF_SAMPLE_CALLCHAIN: the pc, then return addresses;
  // may be empty), gives the frames above, from the entry after the
  // unwind's last return address. Code, symbols and CFI are the process's
  // as mapped now.
  absl::StatusOr<std::vector<Frame>> BacktraceOfSample(const user_regs_struct& regs,
                                                       const std::vector<uint8_t>& stack,
                                                       const std::vector<uint64_t>& callchain,
                                                       int max_frames = 32);

  // The address of `location` (a --enter-at/--leave-at function) in this
  // process, through this session: the module list is read again first
  // (Refresh), but libdwfl is told of it, and symbol tables are reloaded,
  // only when a file was mapped or unmapped since (dlopen, exec), so calling
  // this on every tick while a library is awaited stays cheap. Errors as
  // FindCodeLocation (code_location.h): NotFound means "not loaded yet, ask
  // again later"; a process whose modules cannot be read is Internal
  // (ModulesUnreadableError).
  absl::StatusOr<uint64_t> ResolveCodeLocation(const CodeLocation& location);

  // The fallback unwinder on its own: follows the rbp chain, checking that
  // each frame is aligned, above the previous one and inside the stack
  // mapping, and that each return address follows a call instruction in an
  // executable mapping. Needs -fno-omit-frame-pointer code. Frames are
  // expanded into inline frames as by Backtrace. Exposed for tests and for
  // diagnosing bad CFI.
  absl::StatusOr<std::vector<Frame>> FramePointerBacktrace(pid_t tid, const user_regs_struct& regs,
                                                           int max_frames = 32);

 private:
  // Whether two reads of the maps have the same file mappings (those libdwfl
  // makes modules of).
  static bool SameFileMappings(const std::vector<MemoryMapping>& a,
                               const std::vector<MemoryMapping>& b);
  // One physical frame found by an unwinder: `exact` when pc is an exact
  // instruction address (frame 0, signal frames), not a return address.
  struct RawFrame {
    uint64_t pc = 0;
    bool exact = false;
  };
  struct UnwindContext;

  Symbolizer(pid_t pid, const SymbolizerOptions& options);

  absl::Status Init();
  // Tells libdwfl the process's modules as /proc/PID/maps has them now
  // (libdwfl reads the maps itself); drops what was cached per module.
  absl::Status ReportModules();
  // Re-reads maps_ from /proc/PID/maps.
  absl::Status ReadMaps();
  const MemoryMapping* FindMapping(uint64_t addr) const;
  // Like FindMapping, but re-reads /proc/pid/maps once when `addr` is not in
  // a known mapping (new thread stacks, dlopen), and reports new modules.
  const MemoryMapping* FindMappingOrRefresh(uint64_t addr);

  // Symbolizes `pc`; `is_return_address` selects lookup at pc - 1.
  Frame SymbolizeAt(uint64_t pc, bool is_return_address);
  // Symbolizes `raw` expanded into its inline frames, innermost first, and
  // appends them to `frames` while it holds fewer than `max_frames`.
  void AppendFrames(const RawFrame& raw, size_t max_frames, std::vector<Frame>* frames);
  // The frames of one physical frame: its inlined calls, innermost first,
  // then the function itself.
  std::vector<Frame> FramesAt(const RawFrame& raw);
  // Backtrace's unwind: libdwfl, else the frame-pointer walk when it saw
  // more; the physical frames, at most `max_frames`.
  absl::StatusOr<std::vector<RawFrame>> Unwind(pid_t tid, const user_regs_struct& regs,
                                               size_t max_frames);
  // BacktraceOfSample's continuation of `raws` with the kernel's callchain.
  static void ContinueWithCallchain(const std::vector<uint64_t>& callchain, size_t max_frames,
                                    std::vector<RawFrame>* raws);
  // AppendFrames for each of `raws`, in order.
  std::vector<Frame> SymbolizeFrames(const std::vector<RawFrame>& raws, size_t max_frames);
  // The frame-pointer walk of FramePointerBacktrace, at most `max_frames`
  // physical frames.
  std::vector<RawFrame> FramePointerWalk(pid_t tid, const user_regs_struct& regs,
                                         size_t max_frames);
  // Whether to look up source lines in `mod` (see SymbolizerOptions).
  bool WantLines(Dwfl_Module* mod);
  // Start of the function containing `pc` per the symbol table, or 0.
  uint64_t FunctionStart(uint64_t pc);

  bool ReadWord(pid_t tid, uint64_t addr, uint64_t* value) const;
  bool ReadBytes(pid_t tid, uint64_t addr, void* buf, size_t size) const;
  // True when `addr` is executable and preceded by a call instruction.
  bool LooksLikeReturnAddress(pid_t tid, uint64_t addr);
  // Where frame 0's return address is, when frame 0 has not set up (or has
  // already torn down) its own rbp frame; 0 when it has one.
  uint64_t LeafReturnAddressSlot(pid_t tid, const user_regs_struct& regs);

  // libdwfl callbacks (Dwfl_Thread_Callbacks); `arg` is the Symbolizer.
  static pid_t NextThread(Dwfl* dwfl, void* arg, void** thread_arg);
  static bool GetThread(Dwfl* dwfl, pid_t tid, void* arg, void** thread_arg);
  static bool MemoryRead(Dwfl* dwfl, uint64_t addr, uint64_t* result, void* arg);
  static bool SetInitialRegisters(Dwfl_Thread* thread, void* thread_arg);
  static int CollectFrame(Dwfl_Frame* state, void* arg);

  const pid_t pid_;
  // The thread whose /proc entries and memory stand for the process's.
  pid_t task_;
  const SymbolizerOptions options_;
  Dwfl* dwfl_ = nullptr;
  // Backs libdwfl's architecture backend for the process state; must outlive
  // dwfl_. Owned here, not by a reported module, so a Refresh that drops
  // modules (exec) cannot free it under libdwfl.
  Elf* arch_elf_ = nullptr;
  int arch_fd_ = -1;
  bool attached_ = false;
  std::vector<MemoryMapping> maps_;
  // WantLines answers per module; cleared when modules are re-reported.
  std::unordered_map<Dwfl_Module*, bool> want_lines_;
  // The frames (inlined ones first) of each (pc, exact) symbolized so far;
  // cleared when modules are re-reported, or when it holds too many.
  static constexpr size_t kMaxCachedFrames = 4096;
  std::map<std::pair<uint64_t, bool>, std::vector<Frame>> frame_cache_;
  // Set only during Backtrace: the thread and registers libdwfl unwinds from.
  UnwindContext* unwind_ = nullptr;
  // Set only during BacktraceOfSample: the copied stack, from its address
  // `start` on, that stack reads (ReadWord) are served from.
  struct SampledStack {
    uint64_t start = 0;
    const std::vector<uint8_t>* bytes = nullptr;
  };
  const SampledStack* sampled_stack_ = nullptr;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SYMBOLS_SYMBOLIZE_H_
