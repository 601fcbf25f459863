#include "supervisor/noise/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

// Not in every libc's <sched.h>.
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

constexpr char kPinAdvice[] = "pin it to one isolated CPU (sched_setaffinity or taskset)";
constexpr char kIsolateAdvice[] =
    "isolate the CPU (boot with isolcpus=domain,managed_irq,<cpu> nohz_full=<cpu> "
    "rcu_nocbs=<cpu>, or make it an isolated cpuset partition) and pin the thread there";
constexpr char kMlockAdvice[] =
    "call mlockall(MCL_CURRENT | MCL_FUTURE) before entering strict mode (needs "
    "RLIMIT_MEMLOCK, e.g. ulimit -l unlimited, or CAP_IPC_LOCK)";

// The value of "Name:\tvalue" in a /proc status file, unit stripped.
absl::StatusOr<std::string> StatusValue(const std::string& status_text, absl::string_view name) {
  const std::string prefix = absl::StrCat(name, ":");
  for (absl::string_view line : absl::StrSplit(status_text, '\n')) {
    if (absl::ConsumePrefix(&line, prefix)) return std::string(absl::StripAsciiWhitespace(line));
  }
  return absl::NotFoundError(absl::StrCat("no ", name, " field"));
}

absl::StatusOr<long long> StatusKb(const std::string& status_text, absl::string_view name) {
  auto value = StatusValue(status_text, name);
  if (!value.ok()) return value.status();
  absl::string_view number = *value;
  number = number.substr(0, number.find(' '));
  long long kb;
  if (!absl::SimpleAtoi(number, &kb)) {
    return absl::InternalError(absl::StrCat("bad ", name, " value '", *value, "'"));
  }
  return kb;
}

// Fields of /proc/.../stat, numbered as in proc(5): result[0] is field 3.
absl::StatusOr<std::vector<std::string>> StatFieldsFrom3(const std::string& stat) {
  // comm (field 2) may contain spaces and parentheses: count from the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) {
    return absl::InternalError("malformed stat");
  }
  return std::vector<std::string>(
      absl::StrSplit(absl::string_view(stat).substr(close + 2), ' ', absl::SkipEmpty()));
}

std::string Plural(const std::set<int>& cpus) {
  return absl::StrCat(cpus.size() == 1 ? "CPU " : "CPUs ", FormatCpuList(cpus));
}

std::set<int> Difference(const std::set<int>& a, const std::set<int>& b) {
  std::set<int> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

struct Context {
  pid_t pid;
  pid_t tid;
  const PreflightEnv& env;
  bool live;  // env is the running system: syscalls are authoritative
  std::string task_dir;
  std::string cpu_dir;
};

// The thread's allowed CPUs, or an error saying why they are unknown.
absl::StatusOr<std::set<int>> AllowedCpus(const Context& ctx) {
  if (ctx.live) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(ctx.tid, sizeof(set), &set) == 0) {
      std::set<int> cpus;
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) cpus.insert(cpu);
      }
      return cpus;
    }
    // Fall through to /proc: it has no CPU_SETSIZE limit.
  }
  auto status = ReadKernelFile(ctx.task_dir + "/status");
  if (!status.ok()) return status.status();
  auto list = StatusValue(*status, "Cpus_allowed_list");
  if (!list.ok()) return list.status();
  return ParseCpuList(*list);
}

PreflightFinding CheckAffinity(const absl::StatusOr<std::set<int>>& allowed) {
  PreflightFinding f{"affinity", false, "", ""};
  if (!allowed.ok()) {
    f.detail = absl::StrCat("cannot read the thread's CPU affinity (", allowed.status().message(),
                            ")");
    f.advice = kPinAdvice;
  } else if (allowed->size() == 1) {
    f.ok = true;
    f.detail = absl::StrCat("thread is pinned to CPU ", *allowed->begin());
  } else {
    f.detail = absl::StrCat("thread may run on ", Plural(*allowed));
    f.advice = kPinAdvice;
  }
  return f;
}

