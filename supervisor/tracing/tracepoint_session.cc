#include "supervisor/tracing/tracepoint_session.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/mount.h>
#include <traceevent/event-parse.h>

#include <algorithm>
#include <iterator>
#include <set>

#include "absl/strings/str_cat.h"
#include "supervisor/noise/preflight.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

// Per CPU: 256 pages (1 MiB) hold 20 ms of a busy CPU's records many times
// over, and 10k IPI sends/s with their sender's stacks (1.2 KiB each) for
// 80 ms, so a drain late by a few ticks under load loses nothing;
// overflow is counted (PERF_RECORD_LOST), never silent.
constexpr size_t kRingPages = 256;

// How long released events are kept registered (ReleaseEvents).
constexpr time_t kKeepEventsSeconds = 2;

// With every ipi_send sample, the sender's user registers and the top of
// its user stack, for its backtrace (UserStackSample). 1 KiB: the frames
// that say who sent the IPI, the libc wrapper and the application
// functions that called it, take a few hundred bytes. More costs records:
// the copy is made at every IPI send on the machine, into the ring the
// records attribution rests on, and at 10k sends/s from one CPU 2 KiB
// copies already lost records under load (a drain late by a few ticks);
// 16 KiB would fill the ring within one tick. Frames further up come from
// the kernel's own frame-pointer walk of the live stack, taken with the
// same sample (PERF_SAMPLE_CALLCHAIN, user part: 8 bytes a frame), which
// sees them when the code keeps frame pointers.
constexpr uint32_t kSenderStackBytes = 1024;
constexpr uint16_t kSenderCallchainDepth = 64;
// PERF_SAMPLE_REGS_USER registers on x86-64 (asm/perf_regs.h): ax bx cx
// dx si di bp sp ip (bits 0-8) and r8..r15 (bits 16-23), in that order in
// the sample: every register DWARF unwinding may start from.
constexpr uint64_t kSenderRegsMask = 0x1ffull | (0xffull << 16);
constexpr int kSenderRegsCount = 17;

// common_flags bits (kernel/trace/trace.h, enum trace_flag_type).
constexpr unsigned kHardirqFlag = 0x08;
constexpr unsigned kSoftirqFlag = 0x10;
constexpr unsigned kNmiFlag = 0x40;

// Where a tracepoint is followed: `kEveryCpu` from the start (what other
// CPUs do to strict ones: IPI sends, timers armed for them, migrations
// away); `kStrictCpus` only on the CPUs strict threads may run on, from the
// first entry there (FollowCpu): what happens on a CPU that runs no strict
// thread is nobody's noise, and tracing it would cost records and
// supervisor time on the busiest CPUs.
enum Where { kEveryCpu, kStrictCpus };

struct Wanted {
  const char* system;
  const char* name;
  TraceEventType type;
  const char* ipi_type;
  Where where = kStrictCpus;
};

// irq_work is missing: the kernel refuses to sample irq_work_exit
// (TRACE_EVENT_PERF_PERM, EPERM: perf's own wakeups are irq_work).
constexpr Wanted kWanted[] = {
    {"sched", "sched_switch", TraceEventType::kSchedSwitch, nullptr},
    {"sched", "sched_migrate_task", TraceEventType::kSchedMigrate, nullptr, kEveryCpu},
    {"ipi", "ipi_send_cpu", TraceEventType::kIpiSend, nullptr, kEveryCpu},
    {"ipi", "ipi_send_cpumask", TraceEventType::kIpiSend, nullptr, kEveryCpu},
    {"irq_vectors", "call_function_entry", TraceEventType::kIpiEntry, "call_function"},
    {"irq_vectors", "call_function_exit", TraceEventType::kIpiExit, "call_function"},
    {"irq_vectors", "call_function_single_entry", TraceEventType::kIpiEntry,
     "call_function_single"},
    {"irq_vectors", "call_function_single_exit", TraceEventType::kIpiExit, "call_function_single"},
    {"irq_vectors", "reschedule_entry", TraceEventType::kIpiEntry, "reschedule"},
    {"irq_vectors", "reschedule_exit", TraceEventType::kIpiExit, "reschedule"},
    {"irq_vectors", "local_timer_entry", TraceEventType::kTimerEntry, nullptr},
    {"irq_vectors", "local_timer_exit", TraceEventType::kTimerExit, nullptr},
    {"timer", "hrtimer_expire_entry", TraceEventType::kHrtimerExpireEntry, nullptr},
    {"irq", "irq_handler_entry", TraceEventType::kIrqEntry, nullptr},
    {"irq", "irq_handler_exit", TraceEventType::kIrqExit, nullptr},
    {"irq", "softirq_entry", TraceEventType::kSoftirqEntry, nullptr},
    {"irq", "softirq_exit", TraceEventType::kSoftirqExit, nullptr},
    {"workqueue", "workqueue_execute_start", TraceEventType::kWorkStart, nullptr},
};

