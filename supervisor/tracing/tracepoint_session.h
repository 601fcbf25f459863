// tracepoint_session.h: the kernel tracepoints noise attribution needs,
// followed through perf_event_open, read from per-CPU ring buffers and
// decoded with libtraceevent (record layouts come from tracefs's format
// files, never hard-coded offsets). What other CPUs do to a strict one (IPI
// sends, hrtimer arming, migrations) is followed on every online CPU from
// the start; what happens on a CPU (interrupts, switches, work items) only
// on the CPUs the owner asks for (FollowCpu): those strict threads may run on.
//
// Needs root or CAP_PERFMON (raw tracepoint samples of every task) and
// tracefs (mounted by libtracefs when it is not). The buffers never wake
// the reader: a wakeup is an irq_work on the CPU that wrote the record,
// which would itself be noise on a strict CPU. The owner drains them
// periodically instead.
#ifndef DPSUPERVISE_SUPERVISOR_TRACING_TRACEPOINT_SESSION_H_
#define DPSUPERVISE_SUPERVISOR_TRACING_TRACEPOINT_SESSION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "supervisor/tracing/kernel_symbols.h"
#include "supervisor/tracing/trace_record.h"

struct tep_handle;
struct tep_event;

namespace dpsupervise {

class TracepointSession {
 public:
  // Opens and enables every tracepoint on every online CPU. Fails, saying
  // what is missing (tracefs, a tracepoint, the privilege), when any
  // cannot be followed: a partial trace would blame the wrong causes.
  static absl::StatusOr<std::unique_ptr<TracepointSession>> Open();
  ~TracepointSession();
  TracepointSession(const TracepointSession&) = delete;
  TracepointSession& operator=(const TracepointSession&) = delete;

  // Follows the interrupts, switches and work items of `cpu` from now on
  // (until the session ends). Each CPU costs one PERF_EVENT_IOC_ENABLE per
  // tracepoint once (a cross-CPU call to it): the owner calls this while
  // the strict thread that may run there is stopped, before its window.
  absl::Status FollowCpu(int cpu);
  const std::set<int>& followed_cpus() const { return followed_cpus_; }

  // Appends every record written since the last call, in time order within
  // each CPU (not across CPUs: the caller merges). Times are CLOCK_REALTIME,
  // the clock of a violation's time_ns.
  absl::Status Drain(std::vector<TraceRecord>* records);

  // Records the kernel dropped because a ring buffer was full.
  long long lost_records() const { return lost_records_; }

 private:
  struct Tracepoint {
    TraceEventType type;
    tep_event* event;
    const char* ipi_type;  // irq_vectors entries and exits; other vectors: their name
    int where;             // kEveryCpu or kStrictCpus (tracepoint_session.cc)
  };
  struct CpuBuffer {
    int cpu;
    int leader_fd;
    void* map;
    size_t map_size;
  };
  TracepointSession() = default;
  absl::Status OpenCpu(int cpu);
  absl::Status DrainCpu(CpuBuffer& buffer, std::vector<TraceRecord>* records);
  // Closes every event without waiting for the kernel's unregistering.
  void ReleaseEvents();
  // A PERF_RECORD_COMM body (after its header) into a kTaskName record.
  absl::Status DecodeTaskName(const uint8_t* body, size_t size, TraceRecord* record);
  absl::Status DecodeSample(const uint8_t* sample, size_t size, TraceRecord* record);

  tep_handle* tep_ = nullptr;
  KernelSymbols kernel_symbols_;
  std::vector<Tracepoint> tracepoints_;
  std::map<uint64_t, const Tracepoint*> by_sample_id_;
  std::vector<int> fds_;
  std::map<int, std::vector<int>> strict_cpu_fds_;  // opened disabled, by CPU
  std::set<int> followed_cpus_;
  std::vector<CpuBuffer> buffers_;
  std::vector<uint8_t> wrapped_;  // a record split by the buffer's end, joined
  long long lost_records_ = 0;
  int64_t realtime_offset_ns_ = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACING_TRACEPOINT_SESSION_H_