// Shared by the isolated_cpu and nohz_full checks: both read a CPU list from
// /sys/devices/system/cpu and require every allowed CPU to be in it.
PreflightFinding CheckCpuListMembership(const Context& ctx,
                                        const absl::StatusOr<std::set<int>>& allowed,
                                        const std::string& check, const std::string& file,
                                        const std::string& what, const std::string& absent_detail,
                                        const std::string& advice) {
  PreflightFinding f{check, false, "", advice};
  const std::string path = absl::StrCat(ctx.cpu_dir, "/", file);
  auto text = ReadKernelFile(path);
  if (!text.ok()) {
    f.detail = absl::IsNotFound(text.status())
                   ? absent_detail
                   : absl::StrCat("cannot read ", path, " (", text.status().message(), ")");
    return f;
  }
  auto listed = ParseCpuList(*text);
  if (!listed.ok()) {
    f.detail = absl::StrCat("cannot parse ", path, ": ", listed.status().message());
    return f;
  }
  if (listed->empty()) {
    f.detail = absl::StrCat("no CPU is ", what, " (", path, " is empty)");
    return f;
  }
  if (!allowed.ok()) {
    f.detail = absl::StrCat("cannot tell whether the thread's CPU is ", what,
                            " (affinity unknown); ", what, ": ", FormatCpuList(*listed));
    return f;
  }
  const std::set<int> outside = Difference(*allowed, *listed);
  if (outside.empty()) {
    f.ok = true;
    f.advice.clear();
    f.detail = absl::StrCat(Plural(*allowed), allowed->size() == 1 ? " is " : " are ", what);
    return f;
  }
  f.detail = absl::StrCat(Plural(outside), outside.size() == 1 ? " is not " : " are not ", what,
                          " (", what, ": ", FormatCpuList(*listed), ")");
  return f;
}

PreflightFinding CheckMemoryLocked(const Context& ctx) {
  PreflightFinding f{"memory_locked", false, "", kMlockAdvice};
  const std::string path = absl::StrCat(ctx.env.proc_root, "/", ctx.pid, "/status");
  auto status = ReadKernelFile(path);
  if (!status.ok()) {
    f.detail = absl::StrCat("cannot read ", path, " (", status.status().message(), ")");
    return f;
  }
  auto locked = StatusKb(*status, "VmLck");
  auto rss = StatusKb(*status, "VmRSS");
  if (!locked.ok() || !rss.ok()) {
    f.detail = absl::StrCat(path, " lacks VmLck/VmRSS");
    return f;
  }
  // After mlockall VmLck (locked virtual size) still trails VmRSS by the few
  // special pages mlockall skips (the vDSO: 4 kB measured here), so allow a
  // small slack rather than flag a fully locked program.
  constexpr long long kSlackKb = 64;
  if (*locked + kSlackKb >= *rss && *locked > 0) {
    f.ok = true;
    f.advice.clear();
    f.detail = absl::StrCat("memory is locked (VmLck ", *locked, " kB, VmRSS ", *rss, " kB)");
  } else if (*locked == 0) {
    f.detail = absl::StrCat("no memory is locked (VmLck 0 kB, VmRSS ", *rss,
                            " kB): a reclaimed or not yet populated page faults in strict mode");
  } else {
    f.detail = absl::StrCat("only ", *locked, " kB of ", *rss,
                            " kB resident memory is locked: other pages may fault in strict mode");
  }
  return f;
}

