#include "supervisor/report.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dpsupervise {
namespace {

std::string CpuText(int cpu) { return cpu < 0 ? "cpu ?" : absl::StrCat("cpu ", cpu); }

// Foreign ABIs are named, as sandbox2 does: "[x86-32] getpid()".
std::string AbiPrefix(SyscallAbi abi) {
  return abi == SyscallAbi::kX86_64 ? "" : absl::StrCat("[", AbiName(abi), "] ");
}

std::string Headline(const Violation& v) {
  std::string what;
  switch (v.kind) {
    case ViolationKind::kSyscall:
      what = absl::StrCat("syscall ", AbiPrefix(v.syscall.abi), v.syscall.call);
      break;
    default:
      what = ViolationKindName(v.kind);
      break;
  }
  return absl::StrCat("dpsupervise: ", v.thread_name, "/", v.tid, " (", CpuText(v.cpu),
                      "): strict mode violated by ", what, "\n");
}

void AppendRegisters(const user_regs_struct& r, std::string* out) {
  absl::StrAppendFormat(out, "  RIP: %016llx  RSP: %016llx  EFLAGS: %08llx\n", r.rip, r.rsp,
                        r.eflags);
  absl::StrAppendFormat(out, "  RAX: %016llx  RBX: %016llx  RCX: %016llx\n", r.rax, r.rbx, r.rcx);
  absl::StrAppendFormat(out, "  RDX: %016llx  RSI: %016llx  RDI: %016llx\n", r.rdx, r.rsi, r.rdi);
  absl::StrAppendFormat(out, "  RBP: %016llx  R08: %016llx  R09: %016llx\n", r.rbp, r.r8, r.r9);
  absl::StrAppendFormat(out, "  R10: %016llx  R11: %016llx  R12: %016llx\n", r.r10, r.r11, r.r12);
  absl::StrAppendFormat(out, "  R13: %016llx  R14: %016llx  R15: %016llx\n", r.r13, r.r14, r.r15);
  absl::StrAppendFormat(out, "  ORIG_RAX: %016llx  CS: %04llx  SS: %04llx\n", r.orig_rax, r.cs,
                        r.ss);
  absl::StrAppendFormat(out, "  FS_BASE: %016llx  GS_BASE: %016llx\n", r.fs_base, r.gs_base);
}

}  // namespace

std::string FormatTextReport(const Violation& v) {
  std::string out = Headline(v);
  absl::StrAppend(&out, "  kind:    ", ViolationKindName(v.kind), "\n");
  absl::StrAppend(&out, "  thread:  ", v.tid, " (", v.thread_name, ")\n");
  absl::StrAppend(&out, "  process: ", v.pid, " (", v.process_name, ")\n");
  absl::StrAppend(&out, "  cpu:     ", v.cpu < 0 ? "unknown" : absl::StrCat(v.cpu), "\n");
  if (v.kind == ViolationKind::kSyscall) {
    absl::StrAppend(&out, "  syscall: ", v.syscall.call, " [", AbiName(v.syscall.abi), " nr ",
                    v.syscall.nr, "]\n");
  }
  absl::StrAppendFormat(&out, "  pc:      0x%llx\n", v.regs.rip);
  out += "  registers:\n";
  AppendRegisters(v.regs, &out);
  absl::StrAppend(&out, "  action:  ", v.action_detail, "\n");
  return out;
}

ReportWriter::ReportWriter() : fd_(STDERR_FILENO), owned_(false) {}

ReportWriter::~ReportWriter() {
  if (owned_) close(fd_);
}

absl::StatusOr<std::unique_ptr<ReportWriter>> ReportWriter::OpenFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open report file ", path, ": ",
                                                   strerror(errno)));
  }
  return std::unique_ptr<ReportWriter>(new ReportWriter(fd, true));
}

absl::Status ReportWriter::Write(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd_, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("writing the report: ", strerror(errno)));
    }
    done += n;
  }
  return absl::OkStatus();
}

}  // namespace dpsupervise