// Followed when this kernel has them (architecture- and config-dependent);
// absent, their interruptions go unseen, which docs/limitations.md says.
constexpr Wanted kWantedIfPresent[] = {
    {"nmi", "nmi_handler", TraceEventType::kNmiHandler, nullptr},
    {"irq_vectors", "thermal_apic_entry", TraceEventType::kOtherVectorEntry, "thermal_apic"},
    {"irq_vectors", "thermal_apic_exit", TraceEventType::kOtherVectorExit, "thermal_apic"},
    {"irq_vectors", "threshold_apic_entry", TraceEventType::kOtherVectorEntry, "threshold_apic"},
    {"irq_vectors", "threshold_apic_exit", TraceEventType::kOtherVectorExit, "threshold_apic"},
    {"irq_vectors", "deferred_error_apic_entry", TraceEventType::kOtherVectorEntry,
     "deferred_error_apic"},
    {"irq_vectors", "deferred_error_apic_exit", TraceEventType::kOtherVectorExit,
     "deferred_error_apic"},
    {"irq_vectors", "x86_platform_ipi_entry", TraceEventType::kOtherVectorEntry,
     "x86_platform_ipi"},
    {"irq_vectors", "x86_platform_ipi_exit", TraceEventType::kOtherVectorExit, "x86_platform_ipi"},
    {"irq_vectors", "error_apic_entry", TraceEventType::kOtherVectorEntry, "error_apic"},
    {"irq_vectors", "error_apic_exit", TraceEventType::kOtherVectorExit, "error_apic"},
    {"irq_vectors", "spurious_apic_entry", TraceEventType::kOtherVectorEntry, "spurious_apic"},
    {"irq_vectors", "spurious_apic_exit", TraceEventType::kOtherVectorExit, "spurious_apic"},
    // Who armed each hrtimer: tells dpsupervise's own timers apart.
    {"timer", "hrtimer_start", TraceEventType::kHrtimerStart, nullptr, kEveryCpu},
};

long PerfEventOpen(perf_event_attr* attr, int cpu) {
  return syscall(SYS_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

absl::Status Errno(const std::string& what) {
  int error = errno;
  std::string hint;
  if (error == EACCES || error == EPERM) hint = " (needs root or CAP_PERFMON)";
  return absl::PermissionDeniedError(absl::StrCat(what, ": ", strerror(error), hint));
}

// A numeric field of `record`; 0 when the event has no such field.
unsigned long long Number(tep_event* event, const char* name, const void* data) {
  tep_format_field* field = tep_find_any_field(event, name);
  unsigned long long value = 0;
  if (field == nullptr || tep_read_number_field(field, data, &value) != 0) return 0;
  return value;
}

// A string field (fixed char array or __data_loc), up to its NUL.
std::string Text(tep_event* event, const char* name, tep_record* record) {
  int length = 0;
  auto* raw = static_cast<const char*>(tep_get_field_raw(nullptr, event, name, record, &length, 0));
  if (raw == nullptr || length <= 0) return "";
  return std::string(raw, strnlen(raw, length));
}

// The kernel function at `address`, or the address in hex.
std::string Function(const KernelSymbols& symbols, unsigned long long address) {
  if (address == 0) return "";
  const std::string_view name = symbols.FunctionAt(address);
  if (!name.empty()) return std::string(name);
  return absl::StrCat("0x", absl::Hex(address));
}

// The CPUs set in a cpumask field (an array of unsigned longs).
std::vector<int> Cpus(tep_event* event, const char* name, tep_record* record) {
  int length = 0;
  auto* raw = static_cast<const uint8_t*>(tep_get_field_raw(nullptr, event, name, record, &length, 0));
  std::vector<int> cpus;
  if (raw == nullptr) return cpus;
  for (int byte = 0; byte < length; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      if (raw[byte] & (1u << bit)) cpus.push_back(byte * 8 + bit);
    }
  }
  return cpus;
}

constexpr char kTracingDir[] = "/sys/kernel/tracing";

// tracefs, mounted at its usual place when it is not yet (it is not at
// boot on many systems).
absl::Status MountTracefs() {
  const std::string probe = absl::StrCat(kTracingDir, "/events/sched/sched_switch/format");
  if (access(probe.c_str(), R_OK) == 0) return absl::OkStatus();
  if (mount("nodev", kTracingDir, "tracefs", 0, nullptr) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("tracefs is not mounted on ", kTracingDir,
                                                      " and mounting it failed: ",
                                                      strerror(errno), " (needs root)"));
  }
  return absl::OkStatus();
}

