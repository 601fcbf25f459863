// fault_detector.h: page-fault detection for one strict thread.
//
// A software PAGE_FAULTS perf event, opened by the supervisor on the tracee
// thread, with sample_period 1, exclude_kernel and sigtrap: each user-mode
// page fault of the thread raises a synchronous SIGTRAP (si_code TRAP_PERF,
// si_addr the faulting address, si_perf_data our cookie) that the monitor sees
// at the thread's signal-delivery-stop. The fault itself has been resolved by
// then; the report is what matters.
#ifndef DPSUPERVISE_SUPERVISOR_TRACE_FAULT_DETECTOR_H_
#define DPSUPERVISE_SUPERVISOR_TRACE_FAULT_DETECTOR_H_

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "absl/status/statusor.h"

namespace dpsupervise {

// si_perf_data of our SIGTRAPs: tells them apart from any perf sigtrap event
// of the program's own.
inline constexpr uint64_t kPageFaultCookie = 0xd95f0a17;

class PageFaultDetector {
 public:
  // Opens the event on thread `tid`, enabled or not (a disabled one is
  // opened ahead of the thread's first strict entry, so that entry costs an
  // Enable, ~1 us, not a perf_event_open, ~150 us on this VM). Fails (with
  // errno and the likely cause: perf_event_paranoid, a non-dumpable
  // process) when perf events are not permitted.
  static absl::StatusOr<PageFaultDetector> Open(pid_t tid, bool enabled = true);

  PageFaultDetector() = default;
  PageFaultDetector(PageFaultDetector&& other) noexcept;
  PageFaultDetector& operator=(PageFaultDetector&& other) noexcept;
  PageFaultDetector(const PageFaultDetector&) = delete;
  PageFaultDetector& operator=(const PageFaultDetector&) = delete;
  ~PageFaultDetector();

  bool armed() const { return fd_ >= 0 && enabled_; }
  bool open() const { return fd_ >= 0; }
  // Re-arms or disarms without closing (strict re-entry and leave).
  absl::Status Enable();
  absl::Status Disable();
  // User-mode page faults counted while enabled since Open (one SIGTRAP was
  // raised for each, delivered unless the thread had SIGTRAP blocked).
  absl::StatusOr<uint64_t> Count() const;

 private:
  PageFaultDetector(int fd, bool enabled) : fd_(fd), enabled_(enabled) {}
  int fd_ = -1;
  bool enabled_ = false;
};

// Fields of a TRAP_PERF siginfo that glibc's siginfo_t does not name.
struct PerfSigInfo {
  uint64_t data = 0;  // the event's sig_data
  uint32_t type = 0;  // the event's perf type
};
PerfSigInfo ReadPerfSigInfo(const siginfo_t& info);

// True when `info` is the SIGTRAP of our page-fault event.
bool IsOurPageFaultTrap(const siginfo_t& info);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACE_FAULT_DETECTOR_H_
