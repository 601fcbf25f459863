#include "supervisor/monitor/breakpoints.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

constexpr uint8_t kInt3 = 0xcc;
constexpr uint64_t kAtEntry = 9;  // auxv: the program's entry point

// The breakpoint bytes are read and written through /proc/TID/mem of a
// live thread of the process: any thread's entry reaches the shared address
// space, while the leader's has none once it has exited (pthread_exit in
// main). Writes go through read-only text (FOLL_FORCE) without the task
// having to be stopped. A process that has gone (no such entry, or no
// address space left to read) is NotFound, which callers treat as such.
absl::Status AccessCode(pid_t tid, uint64_t address, uint8_t* byte, bool write) {
  const std::string path = absl::StrCat("/proc/", tid, "/mem");
  int fd = open(path.c_str(), (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    const std::string message = absl::StrCat("open ", path, ": ", strerror(errno));
    return errno == ENOENT || errno == ESRCH ? absl::NotFoundError(message)
                                             : absl::InternalError(message);
  }
  ssize_t n = write ? pwrite(fd, byte, 1, static_cast<off_t>(address))
                    : pread(fd, byte, 1, static_cast<off_t>(address));
  const int err = errno;
  close(fd);
  if (n == 1) return absl::OkStatus();
  const std::string message =
      absl::StrCat(write ? "writing" : "reading", " the breakpoint byte at 0x", absl::Hex(address),
                   " in ", tid, ": ", n == 0 ? "the process has no memory left" : strerror(err));
  // 0 bytes: the address space is gone (every thread has exited).
  return n == 0 || err == ESRCH ? absl::NotFoundError(message) : absl::InternalError(message);
}

absl::Status PokeByte(pid_t tid, uint64_t address, uint8_t byte) {
  return AccessCode(tid, address, &byte, /*write=*/true);
}

absl::StatusOr<uint8_t> PeekByte(pid_t tid, uint64_t address) {
  uint8_t byte = 0;
  absl::Status read = AccessCode(tid, address, &byte, /*write=*/false);
  if (!read.ok()) return read;
  return byte;
}

absl::StatusOr<uint64_t> EntryPoint(pid_t pid) {
  auto auxv = ReadProcFile(absl::StrCat("/proc/", pid, "/auxv"));
  if (!auxv.ok()) return auxv.status();
  for (size_t i = 0; i + 16 <= auxv->size(); i += 16) {
    uint64_t type, value;
    memcpy(&type, auxv->data() + i, 8);
    memcpy(&value, auxv->data() + i + 8, 8);
    if (type == kAtEntry) return value;
  }
  return absl::NotFoundError("no AT_ENTRY in auxv");
}

}  // namespace

Breakpoints::Breakpoints(const std::vector<CodeLocation>& enter_at,
                         const std::vector<CodeLocation>& leave_at, Resolver resolve)
    : resolve_(std::move(resolve)) {
  for (const CodeLocation& location : enter_at) pending_.push_back({location, Role::kEnter});
  for (const CodeLocation& location : leave_at) pending_.push_back({location, Role::kLeave});
}

const Breakpoints::Breakpoint* Breakpoints::At(uint64_t address) const {
  auto it = inserted_.find(address);
  return it == inserted_.end() ? nullptr : &it->second;
}

absl::Status Breakpoints::Insert(pid_t pid, uint64_t address, Role role,
                                 const std::string& label) {
  if (inserted_.count(address)) return absl::OkStatus();
  auto original = PeekByte(pid, address);
  if (!original.ok()) return original.status();
  absl::Status poked = PokeByte(pid, address, kInt3);
  if (!poked.ok()) return poked;
  inserted_[address] = Breakpoint{address, *original, role, label};
  return absl::OkStatus();
}

void Breakpoints::Remove(pid_t pid, uint64_t address) {
  auto it = inserted_.find(address);
  if (it == inserted_.end()) return;
  (void)PokeByte(pid, address, it->second.original);
  inserted_.erase(it);
}

void Breakpoints::RemoveRole(pid_t pid, Role role) {
  for (auto it = inserted_.begin(); it != inserted_.end();) {
    if (it->second.role != role) {
      ++it;
      continue;
    }
    (void)PokeByte(pid, it->first, it->second.original);
    it = inserted_.erase(it);
  }
}

void Breakpoints::RemoveAll(pid_t pid) {
  for (const auto& [address, breakpoint] : inserted_) {
    (void)PokeByte(pid, address, breakpoint.original);
  }
  inserted_.clear();
}

void Breakpoints::RemoveFromCopy(pid_t pid) const {
  for (const auto& [address, breakpoint] : inserted_) {
    (void)PokeByte(pid, address, breakpoint.original);
  }
}

absl::Status Breakpoints::ArmPending(pid_t pid) {
  std::vector<PendingLocation> still_pending;
  for (const PendingLocation& pending : pending_) {
    auto address = resolve_(pid, pending.location);
    if (absl::IsNotFound(address.status())) {
      still_pending.push_back(pending);  // its library is not loaded yet
      continue;
    }
    if (!address.ok()) return address.status();
    absl::Status inserted = Insert(pid, *address, pending.role, pending.location.text);
    if (!inserted.ok()) return inserted;
  }
  pending_ = std::move(still_pending);
  return absl::OkStatus();
}

absl::Status Breakpoints::ArmAtExec(pid_t pid) {
  absl::Status armed = ArmPending(pid);
  if (!armed.ok()) return armed;
  if (pending_.empty()) return absl::OkStatus();
  auto entry = EntryPoint(pid);
  if (!entry.ok()) return entry.status();
  return Insert(pid, *entry, Role::kEntryPoint, "entry point");
}

absl::Status Breakpoints::Lift(pid_t pid, const Breakpoint& breakpoint) {
  return PokeByte(pid, breakpoint.address, breakpoint.original);
}

absl::Status Breakpoints::Restore(pid_t pid, const Breakpoint& breakpoint) {
  return PokeByte(pid, breakpoint.address, kInt3);
}

}  // namespace dpsupervise