// Reads a tracepoint's format file into `tep`.
absl::StatusOr<tep_event*> LoadFormat(tep_handle* tep, const Wanted& wanted) {
  const std::string path =
      absl::StrCat(kTracingDir, "/events/", wanted.system, "/", wanted.name, "/format");
  auto format = ReadKernelFile(path);
  if (!format.ok()) {
    return absl::NotFoundError(absl::StrCat("no tracepoint ", wanted.system, ":", wanted.name,
                                            " (", format.status().message(), ")"));
  }
  if (tep_parse_event(tep, format->data(), format->size(), wanted.system) != TEP_ERRNO__SUCCESS) {
    return absl::DataLossError(absl::StrCat("cannot parse ", path));
  }
  tep_event* event = tep_find_event_by_name(tep, wanted.system, wanted.name);
  if (event == nullptr) return absl::DataLossError(absl::StrCat("cannot parse ", path));
  return event;
}

// Reads a perf sample front to back.
struct SampleReader {
  const uint8_t* data;
  size_t size;
  size_t at = 0;

  size_t Left() const { return size - at; }
  const uint8_t* Here() const { return data + at; }
  void Skip(size_t bytes) { at += std::min(bytes, Left()); }
  bool Take(void* out, size_t bytes) {
    if (bytes > Left()) return false;
    memcpy(out, data + at, bytes);
    at += bytes;
    return true;
  }
};

// PERF_SAMPLE_CALLCHAIN, { u64 nr; u64 ips[nr]; }, with only its user part
// (exclude_callchain_kernel): the addresses, without the context markers.
bool DecodeUserCallchain(SampleReader* reader, std::vector<uint64_t>* callchain) {
  uint64_t count = 0;
  if (!reader->Take(&count, sizeof(count)) || count > reader->Left() / sizeof(uint64_t)) {
    return false;
  }
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t ip = 0;
    reader->Take(&ip, sizeof(ip));
    if (ip < static_cast<uint64_t>(PERF_CONTEXT_MAX)) callchain->push_back(ip);
  }
  return true;
}