PreflightFinding CheckClocksource(const Context& ctx) {
  PreflightFinding f{"clocksource", false, "", ""};
  const std::string dir = ctx.env.sys_root + "/devices/system/clocksource/clocksource0";
  auto current = ReadKernelFile(dir + "/current_clocksource");
  if (!current.ok()) {
    f.detail = absl::StrCat("cannot read ", dir, "/current_clocksource (",
                            current.status().message(), ")");
    f.advice = "check that clock_gettime is served by the vDSO (clocksource tsc)";
    return f;
  }
  const std::string name(absl::StripAsciiWhitespace(*current));
  if (name == "tsc") {
    f.ok = true;
    f.detail = "clocksource is tsc: clock_gettime runs in the vDSO without entering the kernel";
    return f;
  }
  // Paravirtual and arm64 clocksources have vDSO modes too, but only while the
  // hypervisor guarantees a stable TSC; worth knowing, not worth refusing.
  if (name == "kvm-clock" || name == "hyperv_clocksource_tsc_page" || name == "arch_sys_counter") {
    f.ok = true;
    f.detail = absl::StrCat("clocksource is ", name,
                            ": clock_gettime uses the vDSO while the host keeps the TSC stable");
    return f;
  }
  f.detail = absl::StrCat("clocksource is ", name,
                          ": clock_gettime and gettimeofday enter the kernel (a syscall violation "
                          "in strict mode) and dp_wait_quiet cannot trust the TSC");
  auto available = ReadKernelFile(dir + "/available_clocksource");
  bool tsc_available = false;
  if (available.ok()) {
    for (absl::string_view word : absl::StrSplit(*available, absl::ByAnyChar(" \n"))) {
      tsc_available |= word == "tsc";
    }
  }
  if (tsc_available) {
    f.advice = absl::StrCat("switch to tsc (echo tsc > ", dir, "/current_clocksource)");
  } else {
    f.advice =
        "the kernel rejected the TSC (see dmesg | grep -i clocksource); boot with tsc=reliable "
        "only if the TSC is known to be invariant and synchronized";
  }
  return f;
}

// With UMIP (User-Mode Instruction Prevention) on, sgdt, sidt, sldt, smsw
// and str in user mode trap, and the kernel emulates them: a kernel entry
// that raises no signal, counts in no perf event and has no tracepoint, so
// dpsupervise cannot see it. Without UMIP they run natively.
PreflightFinding CheckUmip(const Context& ctx) {
  PreflightFinding f{"umip", false, "", ""};
  auto cpuinfo = ReadKernelFile(ctx.env.proc_root + "/cpuinfo");
  if (!cpuinfo.ok()) {
    f.detail = absl::StrCat("cannot read ", ctx.env.proc_root, "/cpuinfo (",
                            cpuinfo.status().message(), "): cannot tell whether the CPU has UMIP");
    f.advice = "check /proc/cpuinfo for the umip flag";
    return f;
  }
  bool umip = false;
  for (absl::string_view line : absl::StrSplit(*cpuinfo, '\n')) {
    if (!absl::StartsWith(line, "flags")) continue;
    for (absl::string_view flag : absl::StrSplit(line, absl::ByAnyChar(" \t:"))) {
      umip |= flag == "umip";
    }
    break;  // every CPU has the same flags
  }
  if (!umip) {
    f.ok = true;
    f.detail = "the CPU has no UMIP: sgdt, sidt, sldt, smsw and str run without a kernel entry";
    return f;
  }
  f.detail =
      "the CPU has UMIP: sgdt, sidt, sldt, smsw and str in a strict thread are emulated by the "
      "kernel, a kernel entry dpsupervise cannot see";
  f.advice =
      "keep those instructions out of strict code (the kernel logs \"umip: ... cannot be used by "
      "applications\" when they run), or boot with clearcpuid=umip so they run natively";
  return f;
}

PreflightFinding CheckThp(const Context& ctx) {
  PreflightFinding f{"thp", false, "", ""};
  // PR_SET_THP_DISABLE on the process overrides the system setting; the
  // status line exists since Linux 5.0.
  auto status = ReadKernelFile(absl::StrCat(ctx.env.proc_root, "/", ctx.pid, "/status"));
  if (status.ok()) {
    auto enabled = StatusValue(*status, "THP_enabled");
    if (enabled.ok() && *enabled == "0") {
      f.ok = true;
      f.detail = "transparent huge pages are disabled for this process (PR_SET_THP_DISABLE)";
      return f;
    }
  }
  const std::string path = ctx.env.sys_root + "/kernel/mm/transparent_hugepage/enabled";
  auto text = ReadKernelFile(path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      f.ok = true;
      f.detail = "kernel has no transparent huge pages";
    } else {
      f.detail = absl::StrCat("cannot read ", path, " (", text.status().message(), ")");
      f.advice = "check that transparent huge pages are madvise or never";
    }
    return f;
  }
  // "always [madvise] never": the bracketed word is the setting.
  const size_t open = text->find('['), close = text->find(']');
  const std::string mode = (open != std::string::npos && close != std::string::npos && open < close)
                               ? text->substr(open + 1, close - open - 1)
                               : std::string(absl::StripAsciiWhitespace(*text));
  if (mode == "never" || mode == "madvise") {
    f.ok = true;
    f.detail = absl::StrCat("transparent huge pages: ", mode,
                            mode == "madvise" ? " (only regions the program madvises)" : "");
    return f;
  }
  f.detail = absl::StrCat("transparent huge pages are '", mode,
                          "': khugepaged may collapse the thread's memory while it runs "
                          "(TLB-flush IPIs, page-table locking) and first touches fault in 2 MiB "
                          "at a time");
  f.advice = absl::StrCat("set madvise or never (echo madvise > ", path,
                          ", or boot with transparent_hugepage=madvise) or call "
                          "prctl(PR_SET_THP_DISABLE); use hugetlbfs pages for large buffers");
  return f;
}

