// syscall_decode.h: strace-style rendering of native x86-64 syscall arguments,
// used in violation reports.
//
// A static table gives every x86-64 syscall of Linux 6.x (and 7.0's additions)
// a signature: its name, its arity and how to render each argument. The
// decoder turns a stopped thread's six argument registers into strings such as
//   write(1, "hello\n", 6)
//   openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)
//   mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
//   kill(1234, SIGTERM)
// reading strings and buffers from the tracee through a caller-supplied
// MemoryReader, so this file has no ptrace dependency and is unit-testable.
//
// Reports are produced at syscall *entry* (seccomp trace stops), so only
// arguments whose memory holds input at that point are read (paths, write
// buffers); output buffers (read's buf, stat's statbuf) render as pointers.
#ifndef DPSUPERVISE_SUPERVISOR_SYSCALLS_SYSCALL_DECODE_H_
#define DPSUPERVISE_SUPERVISOR_SYSCALLS_SYSCALL_DECODE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/syscalls/syscall_flags.h"

namespace dpsupervise {

// How one argument is rendered.
//   kInt     signed decimal                      -1, 4096
//   kUInt    unsigned decimal                    4096
//   kHex     0x-prefixed hex (0 is "0")          0x80000
//   kFd      signed decimal int, -100 is AT_FDCWD  3, AT_FDCWD
//   kPointer NULL or 0x-prefixed hex             0x7ffd1234
//   kString  NUL-terminated string in tracee memory at the arg's address
//            (paths, names): quoted, escaped, at most 64 bytes then "...".
//   kBuffer  bytes at the arg's address whose length is another argument (see
//            ArgSpec::length_arg): quoted, escaped, at most 32 bytes then "...".
//   kSignal  signal name (SIGTERM, SIGRTMIN+2: signal_names.h), decimal
//            outside 1..64 (0)
//   kOctal   0-prefixed octal, at least 3 digits  0644, 000
//   kEnum    one named value of a family (ArgSpec::symbols, syscall_flags.h):
//            CLOCK_MONOTONIC, FUTEX_WAIT_PRIVATE, TCGETS; unnamed values as
//            strace shows them: 0x63 /* CLOCK_??? */
//   kFlags   a set of named flags: PROT_READ|PROT_WRITE, O_RDONLY|O_CLOEXEC,
//            MAP_PRIVATE|MAP_ANONYMOUS; unnamed bits as |0x100
//   kPollFds an array of struct pollfd whose length is another argument
//            (ArgSpec::length_arg), read from the tracee, as strace shows it:
//            [{fd=3, events=POLLIN}, {fd=-1}] (a negative fd has no events);
//            at most 16 entries, then "..."; JSON kind "struct"
//   kEpollEvent  a struct epoll_event read from the tracee:
//            {events=EPOLLIN|EPOLLET, data={u32=3, u64=3}}; JSON kind "struct"
//   kFcntlArg fcntl's third argument, by its command (the argument before):
//            F_SETFL's O_ flags, F_SETFD's FD_CLOEXEC, F_SETSIG's signal,
//            F_SETLEASE's lock type, F_DUPFD's and F_SETOWN's number; a
//            pointer for the commands that take one, hex otherwise (and for
//            commands without an argument, which strace leaves out); its
//            JSON kind is that of the rendering ("flags", "int", ...)
enum class ArgKind {
  kInt,
  kUInt,
  kHex,
  kFd,
  kPointer,
  kString,
  kBuffer,
  kSignal,
  kOctal,
  kEnum,
  kFlags,
  kPollFds,
  kEpollEvent,
  kFcntlArg,
};

struct ArgSpec {
  ArgKind kind;
  const char* name;
  // For kBuffer: index of the argument holding the buffer's length.
  int length_arg = -1;
  // For kInt, kUInt and kHex: the parameter is 64 bits wide (long, off_t,
  // size_t, unsigned long), so all of the register is meaningful. Otherwise
  // the parameter is a C int/unsigned int: the kernel ignores the upper 32
  // bits, so the decoder does too (a -1 fd passed in a 64-bit register as
  // 0x00000000ffffffff must still print as -1).
  bool wide = false;
  // For kEnum and kFlags: the family of names.
  Symbols symbols = Symbols::kNone;
  // When >= 0, the argument exists only if argument `shown_if_arg` has one
  // of the bits `shown_if_bits` set, and is left out otherwise, as strace
  // leaves it out: open's mode, read only with O_CREAT or O_TMPFILE.
  int shown_if_arg = -1;
  uint64_t shown_if_bits = 0;
};

struct SyscallSignature {
  const char* name;
  int nargs;
  ArgSpec args[6];
};

// Signature of native x86-64 syscall `nr`, or nullptr if unknown. O(1).
const SyscallSignature* FindX86_64Signature(uint64_t nr);

// Reads up to `max` bytes at `addr` from the tracee; nullopt if unreadable.
// May return fewer bytes (e.g. when the range crosses into an unmapped page).
using MemoryReader = std::function<std::optional<std::string>(uint64_t addr, size_t max)>;

struct DecodedArg {
  std::string name;  // e.g. "fd", "buf", "count" (from the signature), or "arg0".. when unknown
  // "int","uint","hex","fd","pointer","string","buffer","signal","octal","enum","flags"
  std::string kind;
  uint64_t raw = 0;  // register value
  std::string text;  // rendered strace-style, e.g. 1, 0x7ffd1234, "hello\n"..., SIGTERM, 0644, NULL
};

// Decodes the arguments of native x86-64 syscall `nr`: one entry per
// parameter of its signature (none for getpid), except a conditional one
// (ArgSpec::shown_if_arg) whose condition does not hold. For unknown syscalls returns
// six kHex args named arg0..arg5, since the arity is not known.
std::vector<DecodedArg> DecodeSyscallArgs(uint64_t nr, const std::array<uint64_t, 6>& args,
                                          const MemoryReader& read);

// How many arguments the syscall `name` of a foreign ABI takes, so that
// only those are shown: for x32 (the x86-64 calling convention) that of the
// x86-64 syscall of the same name; for x86-32 (`x86_32`) the same, except
// for the calls whose arguments differ in number there (a 64-bit value
// split over two registers: pread64, fallocate, ...; old_mmap and
// old_select, which take one pointer) and those only it has (mmap2,
// _llseek, socketcall, the *32 uid calls, the *_time64 calls, ...). -1 when
// unknown: a number no table names, or a call the kernel never implemented
// (break, stty, ...).
int ForeignArgCount(bool x86_32, const std::string& name);

// The first `count` registers as raw hex arguments named arg0, arg1, ...;
// all six when `count` is negative (the arity is unknown).
std::vector<DecodedArg> DecodeRawArgs(const std::array<uint64_t, 6>& args, int count);

// "write(1, \"hi\\n\", 3)": name + "(" + texts joined with ", " + ")".
std::string FormatSyscallCall(const std::string& name, const std::vector<DecodedArg>& args);

// C-style escaping of arbitrary bytes for display: \n, \t, \r, \v, \f, \",
// \\ and \xNN (two lowercase hex digits) for other non-printable bytes.
std::string EscapeBytes(const std::string& bytes);

// The DecodedArg::kind string for `kind` ("int", "buffer", ...).
const char* ArgKindName(ArgKind kind);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SYSCALLS_SYSCALL_DECODE_H_