// The PERF_SAMPLE_REGS_USER and PERF_SAMPLE_STACK_USER parts of a sample,
// which follow its raw data: { u64 abi; u64 regs[kSenderRegsCount] (when
// abi is not NONE) } { u64 size; char data[size]; u64 dyn_size (when size
// is not 0) }. Null for a task without user space (a kernel thread) or a
// 32-bit one (its registers are not x86-64's).
absl::StatusOr<std::shared_ptr<const UserStackSample>> DecodeUserStack(
    SampleReader* reader, std::vector<uint64_t> callchain) {
  uint64_t abi = 0;
  if (!reader->Take(&abi, sizeof(abi))) {
    return absl::DataLossError("a sample without its user registers");
  }
  uint64_t regs[kSenderRegsCount] = {};
  if (abi != PERF_SAMPLE_REGS_ABI_NONE && !reader->Take(regs, sizeof(regs))) {
    return absl::DataLossError("a sample with truncated user registers");
  }
  uint64_t stack_size = 0;
  if (!reader->Take(&stack_size, sizeof(stack_size))) {
    return absl::DataLossError("a sample without its user stack");
  }
  const uint8_t* stack = reader->Here();
  uint64_t copied = 0;
  if (stack_size != 0) {
    if (stack_size > reader->Left()) return absl::DataLossError("a truncated user stack");
    reader->Skip(stack_size);
    if (!reader->Take(&copied, sizeof(copied)) || copied > stack_size) {
      return absl::DataLossError("a sample with a truncated user stack");
    }
  }
  if (abi != PERF_SAMPLE_REGS_ABI_64) return std::shared_ptr<const UserStackSample>();
  auto sample = std::make_shared<UserStackSample>();
  user_regs_struct& r = sample->regs;
  // kSenderRegsMask's order.
  unsigned long long* const order[kSenderRegsCount] = {
      &r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rbp, &r.rsp, &r.rip,
      &r.r8,  &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15,
  };
  for (int i = 0; i < kSenderRegsCount; ++i) *order[i] = regs[i];
  sample->stack.assign(stack, stack + copied);
  sample->callchain = std::move(callchain);
  return std::shared_ptr<const UserStackSample>(std::move(sample));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TracepointSession>> TracepointSession::Open() {
  absl::Status mounted = MountTracefs();
  if (!mounted.ok()) return mounted;
  std::unique_ptr<TracepointSession> session(new TracepointSession());
  session->tep_ = tep_alloc();
  if (session->tep_ == nullptr) return absl::ResourceExhaustedError("tep_alloc failed");
  tep_set_long_size(session->tep_, sizeof(long));
  // Callsites and timer functions are kernel addresses; their names come
  // from kallsyms (addresses read as 0 without privilege: then hex stays).
  auto kallsyms = ReadKernelFile("/proc/kallsyms");
  if (kallsyms.ok()) session->kernel_symbols_ = KernelSymbols(std::move(*kallsyms));
  // Reserved whole: by_sample_id_ points into it.
  session->tracepoints_.reserve(std::size(kWanted) + std::size(kWantedIfPresent));
  for (const Wanted& wanted : kWanted) {
    auto event = LoadFormat(session->tep_, wanted);
    if (!event.ok()) return event.status();
    session->tracepoints_.push_back({wanted.type, *event, wanted.ipi_type, wanted.where});
  }
  for (const Wanted& wanted : kWantedIfPresent) {
    auto event = LoadFormat(session->tep_, wanted);
    if (absl::IsNotFound(event.status())) continue;
    if (!event.ok()) return event.status();
    session->tracepoints_.push_back({wanted.type, *event, wanted.ipi_type, wanted.where});
  }
  auto online = ReadKernelFile("/sys/devices/system/cpu/online");
  if (!online.ok()) return online.status();
  auto cpus = ParseCpuList(*online);
  if (!cpus.ok()) return cpus.status();
  for (int cpu : *cpus) {
    absl::Status opened = session->OpenCpu(cpu);
    if (!opened.ok()) return opened;
  }
  return session;
}

TracepointSession::~TracepointSession() {
  for (CpuBuffer& buffer : buffers_) munmap(buffer.map, buffer.map_size);
  ReleaseEvents();
  if (tep_ != nullptr) tep_free(tep_);
}

void TracepointSession::ReleaseEvents() {
  // The last close of a tracepoint's events waits for an RCU grace period
  // under the kernel's event_mutex (perf_trace_event_unreg ->
  // tracepoint_synchronize_unregister: ~30 ms each here, one after
  // another): closing them here would hold dpsupervise's exit for 0.75 s.
  // A detached grandchild that holds nothing else (no pipe, no terminal:
  // nobody waits for it) makes those last closes instead; ours are then
  // cheap. It keeps the events, disabled, for kKeepEventsSeconds first: a
  // dpsupervise started meanwhile (a script's next run, a test suite)
  // opens tracepoints still registered, and then neither it waits for
  // these unregisterings (they hold the event_mutex its opens need) nor
  // are they made at all (not the last user any more). Everything it needs
  // is computed before the fork (the child of a threaded process may only
  // make async-signal-safe calls).
  std::vector<int> sorted = fds_;
  std::sort(sorted.begin(), sorted.end());
  const pid_t child = fork();
  if (child == 0) {
    if (fork() != 0) _exit(0);  // the grandchild is reparented: no zombie
    unsigned next = 0;
    for (int fd : sorted) {
      if (static_cast<unsigned>(fd) > next) close_range(next, fd - 1, 0);
      next = fd + 1;
    }
    close_range(next, ~0U, 0);
    for (int fd : sorted) ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    const timespec keep{kKeepEventsSeconds, 0};
    while (nanosleep(&keep, nullptr) != 0 && errno == EINTR) {
    }
    for (int fd : sorted) close(fd);
    _exit(0);
  }
  if (child > 0) waitpid(child, nullptr, 0);
  for (int fd : fds_) close(fd);  // without a child: in turn, slowly
}

absl::Status TracepointSession::OpenCpu(int cpu) {
  const size_t page = sysconf(_SC_PAGESIZE);
  int leader = -1;
  bool names_followed = false;
  for (const Tracepoint& tracepoint : tracepoints_) {
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.config = tracepoint.event->id;
    attr.sample_period = 1;
    attr.disabled = tracepoint.where == kStrictCpus;
    attr.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                       PERF_SAMPLE_CPU | PERF_SAMPLE_RAW;
    if (tracepoint.type == TraceEventType::kIpiSend) {
      attr.sample_type |=
          PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
      attr.exclude_callchain_kernel = 1;
      attr.sample_max_stack = kSenderCallchainDepth;
      attr.sample_regs_user = kSenderRegsMask;
      attr.sample_stack_user = kSenderStackBytes;
    }
    if (tracepoint.where == kEveryCpu && !names_followed) {
      // Task names as they change (PR_SET_NAME, exec), stamped like the
      // samples: a sender's name at its send, even when it has exited or
      // been renamed since, and its CPU's switches are not followed.
      attr.comm = 1;
      attr.comm_exec = 1;
      attr.sample_id_all = 1;
      names_followed = true;
    }
    // perf refuses CLOCK_REALTIME (not NMI-safe): samples are stamped
    // with CLOCK_MONOTONIC and shifted to the violations' clock on reading.
    attr.use_clockid = 1;
    attr.clockid = CLOCK_MONOTONIC;
    // Wake the reader only when the buffer is full: it polls instead.
    attr.watermark = 1;
    attr.wakeup_watermark = kRingPages * page;
    long fd = PerfEventOpen(&attr, cpu);
    if (fd < 0) {
      return Errno(absl::StrCat("perf_event_open(", tracepoint.event->system, ":",
                                tracepoint.event->name, ", cpu ", cpu, ")"));
    }
    fds_.push_back(static_cast<int>(fd));
    if (tracepoint.where == kStrictCpus) strict_cpu_fds_[cpu].push_back(static_cast<int>(fd));
    uint64_t id = 0;
    if (ioctl(fd, PERF_EVENT_IOC_ID, &id) != 0) return Errno("PERF_EVENT_IOC_ID");
    by_sample_id_[id] = &tracepoint;
    if (leader < 0) {
      leader = static_cast<int>(fd);
      const size_t size = (kRingPages + 1) * page;
      void* map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, leader, 0);
      if (map == MAP_FAILED) return Errno(absl::StrCat("mmap of the cpu ", cpu, " ring buffer"));
      buffers_.push_back({cpu, leader, map, size});
    } else if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, leader) != 0) {
      return Errno("PERF_EVENT_IOC_SET_OUTPUT");
    }
  }
  return absl::OkStatus();
}