std::string PolicyName(int policy) {
  switch (policy) {
    case SCHED_OTHER: return "SCHED_OTHER";
    case SCHED_FIFO: return "SCHED_FIFO";
    case SCHED_RR: return "SCHED_RR";
    case SCHED_BATCH: return "SCHED_BATCH";
    case SCHED_IDLE: return "SCHED_IDLE";
    case SCHED_DEADLINE: return "SCHED_DEADLINE";
    default: return absl::StrCat("policy ", policy);
  }
}

PreflightFinding CheckSchedPolicy(const Context& ctx) {
  PreflightFinding f{"sched_policy", false, "", ""};
  int policy = -1;
  int priority = 0;
  if (ctx.live) {
    policy = sched_getscheduler(ctx.tid);
    sched_param param{};
    if (policy >= 0 && sched_getparam(ctx.tid, &param) == 0) priority = param.sched_priority;
  }
  if (policy < 0) {
    // proc(5): field 40 is rt_priority, field 41 policy.
    auto stat = ReadKernelFile(ctx.task_dir + "/stat");
    absl::StatusOr<std::vector<std::string>> fields =
        stat.ok() ? StatFieldsFrom3(*stat) : absl::StatusOr<std::vector<std::string>>(stat.status());
    if (!fields.ok() || fields->size() <= 41 - 3 || !absl::SimpleAtoi((*fields)[41 - 3], &policy) ||
        !absl::SimpleAtoi((*fields)[40 - 3], &priority)) {
      f.detail = absl::StrCat("cannot read the thread's scheduling policy (",
                              fields.ok() ? "short stat" : fields.status().message(), ")");
      f.advice = "run it under SCHED_FIFO (chrt -f 1, or sched_setscheduler)";
      return f;
    }
  }
  policy &= ~SCHED_RESET_ON_FORK;
  const std::string name = PolicyName(policy);
  if (policy == SCHED_FIFO || policy == SCHED_RR) {
    f.ok = true;
    f.detail = absl::StrCat("thread runs under ", name, " priority ", priority);
    return f;
  }
  if (policy == SCHED_DEADLINE) {
    f.ok = true;
    f.detail = "thread runs under SCHED_DEADLINE";
    return f;
  }
  f.detail = absl::StrCat("thread runs under ", name,
                          ": any task woken on its CPU (kworkers, stray processes) preempts it");
  f.advice =
      "run it under SCHED_FIFO (chrt -f 1, or sched_setscheduler) and keep kernel work off its "
      "CPU (rcu_nocbs=, irqaffinity=) so nothing there is starved";
  return f;
}

}  // namespace

