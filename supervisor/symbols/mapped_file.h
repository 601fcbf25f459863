// mapped_file.h: opening the files mapped in a traced process, for libdwfl.
//
// /proc/PID/maps names a mapped file by a path that does not always open:
// the kernel writes a newline in it as "\012", and appends " (deleted)" to a
// file removed (or replaced) since it was mapped. libdwfl's own
// dwfl_linux_proc_find_elf opens the name as it is, so such modules had no
// symbols. FindMappedElf opens them too.
#ifndef DPSUPERVISE_SUPERVISOR_SYMBOLS_MAPPED_FILE_H_
#define DPSUPERVISE_SUPERVISOR_SYMBOLS_MAPPED_FILE_H_

#include <elfutils/libdwfl.h>
#include <sys/types.h>

#include <string>

#include "absl/strings/string_view.h"

namespace dpsupervise {

// `path` as /proc/PID/maps shows it, with the kernel's octal escapes
// ("\012" for a newline) decoded. " (deleted)" stays.
std::string UnescapeMapsPath(absl::string_view path);

// The path /proc/PID/exe links to: the real path, not escaped as in maps,
// with " (deleted)" appended when the file is gone; "" when unreadable.
std::string ExecutablePath(pid_t pid);

// A libdwfl find_elf callback for modules reported by
// dwfl_linux_proc_report. Names that open as they are, and the vDSO, are
// left to dwfl_linux_proc_find_elf. An escaped name opens by its decoded
// path; a deleted file through /proc/PID/exe when it is the main
// executable, else through /proc/PID/map_files/START-END (which the kernel
// opens only for CAP_SYS_ADMIN in the initial user namespace). PID is the
// one SetModulesPid stored in the module; without it, or when nothing
// opens, dwfl_linux_proc_find_elf decides (for a deleted file it reads the
// loaded image from memory: dynamic symbols only).
int FindMappedElf(Dwfl_Module* module, void** userdata, const char* module_name,
                  Dwarf_Addr base, char** file_name, Elf** elfp);

// Stores `pid` (any live thread of the process) in the userdata of every
// module of `dwfl`, for FindMappedElf. Call after dwfl_report_end.
void SetModulesPid(Dwfl* dwfl, pid_t pid);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SYMBOLS_MAPPED_FILE_H_