absl::Status TracepointSession::FollowCpu(int cpu) {
  if (followed_cpus_.count(cpu) != 0) return absl::OkStatus();
  auto fds = strict_cpu_fds_.find(cpu);
  if (fds == strict_cpu_fds_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cpu ", cpu, " is not traced (offline when tracing started)"));
  }
  for (int fd : fds->second) {
    if (ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
      return Errno(absl::StrCat("enabling the tracepoints of cpu ", cpu));
    }
  }
  followed_cpus_.insert(cpu);
  return absl::OkStatus();
}

absl::Status TracepointSession::Drain(std::vector<TraceRecord>* records) {
  // Measured at every drain, so a clock step moves only the records after it.
  timespec realtime, monotonic;
  clock_gettime(CLOCK_REALTIME, &realtime);
  clock_gettime(CLOCK_MONOTONIC, &monotonic);
  realtime_offset_ns_ = (realtime.tv_sec - monotonic.tv_sec) * 1000000000LL +
                        (realtime.tv_nsec - monotonic.tv_nsec);
  for (CpuBuffer& buffer : buffers_) {
    absl::Status drained = DrainCpu(buffer, records);
    if (!drained.ok()) return drained;
  }
  return absl::OkStatus();
}

absl::Status TracepointSession::DrainCpu(CpuBuffer& buffer, std::vector<TraceRecord>* records) {
  auto* control = static_cast<perf_event_mmap_page*>(buffer.map);
  const size_t page = sysconf(_SC_PAGESIZE);
  const uint8_t* data = static_cast<const uint8_t*>(buffer.map) + page;
  const uint64_t data_size = kRingPages * page;
  const uint64_t head = __atomic_load_n(&control->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = control->data_tail;
  while (tail < head) {
    perf_event_header header;
    const uint64_t offset = tail % data_size;
    // A record may wrap around the buffer's end: copy it whole first (the
    // header is 8-byte aligned, never split).
    memcpy(&header, data + offset, sizeof(header));
    if (header.size < sizeof(header)) return absl::DataLossError("a perf record of size 0");
    wrapped_.resize(header.size);
    const size_t first = std::min<uint64_t>(header.size, data_size - offset);
    memcpy(wrapped_.data(), data + offset, first);
    memcpy(wrapped_.data() + first, data, header.size - first);
    if (header.type == PERF_RECORD_LOST) {
      // struct { header; u64 id; u64 lost; }
      uint64_t lost = 0;
      memcpy(&lost, wrapped_.data() + sizeof(header) + sizeof(uint64_t), sizeof(lost));
      lost_records_ += static_cast<long long>(lost);
    } else if (header.type == PERF_RECORD_SAMPLE || header.type == PERF_RECORD_COMM) {
      const uint8_t* body = wrapped_.data() + sizeof(header);
      const size_t size = header.size - sizeof(header);
      TraceRecord record;
      absl::Status decoded = header.type == PERF_RECORD_SAMPLE
                                 ? DecodeSample(body, size, &record)
                                 : DecodeTaskName(body, size, &record);
      if (!decoded.ok()) return decoded;
      records->push_back(std::move(record));
    }
    tail += header.size;
  }
  __atomic_store_n(&control->data_tail, tail, __ATOMIC_RELEASE);
  return absl::OkStatus();
}

absl::Status TracepointSession::DecodeTaskName(const uint8_t* body, size_t size,
                                               TraceRecord* record) {
  // struct { u32 pid, tid; char comm[] (NUL-padded to 8 bytes); sample_id }
  // with sample_id_all and this sample_type: { u32 pid, tid; u64 time;
  // u32 cpu, reserved; u64 identifier }.
  struct SampleId {
    uint32_t pid, tid;
    uint64_t time;
    uint32_t cpu, reserved;
    uint64_t identifier;
  } __attribute__((packed)) id;
  uint32_t pid_tid[2];
  if (size < sizeof(pid_tid) + sizeof(id)) return absl::DataLossError("a truncated comm record");
  memcpy(pid_tid, body, sizeof(pid_tid));
  memcpy(&id, body + size - sizeof(id), sizeof(id));
  const char* comm = reinterpret_cast<const char*>(body + sizeof(pid_tid));
  record->type = TraceEventType::kTaskName;
  record->time_ns = static_cast<int64_t>(id.time) + realtime_offset_ns_;
  record->cpu = static_cast<int>(id.cpu);
  record->pid = static_cast<pid_t>(pid_tid[0]);
  record->tid = static_cast<pid_t>(pid_tid[1]);
  record->comm.assign(comm, strnlen(comm, size - sizeof(pid_tid) - sizeof(id)));
  return absl::OkStatus();
}

absl::Status TracepointSession::DecodeSample(const uint8_t* sample, size_t size,
                                             TraceRecord* record) {
  // The layout sample_type asks for: id; pid, tid; time; cpu, reserved;
  // (ipi_send_*: the user callchain); raw size, raw data; (ipi_send_*: the
  // user registers and stack, DecodeUserStack).
  struct Fixed {
    uint64_t id;
    uint32_t pid, tid;
    uint64_t time;
    uint32_t cpu, reserved;
  } __attribute__((packed)) fixed;
  SampleReader reader{sample, size};
  if (!reader.Take(&fixed, sizeof(fixed))) return absl::DataLossError("a truncated perf sample");
  auto it = by_sample_id_.find(fixed.id);
  if (it == by_sample_id_.end()) return absl::DataLossError("a sample of an unknown event");
  const Tracepoint& tracepoint = *it->second;
  const bool send = tracepoint.type == TraceEventType::kIpiSend;
  std::vector<uint64_t> callchain;
  if (send && !DecodeUserCallchain(&reader, &callchain)) {
    return absl::DataLossError("a truncated callchain in a perf sample");
  }
  uint32_t raw_size = 0;
  if (!reader.Take(&raw_size, sizeof(raw_size)) || raw_size > reader.Left()) {
    return absl::DataLossError("a truncated raw sample");
  }
  tep_event* event = tracepoint.event;
  void* raw = const_cast<uint8_t*>(reader.Here());
  reader.Skip(raw_size);
  tep_record tep_sample{};
  tep_sample.data = raw;
  tep_sample.size = static_cast<int>(raw_size);
  tep_sample.cpu = static_cast<int>(fixed.cpu);

  record->type = tracepoint.type;
  record->time_ns = static_cast<int64_t>(fixed.time) + realtime_offset_ns_;
  record->cpu = static_cast<int>(fixed.cpu);
  record->pid = static_cast<pid_t>(fixed.pid);
  record->tid = static_cast<pid_t>(fixed.tid);
  const unsigned flags = Number(event, "common_flags", raw);
  record->in_interrupt = (flags & (kHardirqFlag | kSoftirqFlag | kNmiFlag)) != 0;
  if (tracepoint.ipi_type != nullptr) {
    if (tracepoint.type == TraceEventType::kOtherVectorEntry ||
        tracepoint.type == TraceEventType::kOtherVectorExit) {
      record->vector = tracepoint.ipi_type;
    } else {
      record->ipi_type = tracepoint.ipi_type;
    }
  }
  switch (tracepoint.type) {
    case TraceEventType::kSchedSwitch:
      record->prev_tid = static_cast<pid_t>(Number(event, "prev_pid", raw));
      record->prev_comm = Text(event, "prev_comm", &tep_sample);
      record->prev_state = static_cast<long>(Number(event, "prev_state", raw));
      record->next_tid = static_cast<pid_t>(Number(event, "next_pid", raw));
      record->next_comm = Text(event, "next_comm", &tep_sample);
      break;
    case TraceEventType::kSchedMigrate:
      record->migrated_tid = static_cast<pid_t>(Number(event, "pid", raw));
      record->orig_cpu = static_cast<int>(Number(event, "orig_cpu", raw));
      record->dest_cpu = static_cast<int>(Number(event, "dest_cpu", raw));
      break;
    case TraceEventType::kIpiSend: {
      auto user_stack = DecodeUserStack(&reader, std::move(callchain));
      if (!user_stack.ok()) return user_stack.status();
      // From interrupt context the user state is that of whatever task
      // was interrupted, which did not send it.
      if (!record->in_interrupt) record->user_stack = std::move(*user_stack);
      if (tep_find_field(event, "cpumask") != nullptr) {
        record->target_cpus = Cpus(event, "cpumask", &tep_sample);
      } else {
        record->target_cpus = {static_cast<int>(Number(event, "cpu", raw))};
      }
      record->callsite = Function(kernel_symbols_, Number(event, "callsite", raw));
      record->callback = Function(kernel_symbols_, Number(event, "callback", raw));
      break;
    }
    case TraceEventType::kHrtimerExpireEntry:
      record->function = Function(kernel_symbols_, Number(event, "function", raw));
      record->hrtimer = Number(event, "hrtimer", raw);
      break;
    case TraceEventType::kHrtimerStart:
      record->hrtimer = Number(event, "hrtimer", raw);
      break;
    case TraceEventType::kWorkStart:
      record->function = Function(kernel_symbols_, Number(event, "function", raw));
      break;
    case TraceEventType::kNmiHandler:
      record->function = Function(kernel_symbols_, Number(event, "handler", raw));
      record->nmi_duration_ns = static_cast<int64_t>(Number(event, "delta_ns", raw));
      break;
    case TraceEventType::kIrqEntry:
      record->irq_name = Text(event, "name", &tep_sample);
      [[fallthrough]];
    case TraceEventType::kIrqExit:
      record->irq = static_cast<int>(Number(event, "irq", raw));
      break;
    case TraceEventType::kSoftirqEntry:
    case TraceEventType::kSoftirqExit:
      record->softirq_vector = static_cast<int>(Number(event, "vec", raw));
      break;
    case TraceEventType::kIpiEntry:
    case TraceEventType::kIpiExit:
    case TraceEventType::kTimerEntry:
    case TraceEventType::kTimerExit:
    case TraceEventType::kOtherVectorEntry:
    case TraceEventType::kOtherVectorExit:
    case TraceEventType::kTaskName:  // not a tracepoint: DecodeTaskName
      break;
  }
  return absl::OkStatus();
}

}  // namespace dpsupervise
