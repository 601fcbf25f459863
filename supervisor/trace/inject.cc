#include "supervisor/trace/inject.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "supervisor/trace/ptrace_util.h"
#include "supervisor/trace/regs.h"
#include "supervisor/os/send_signal.h"

namespace dpsupervise {
namespace {

constexpr uint64_t kPage = 4096;


// The sock_fprog followed by its instructions, as seccomp(2) reads them,
// for an image placed at `base`.
std::vector<char> FilterImage(const BpfProgram& program, uint64_t base) {
  const size_t code_bytes = program.instructions.size() * sizeof(sock_filter);
  sock_fprog remote_prog;
  remote_prog.len = static_cast<unsigned short>(program.instructions.size());
  remote_prog.filter = reinterpret_cast<sock_filter*>(base + sizeof(sock_fprog));
  std::vector<char> image(sizeof(sock_fprog) + code_bytes);
  memcpy(image.data(), &remote_prog, sizeof(remote_prog));
  memcpy(image.data() + sizeof(remote_prog), program.instructions.data(), code_bytes);
  return image;
}

size_t FilterImageBytes(const BpfProgram& program) {
  return sizeof(sock_fprog) + program.instructions.size() * sizeof(sock_filter);
}

// PermissionDenied, with the cause and what to do, when the kernel keeps
// the memory of a non-dumpable process from this supervisor.
absl::Status WriteFilterImage(pid_t tid, uint64_t base, const BpfProgram& program) {
  const std::vector<char> image = FilterImage(program, base);
  absl::Status written = WriteMemory(tid, base, image.data(), image.size());
  if (!written.ok()) {
    const std::string not_dumpable = NotDumpableCause(tid);
    if (!not_dumpable.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write the strict filter into the thread's memory: ", not_dumpable));
    }
    return absl::InternalError(
        absl::StrCat("writing the strict filter into the thread's memory: ", written.message()));
  }
  return absl::OkStatus();
}

// What one wait for the injected thread brought.
struct Stop {
  enum class Kind { kSyscall, kSignal, kForeign } kind = Kind::kForeign;
  int status = 0;
};

// Resumes with PTRACE_SYSCALL and waits for `tid`'s next stop, passing over
// event stops that concern nothing here. A stop that ends the injection
// (exit, PTRACE_EVENT_EXIT, PTRACE_EVENT_EXEC) is kForeign.
absl::StatusOr<Stop> ResumeToNextStop(pid_t tid) {
  absl::Status resumed = ContinueToSyscall(tid);
  for (;;) {
    if (!resumed.ok()) return resumed;
    int status = 0;
    if (waitpid(tid, &status, __WALL) < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("waitpid(", tid, "): ", strerror(errno)));
    }
    if (!WIFSTOPPED(status)) return Stop{Stop::Kind::kForeign, status};
    const int event = status >> 16;
    if (event == PTRACE_EVENT_EXIT || event == PTRACE_EVENT_EXEC) {
      return Stop{Stop::Kind::kForeign, status};
    }
    if (WSTOPSIG(status) == (SIGTRAP | 0x80)) return Stop{Stop::Kind::kSyscall, status};
    if (event == 0) return Stop{Stop::Kind::kSignal, status};
    resumed = ContinueToSyscall(tid);  // PTRACE_EVENT_STOP and the like
  }
}

InjectionOutcome Abandoned(int wait_status) {
  InjectionOutcome outcome;
  outcome.abandoned = true;
  outcome.wait_status = wait_status;
  return outcome;
}

// Runs `tid` to its next syscall stop. Signals delivered on the way are
// suppressed and collected in `signals` for re-queueing, except a fault of
// the instruction at `fault_pc` (0: none expected), which fails the
// injection with FailedPrecondition.
absl::StatusOr<InjectionOutcome> RunToSyscallStop(pid_t tid, uint64_t fault_pc,
                                                  std::vector<int>* signals) {
  for (;;) {
    auto stop = ResumeToNextStop(tid);
    if (!stop.ok()) return stop.status();
    if (stop->kind == Stop::Kind::kForeign) return Abandoned(stop->status);
    if (stop->kind == Stop::Kind::kSyscall) return InjectionOutcome{};
    const int signal = WSTOPSIG(stop->status);
    if (fault_pc != 0 && (signal == SIGSEGV || signal == SIGBUS)) {
      auto regs = GetRegs(tid);
      if (regs.ok() && regs->rip == fault_pc) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the syscall instruction at 0x", absl::Hex(fault_pc), " is no longer executable"));
      }
    }
    signals->push_back(signal);
  }
}