absl::StatusOr<std::set<int>> ParseCpuList(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  std::set<int> cpus;
  if (text.empty() || text == "(null)") return cpus;
  for (absl::string_view range : absl::StrSplit(text, ',')) {
    std::pair<absl::string_view, absl::string_view> bounds = absl::StrSplit(range, '-');
    int first, last;
    if (!absl::SimpleAtoi(bounds.first, &first)) {
      return absl::InvalidArgumentError(absl::StrCat("bad CPU list '", text, "'"));
    }
    last = first;
    if (!bounds.second.empty() && !absl::SimpleAtoi(bounds.second, &last)) {
      return absl::InvalidArgumentError(absl::StrCat("bad CPU list '", text, "'"));
    }
    // Bounded so a corrupt file cannot make us build a huge set.
    if (first < 0 || last < first || last >= (1 << 16)) {
      return absl::InvalidArgumentError(absl::StrCat("bad CPU range '", range, "'"));
    }
    for (int cpu = first; cpu <= last; ++cpu) cpus.insert(cpu);
  }
  return cpus;
}

std::string FormatCpuList(const std::set<int>& cpus) {
  std::vector<std::string> parts;
  for (auto it = cpus.begin(); it != cpus.end();) {
    const int first = *it;
    int last = first;
    for (++it; it != cpus.end() && *it == last + 1; ++it) last = *it;
    parts.push_back(first == last ? absl::StrCat(first) : absl::StrCat(first, "-", last));
  }
  return absl::StrJoin(parts, ",");
}

std::vector<PreflightFinding> RunPreflight(pid_t pid, pid_t tid) {
  return RunPreflight(pid, tid, PreflightEnv());
}

std::vector<PreflightFinding> RunPreflight(pid_t pid, pid_t tid, const PreflightEnv& env) {
  const Context ctx{pid,
                    tid,
                    env,
                    env.proc_root == "/proc",
                    absl::StrCat(env.proc_root, "/", pid, "/task/", tid),
                    env.sys_root + "/devices/system/cpu"};
  const absl::StatusOr<std::set<int>> allowed = AllowedCpus(ctx);
  std::vector<PreflightFinding> findings;
  findings.push_back(CheckAffinity(allowed));
  findings.push_back(CheckCpuListMembership(
      ctx, allowed, "isolated_cpu", "isolated", "isolated",
      absl::StrCat(ctx.cpu_dir, "/isolated is absent: cannot tell whether the CPU is isolated"),
      kIsolateAdvice));
  findings.push_back(CheckCpuListMembership(
      ctx, allowed, "nohz_full", "nohz_full", "nohz_full",
      "kernel has no nohz_full support (/sys/devices/system/cpu/nohz_full is absent): the "
      "scheduler tick keeps interrupting the CPU",
      "use a kernel built with CONFIG_NO_HZ_FULL and boot with nohz_full=<cpu> rcu_nocbs=<cpu>"));
  findings.push_back(CheckMemoryLocked(ctx));
  findings.push_back(CheckClocksource(ctx));
  findings.push_back(CheckThp(ctx));
  findings.push_back(CheckSchedPolicy(ctx));
  findings.push_back(CheckUmip(ctx));
  return findings;
}

std::string FormatFindings(const std::vector<PreflightFinding>& findings,
                           const std::string& thread_label) {
  std::string out;
  for (const PreflightFinding& f : findings) {
    if (f.ok) continue;
    absl::StrAppend(&out, "dpsupervise: preflight: ", thread_label, ": ", f.detail);
    if (!f.advice.empty()) absl::StrAppend(&out, "; ", f.advice);
    out += '\n';
  }
  return out;
}

absl::Status CheckPreflight(const std::vector<PreflightFinding>& findings, bool enforce) {
  if (!enforce) return absl::OkStatus();
  std::vector<std::string> failed;
  bool placement = false;  // not on one isolated nohz_full CPU
  for (const PreflightFinding& f : findings) {
    if (f.ok) continue;
    failed.push_back(absl::StrCat(f.check, ": ", f.detail));
    placement = placement || f.check == "affinity" || f.check == "isolated_cpu" ||
                f.check == "nohz_full";
  }
  if (failed.empty()) return absl::OkStatus();
  const std::string message =
      absl::StrCat("preflight refused strict entry: ", absl::StrJoin(failed, "; "));
  return placement ? absl::InvalidArgumentError(message) : absl::PermissionDeniedError(message);
}

int PreflightRefusalErrno(const absl::Status& refusal) {
  return absl::IsInvalidArgument(refusal) ? EINVAL : EPERM;
}

}  // namespace dpsupervise
