#include "supervisor/os/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dpsupervise {

absl::StatusOr<std::string> ReadKernelFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  const int saved = errno;
  close(fd);
  if (n < 0) return absl::ErrnoToStatus(saved, absl::StrCat("read ", path));
  return out;
}

absl::StatusOr<std::string> ReadProcFile(const std::string& path) {
  auto contents = ReadKernelFile(path);
  if (!contents.ok() && !absl::IsNotFound(contents.status())) {
    return absl::NotFoundError(contents.status().message());
  }
  return contents;
}

absl::StatusOr<std::string> TaskName(pid_t tid) {
  auto comm = ReadProcFile(absl::StrCat("/proc/", tid, "/comm"));
  if (!comm.ok()) return comm.status();
  return std::string(absl::StripSuffix(*comm, "\n"));
}

std::string TaskLabel(pid_t tid) {
  auto name = TaskName(tid);
  return absl::StrCat(name.ok() ? *name : "?", "/", tid);
}

namespace {

// The first word of the value of "Name:\tvalue" in /proc/<tid>/status
// (values like "VmLck:  0 kB" carry a unit after it).
absl::StatusOr<std::string> StatusFieldWord(pid_t tid, const std::string& field) {
  auto status = ReadProcFile(absl::StrCat("/proc/", tid, "/status"));
  if (!status.ok()) return status.status();
  const std::string prefix = field + ":";
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (!absl::ConsumePrefix(&line, prefix)) continue;
    line = absl::StripAsciiWhitespace(line);
    return std::string(line.substr(0, line.find(' ')));
  }
  return absl::NotFoundError(absl::StrCat("/proc/", tid, "/status has no ", field, " field"));
}

}  // namespace

absl::StatusOr<long long> TaskStatusField(pid_t tid, const std::string& field) {
  auto word = StatusFieldWord(tid, field);
  if (!word.ok()) return word.status();
  long long value;
  if (absl::SimpleAtoi(*word, &value)) return value;
  return absl::InternalError(absl::StrCat("/proc/", tid, "/status: bad ", field, " value"));
}

absl::StatusOr<uint64_t> TaskSignalSet(pid_t tid, const std::string& field) {
  auto word = StatusFieldWord(tid, field);
  if (!word.ok()) return word.status();
  uint64_t set;
  if (absl::SimpleHexAtoi(*word, &set)) return set;
  return absl::InternalError(absl::StrCat("/proc/", tid, "/status: bad ", field, " value"));
}

absl::StatusOr<pid_t> TaskTgid(pid_t tid) {
  auto tgid = TaskStatusField(tid, "Tgid");
  if (!tgid.ok()) return tgid.status();
  return static_cast<pid_t>(*tgid);
}

absl::StatusOr<std::vector<std::string>> TaskStatFields(pid_t tid) {
  auto stat = ReadProcFile(absl::StrCat("/proc/", tid, "/stat"));
  if (!stat.ok()) return stat.status();
  // comm (field 2) may contain spaces and parentheses: count from the last ')'.
  const size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 > stat->size()) {
    return absl::InternalError(absl::StrCat("malformed /proc/", tid, "/stat"));
  }
  return absl::StrSplit(absl::StripTrailingAsciiWhitespace(absl::string_view(*stat).substr(close + 2)),
                        ' ', absl::SkipEmpty());
}

absl::StatusOr<int> TaskCpu(pid_t tid) {
  auto fields = TaskStatFields(tid);
  if (!fields.ok()) return fields.status();
  constexpr size_t kCpuIndex = 39 - 3;
  int cpu;
  if (fields->size() <= kCpuIndex || !absl::SimpleAtoi((*fields)[kCpuIndex], &cpu)) {
    return absl::InternalError("malformed /proc stat");
  }
  return cpu;
}

absl::StatusOr<char> TaskRunState(pid_t tid) {
  auto fields = TaskStatFields(tid);
  if (!fields.ok()) return fields.status();
  if (fields->empty() || (*fields)[0].empty()) return absl::InternalError("malformed /proc stat");
  return (*fields)[0][0];
}

std::vector<MemoryMapping> ParseMaps(const std::string& text) {
  std::vector<MemoryMapping> maps;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    // "start-end perms offset dev inode [name]"; the name may hold spaces.
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(' ', 5));
    if (f.size() < 5) continue;
    std::vector<absl::string_view> range = absl::StrSplit(f[0], '-');
    MemoryMapping m;
    if (range.size() != 2 || !absl::SimpleHexAtoi(range[0], &m.start) ||
        !absl::SimpleHexAtoi(range[1], &m.end) || f[1].size() < 4) {
      continue;
    }
    m.readable = f[1][0] == 'r';
    m.writable = f[1][1] == 'w';
    m.executable = f[1][2] == 'x';
    m.shared = f[1][3] == 's';
    if (!absl::SimpleHexAtoi(f[2], &m.file_offset)) m.file_offset = 0;
    if (f.size() == 6) m.name = std::string(absl::StripLeadingAsciiWhitespace(f[5]));
    maps.push_back(std::move(m));
  }
  return maps;
}

absl::StatusOr<std::vector<MemoryMapping>> ReadMaps(pid_t tid) {
  auto text = ReadProcFile(absl::StrCat("/proc/", tid, "/maps"));
  if (!text.ok()) return text.status();
  return ParseMaps(*text);
}

absl::StatusOr<bool> TaskIsDumpable(pid_t tid) {
  // The files, not the directory: the kernel updates the owner of a file
  // at each lookup, while /proc/<tid> itself keeps the one it had.
  const std::string path = absl::StrCat("/proc/", tid, "/status");
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat("stat ", path, ": ", strerror(errno)));
  }
  auto status = ReadProcFile(path);
  if (!status.ok()) return status.status();
  // "Uid:\treal\teffective\tsaved\tfs".
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (!absl::ConsumePrefix(&line, "Uid:")) continue;
    std::vector<absl::string_view> uids = absl::StrSplit(line, '\t', absl::SkipEmpty());
    uid_t effective;
    if (uids.size() < 2 || !absl::SimpleAtoi(uids[1], &effective)) break;
    return info.st_uid == effective;
  }
  return absl::InternalError(absl::StrCat(path, ": no valid Uid line"));
}

std::string NotDumpableCause(pid_t tid) {
  auto dumpable = TaskIsDumpable(tid);
  if (!dumpable.ok() || *dumpable) return "";
  return absl::StrCat(
      "process ", TaskTgid(tid).value_or(tid),
      " is not dumpable (it called prctl(PR_SET_DUMPABLE, 0), changed its user or group ids, "
      "or runs a set-user-ID or unreadable executable), and the kernel opens the memory and "
      "the perf events of such a process only to a supervisor with CAP_SYS_PTRACE: run "
      "dpsupervise as root (or with CAP_SYS_PTRACE and CAP_PERFMON), or keep the program "
      "dumpable");
}

}  // namespace dpsupervise