// A syscall dpsupervise makes a thread run.
struct InjectedCall {
  long nr = -1;
  std::array<uint64_t, 6> args{};
};

// The mmap(2) arguments for scratch memory of at least `bytes`.
size_t ScratchBytesFor(size_t bytes) { return (bytes + kPage - 1) & ~(kPage - 1); }

InjectedCall MapScratch(size_t bytes) {
  return {SYS_mmap,
          {0, ScratchBytesFor(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
           static_cast<uint64_t>(-1), 0}};
}

// Installs the filter image at `image` on the calling thread only.
InjectedCall InstallFilter(uint64_t image) {
  return {SYS_seccomp, {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, image, 0, 0, 0}};
}

void SetArgs(const InjectedCall& call, user_regs_struct* regs) {
  unsigned long long* slots[] = {&regs->rdi, &regs->rsi, &regs->rdx,
                                 &regs->r10, &regs->r8,  &regs->r9};
  for (size_t i = 0; i < call.args.size(); ++i) *slots[i] = call.args[i];
}

// Remembers the scratch memory an injected MapScratch(bytes) returned.
void RememberScratch(long mapped, size_t bytes, ScratchMemory* scratch) {
  scratch->address = static_cast<uint64_t>(mapped);
  scratch->size = ScratchBytesFor(bytes);
}

// Runs `call` in `tid`, which is stopped anywhere, through the `syscall`
// instruction at `instruction`, to its exit stop.
absl::StatusOr<InjectionOutcome> RunSyscallAt(pid_t tid, user_regs_struct regs,
                                              uint64_t instruction, const InjectedCall& call,
                                              std::vector<int>* signals) {
  regs.rip = instruction;
  regs.rax = static_cast<unsigned long long>(call.nr);
  regs.orig_rax = static_cast<unsigned long long>(-1);  // no restart logic
  SetArgs(call, &regs);
  absl::Status set = SetRegs(tid, regs);
  if (!set.ok()) return set;
  auto entry = RunToSyscallStop(tid, instruction, signals);
  if (!entry.ok() || entry->abandoned) return entry;
  auto exit = RunToSyscallStop(tid, 0, signals);
  if (!exit.ok() || exit->abandoned) return exit;
  auto after = GetRegs(tid);
  if (!after.ok()) return after.status();
  exit->result = static_cast<long>(after->rax);
  return exit;
}

// ReadMaps, failing with PermissionDenied (the cause and what to do) when
// the process is not dumpable: its maps are closed to this supervisor.
absl::StatusOr<std::vector<MemoryMapping>> ReadMapsOrSayWhy(pid_t tid) {
  auto maps = ReadMaps(tid);
  if (maps.ok()) return maps;
  const std::string not_dumpable = NotDumpableCause(tid);
  if (!not_dumpable.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read the thread's memory map: ", not_dumpable));
  }
  return maps.status();
}

// The scratch memory's address when it is still there, mapped private and
// writable, and large enough for `bytes`; zero when it must be mapped (again).
absl::StatusOr<uint64_t> ImageSlot(pid_t tid, size_t bytes, const ScratchMemory& scratch) {
  if (scratch.address == 0 || scratch.size < bytes) return 0;
  auto maps = ReadMapsOrSayWhy(tid);
  if (!maps.ok()) return maps.status();
  for (const MemoryMapping& m : *maps) {
    if (!m.Contains(scratch.address)) continue;
    const bool usable = m.writable && !m.shared && scratch.address + bytes <= m.end;
    return usable ? scratch.address : 0;
  }
  return 0;  // the program unmapped it
}

void RequeueSignals(pid_t tgid, pid_t tid, const std::vector<int>& signals) {
  for (int signal : signals) SignalThread(tgid, tid, signal);
}

}  // namespace

