#include "supervisor/noise/prefault.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

constexpr size_t kPage = 4096;

}  // namespace

absl::Status PrefaultAddressSpace(pid_t pid) {
  auto maps = ReadMaps(pid);
  if (!maps.ok()) return maps.status();
  std::vector<char> page(kPage);
  for (const MemoryMapping& m : *maps) {
    // vvar and vsyscall are special (PFN/IO) mappings the kernel will not
    // hand out through process_vm_readv.
    if (!m.readable || m.name == "[vvar]" || m.name == "[vvar_vclock]" ||
        m.name == "[vsyscall]") {
      continue;
    }
    for (uint64_t addr = m.start; addr < m.end; addr += kPage) {
      iovec local{page.data(), kPage};
      iovec remote{reinterpret_cast<void*>(addr), kPage};
      if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(kPage)) {
        break;  // e.g. a file mapping past EOF
      }
      // Shared writable mappings have no copy-on-write to break.
      if (m.writable && !m.shared) {
        if (process_vm_writev(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(kPage)) {
          return absl::InternalError(absl::StrCat("process_vm_writev(", pid, ", 0x",
                                                  absl::Hex(addr), "): ", strerror(errno)));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace dpsupervise
