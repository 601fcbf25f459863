#include "supervisor/symbols/mapped_file.h"

#include <fcntl.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

constexpr absl::string_view kDeleted = " (deleted)";

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// An fd of `path` when it is a regular file (a device could block on open).
int OpenRegular(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return -1;
  }
  return fd;
}

// The "START-END" of the mapping of `pid` that starts at `start`, or "".
std::string MappingRange(pid_t pid, uint64_t start) {
  absl::StatusOr<std::vector<MemoryMapping>> maps = ReadMaps(pid);
  if (!maps.ok()) return "";
  for (const MemoryMapping& m : *maps) {
    if (m.start == start) return absl::StrFormat("%x-%x", m.start, m.end);
  }
  return "";
}

// The file of the module at `base` in `pid`, whose decoded maps name is
// `path`, or -1.
int OpenMappedFile(pid_t pid, const std::string& path, uint64_t base) {
  if (!absl::EndsWith(path, kDeleted)) {
    const int fd = OpenRegular(path);
    if (fd >= 0) return fd;
  }
  const std::string exe = absl::StrCat("/proc/", pid, "/exe");
  if (ExecutablePath(pid) == path) {
    const int fd = OpenRegular(exe);
    if (fd >= 0) return fd;
  }
  const std::string range = MappingRange(pid, base);
  if (range.empty()) return -1;
  return OpenRegular(absl::StrCat("/proc/", pid, "/map_files/", range));
}

}  // namespace

std::string ExecutablePath(pid_t pid) {
  char buf[4096];
  const ssize_t n = readlink(absl::StrCat("/proc/", pid, "/exe").c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, n) : "";
}

std::string UnescapeMapsPath(absl::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 3 < path.size() && IsOctal(path[i + 1]) &&
        IsOctal(path[i + 2]) && IsOctal(path[i + 3])) {
      out += static_cast<char>(((path[i + 1] - '0') << 6) | ((path[i + 2] - '0') << 3) |
                               (path[i + 3] - '0'));
      i += 3;
    } else {
      out += path[i];
    }
  }
  return out;
}

int FindMappedElf(Dwfl_Module* module, void** userdata, const char* module_name,
                  Dwarf_Addr base, char** file_name, Elf** elfp) {
  const pid_t pid = static_cast<pid_t>(reinterpret_cast<intptr_t>(*userdata));
  if (pid > 0 && module_name != nullptr && module_name[0] == '/') {
    const std::string path = UnescapeMapsPath(module_name);
    if (path != module_name || absl::EndsWith(path, kDeleted)) {
      const int fd = OpenMappedFile(pid, path, base);
      Elf* elf = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP_PRIVATE, nullptr) : nullptr;
      if (elf != nullptr) {
        // The path, for the debug-file search next to it.
        std::string real = path;
        if (absl::EndsWith(real, kDeleted)) real.resize(real.size() - kDeleted.size());
        *file_name = strdup(real.c_str());
        *elfp = elf;
        return fd;
      }
      if (fd >= 0) close(fd);
    }
  }
  return dwfl_linux_proc_find_elf(module, userdata, module_name, base, file_name, elfp);
}

void SetModulesPid(Dwfl* dwfl, pid_t pid) {
  dwfl_getmodules(
      dwfl,
      [](Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, void* arg) -> int {
        *userdata = arg;
        return DWARF_CB_OK;
      },
      reinterpret_cast<void*>(static_cast<intptr_t>(pid)), 0);
}

}  // namespace dpsupervise