absl::StatusOr<InjectionOutcome> InjectSeccompFilter(pid_t tgid, pid_t tid,
                                                     const user_regs_struct& stop_regs,
                                                     const BpfProgram& program,
                                                     ScratchMemory* scratch) {
  const size_t bytes = FilterImageBytes(program);
  auto slot = ImageSlot(tid, bytes, *scratch);
  if (!slot.ok()) return slot.status();
  // The stopped syscall is replaced by the first injected one: mmap when
  // the scratch memory is missing, else seccomp itself.
  const bool needs_scratch = *slot == 0;
  if (!needs_scratch) {
    absl::Status written = WriteFilterImage(tid, *slot, program);
    if (!written.ok()) return written;
  }
  const InjectedCall first_call = needs_scratch ? MapScratch(bytes) : InstallFilter(*slot);
  user_regs_struct regs = stop_regs;
  regs.orig_rax = static_cast<unsigned long long>(first_call.nr);
  SetArgs(first_call, &regs);
  absl::Status set = SetRegs(tid, regs);
  if (!set.ok()) return set;
  // Nothing but the syscall's exit can be reported between its seccomp stop
  // and that exit stop (signals are delivered after it).
  std::vector<int> signals;
  auto first = RunToSyscallStop(tid, 0, &signals);
  if (!first.ok() || first->abandoned) return first;
  auto after = GetRegs(tid);
  if (!after.ok()) return after.status();
  InjectionOutcome outcome;
  outcome.result = static_cast<long>(after->rax);
  if (!needs_scratch || outcome.result < 0) {
    RequeueSignals(tgid, tid, signals);
    return outcome;
  }
  RememberScratch(outcome.result, bytes, scratch);
  absl::Status written = WriteFilterImage(tid, scratch->address, program);
  if (absl::IsPermissionDenied(written)) {
    // The thread sits at the mmap's exit: the caller gives the stopped
    // syscall EPERM from there.
    RequeueSignals(tgid, tid, signals);
    outcome.result = -EPERM;
    outcome.refusal = std::string(written.message());
    return outcome;
  }
  if (!written.ok()) return written;
  // Then seccomp, through the program's own syscall instruction.
  auto second = RunSyscallAt(tid, *after, stop_regs.rip - kSyscallInstructionBytes,
                             InstallFilter(scratch->address), &signals);
  if (second.ok() && !second->abandoned) RequeueSignals(tgid, tid, signals);
  return second;
}

absl::StatusOr<uint64_t> FindSyscallInstruction(pid_t tid) {
  auto maps = ReadMapsOrSayWhy(tid);
  if (!maps.ok()) return maps.status();
  // The vDSO first: it is always there unless the program removed it, and
  // small. Then any other executable mapping: the two bytes execute as
  // `syscall` wherever they are, instruction boundary or not.
  std::vector<const MemoryMapping*> candidates;
  for (const MemoryMapping& m : *maps) {
    if (m.name == "[vdso]" && m.executable && m.readable) candidates.insert(candidates.begin(), &m);
  }
  for (const MemoryMapping& m : *maps) {
    if (m.name != "[vdso]" && m.name != "[vsyscall]" && m.executable && m.readable) {
      candidates.push_back(&m);
    }
  }
  constexpr size_t kChunk = 64 * 1024;
  for (const MemoryMapping* m : candidates) {
    for (uint64_t at = m->start; at < m->end; at += kChunk - 1) {
      auto bytes = ReadMemory(tid, at, std::min<uint64_t>(kChunk, m->end - at));
      if (!bytes.ok() || bytes->empty()) break;
      const size_t found = bytes->find("\x0f\x05");
      if (found != std::string::npos) return at + found;
    }
  }
  return absl::NotFoundError(
      "no syscall instruction in the thread's executable memory (the vDSO is unmapped or not "
      "executable, and no other readable executable mapping holds one)");
}

absl::StatusOr<InjectionOutcome> InjectSeccompFilterAnywhere(pid_t tgid, pid_t tid,
                                                             uint64_t syscall_instruction,
                                                             const BpfProgram& program,
                                                             ScratchMemory* scratch) {
  auto stopped = GetRegs(tid);
  if (!stopped.ok()) return stopped.status();
  const size_t bytes = FilterImageBytes(program);
  auto slot = ImageSlot(tid, bytes, *scratch);
  if (!slot.ok()) return slot.status();
  std::vector<int> signals;
  // On any failure past this point the thread gets its registers back.
  auto restore = [&](absl::StatusOr<InjectionOutcome> outcome) -> absl::StatusOr<InjectionOutcome> {
    if (outcome.ok() && outcome->abandoned) return outcome;
    absl::Status set = SetRegs(tid, RegistersToResume(*stopped));
    if (!set.ok()) return set;
    RequeueSignals(tgid, tid, signals);
    return outcome;
  };
  if (*slot == 0) {
    auto mapped = RunSyscallAt(tid, *stopped, syscall_instruction, MapScratch(bytes), &signals);
    if (!mapped.ok() || mapped->abandoned || mapped->result < 0) return restore(mapped);
    RememberScratch(mapped->result, bytes, scratch);
    *slot = scratch->address;
  }
  absl::Status written = WriteFilterImage(tid, *slot, program);
  if (!written.ok()) return restore(written);
  return restore(RunSyscallAt(tid, *stopped, syscall_instruction, InstallFilter(*slot), &signals));
}

}  // namespace dpsupervise
