#include "supervisor/trace/fault_detector.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "supervisor/os/procfs.h"

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif

namespace dpsupervise {

absl::StatusOr<PageFaultDetector> PageFaultDetector::Open(pid_t tid, bool enabled) {
  perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_PAGE_FAULTS;
  attr.sample_period = 1;
  // PERF_SAMPLE_ADDR makes the kernel put the faulting address in si_addr.
  attr.sample_type = PERF_SAMPLE_ADDR;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  attr.sigtrap = 1;
  // The kernel requires it with sigtrap; exec also ends strict mode's
  // address-space assumptions.
  attr.remove_on_exec = 1;
  attr.sig_data = kPageFaultCookie;
  attr.disabled = enabled ? 0 : 1;
  int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) {
    const int err = errno;
    std::string why;
    const std::string not_dumpable =
        err == EACCES || err == EPERM ? NotDumpableCause(tid) : std::string();
    if (!not_dumpable.empty()) {
      why = absl::StrCat(": ", not_dumpable);
    } else if (err == EACCES || err == EPERM) {
      auto paranoid = ReadProcFile("/proc/sys/kernel/perf_event_paranoid");
      why = absl::StrCat(" (kernel.perf_event_paranoid is ",
                         paranoid.ok() ? std::string(absl::StripTrailingAsciiWhitespace(*paranoid))
                                       : "unreadable",
                         ", or a seccomp/LSM policy forbids perf_event_open)");
    } else if (err == ENOSYS || err == ENOENT || err == EINVAL) {
      why = " (this kernel lacks software perf events with sigtrap, Linux 5.13+)";
    }
    return absl::UnavailableError(
        absl::StrCat("perf_event_open(PAGE_FAULTS, tid ", tid, "): ", strerror(err), why));
  }
  return PageFaultDetector(fd, enabled);
}

PageFaultDetector::PageFaultDetector(PageFaultDetector&& other) noexcept
    : fd_(other.fd_), enabled_(other.enabled_) {
  other.fd_ = -1;
  other.enabled_ = false;
}

PageFaultDetector& PageFaultDetector::operator=(PageFaultDetector&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    enabled_ = other.enabled_;
    other.fd_ = -1;
    other.enabled_ = false;
  }
  return *this;
}

PageFaultDetector::~PageFaultDetector() {
  if (fd_ >= 0) close(fd_);
}

absl::Status PageFaultDetector::Enable() {
  if (fd_ < 0) return absl::FailedPreconditionError("page-fault detector not open");
  if (ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0) != 0) {
    return absl::InternalError(absl::StrCat("ioctl(PERF_EVENT_IOC_ENABLE): ", strerror(errno)));
  }
  enabled_ = true;
  return absl::OkStatus();
}

absl::Status PageFaultDetector::Disable() {
  if (fd_ < 0) return absl::OkStatus();
  if (ioctl(fd_, PERF_EVENT_IOC_DISABLE, 0) != 0) {
    return absl::InternalError(absl::StrCat("ioctl(PERF_EVENT_IOC_DISABLE): ", strerror(errno)));
  }
  enabled_ = false;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> PageFaultDetector::Count() const {
  if (fd_ < 0) return absl::FailedPreconditionError("page-fault detector not open");
  uint64_t count = 0;
  if (read(fd_, &count, sizeof(count)) != static_cast<ssize_t>(sizeof(count))) {
    return absl::InternalError(absl::StrCat("reading the page-fault count: ", strerror(errno)));
  }
  return count;
}

PerfSigInfo ReadPerfSigInfo(const siginfo_t& info) {
  // Kernel layout (asm-generic/siginfo.h): _sigfault { void *addr; union {
  // ...; struct { unsigned long data; u32 type; u32 flags; } perf; } }.
  const char* raw = reinterpret_cast<const char*>(&info);
  const size_t perf_offset = offsetof(siginfo_t, si_addr) + sizeof(void*);
  PerfSigInfo perf;
  memcpy(&perf.data, raw + perf_offset, sizeof(perf.data));
  memcpy(&perf.type, raw + perf_offset + sizeof(unsigned long), sizeof(perf.type));
  return perf;
}

bool IsOurPageFaultTrap(const siginfo_t& info) {
  return info.si_signo == SIGTRAP && info.si_code == TRAP_PERF &&
         ReadPerfSigInfo(info).data == kPageFaultCookie;
}

}  // namespace dpsupervise
