#include "supervisor/syscalls/syscall_decode.h"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "supervisor/syscalls/signal_names.h"
#include "supervisor/syscalls/syscall_flags.h"

namespace dpsupervise {
namespace {

// strace's default -s is 32 for everything; paths get more room because a
// truncated path is the one detail a policy author needs in full.
constexpr size_t kMaxStringBytes = 64;
constexpr size_t kMaxBufferBytes = 32;
constexpr int32_t kAtFdcwd = -100;

// Shorthands that keep the table one line per syscall. The C type in the
// kernel prototype picks the helper: int-sized parameters use the 32-bit
// forms, long/size_t/off_t ones the wide ("L") forms.
constexpr ArgSpec Int(const char* name) { return {ArgKind::kInt, name}; }
constexpr ArgSpec Long(const char* name) { return {ArgKind::kInt, name, -1, true}; }
constexpr ArgSpec UInt(const char* name) { return {ArgKind::kUInt, name}; }
constexpr ArgSpec ULong(const char* name) { return {ArgKind::kUInt, name, -1, true}; }
constexpr ArgSpec Hex(const char* name) { return {ArgKind::kHex, name}; }
constexpr ArgSpec HexL(const char* name) { return {ArgKind::kHex, name, -1, true}; }
constexpr ArgSpec Fd(const char* name) { return {ArgKind::kFd, name}; }
constexpr ArgSpec Ptr(const char* name) { return {ArgKind::kPointer, name}; }
constexpr ArgSpec Str(const char* name) { return {ArgKind::kString, name}; }
constexpr ArgSpec Buf(const char* name, int length_arg) {
  return {ArgKind::kBuffer, name, length_arg};
}
constexpr ArgSpec Sig(const char* name) { return {ArgKind::kSignal, name}; }
constexpr ArgSpec PollFds(const char* name, int count_arg) {
  return {ArgKind::kPollFds, name, count_arg};
}
constexpr ArgSpec EpollEvent(const char* name) { return {ArgKind::kEpollEvent, name}; }
constexpr ArgSpec FcntlArg(const char* name) { return {ArgKind::kFcntlArg, name, -1, true}; }
constexpr ArgSpec Oct(const char* name) { return {ArgKind::kOctal, name}; }
constexpr ArgSpec Symbolic(ArgKind kind, const char* name, Symbols symbols, bool wide) {
  ArgSpec spec{kind, name};
  spec.wide = wide;
  spec.symbols = symbols;
  return spec;
}
constexpr ArgSpec Enum(const char* name, Symbols symbols) {
  return Symbolic(ArgKind::kEnum, name, symbols, false);
}
constexpr ArgSpec Flags(const char* name, Symbols symbols) {
  return Symbolic(ArgKind::kFlags, name, symbols, false);
}
constexpr ArgSpec FlagsL(const char* name, Symbols symbols) {
  return Symbolic(ArgKind::kFlags, name, symbols, true);
}
constexpr ArgSpec OpenFlags(const char* name) { return Flags(name, Symbols::kOpenFlags); }
// The flags that make open and openat read their mode: O_CREAT, and the
// kernel's single O_TMPFILE bit (glibc's O_TMPFILE adds O_DIRECTORY).
constexpr uint64_t kOpenCreatesFile = O_CREAT | 020000000;
// open's mode, shown only when argument `flags_arg` creates a file.
constexpr ArgSpec OpenMode(const char* name, int flags_arg) {
  ArgSpec spec = Oct(name);
  spec.shown_if_arg = flags_arg;
  spec.shown_if_bits = kOpenCreatesFile;
  return spec;
}

struct SyscallEntry {
  uint64_t nr;
  SyscallSignature sig;
};

// Every native x86-64 syscall, from arch/x86/entry/syscalls/syscall_64.tbl
// (through Linux 7.0) with parameters from include/linux/syscalls.h and the
// man pages. Syscalls the kernel no longer implements (uselib, tuxcall, ...)
// keep their historical prototypes, as strace does: their numbers can still
// be called and should still be named in a report.
constexpr SyscallEntry kX86_64Syscalls[] = {
    {0, {"read", 3, {Fd("fd"), Ptr("buf"), ULong("count")}}},
    {1, {"write", 3, {Fd("fd"), Buf("buf", 2), ULong("count")}}},
    {2, {"open", 3, {Str("pathname"), OpenFlags("flags"), OpenMode("mode", 1)}}},
    {3, {"close", 1, {Fd("fd")}}},
    {4, {"stat", 2, {Str("pathname"), Ptr("statbuf")}}},
    {5, {"fstat", 2, {Fd("fd"), Ptr("statbuf")}}},
    {6, {"lstat", 2, {Str("pathname"), Ptr("statbuf")}}},
    {7, {"poll", 3, {PollFds("fds", 1), UInt("nfds"), Int("timeout")}}},
    {8, {"lseek", 3, {Fd("fd"), Long("offset"), Int("whence")}}},
    {9,
     {"mmap",
      6,
      {Ptr("addr"), ULong("length"), FlagsL("prot", Symbols::kMmapProt),
       FlagsL("flags", Symbols::kMmapFlags), Fd("fd"), HexL("offset")}}},
    {10, {"mprotect", 3, {Ptr("addr"), ULong("len"), FlagsL("prot", Symbols::kMmapProt)}}},
    {11, {"munmap", 2, {Ptr("addr"), ULong("length")}}},
    {12, {"brk", 1, {Ptr("addr")}}},
    {13, {"rt_sigaction", 4, {Sig("signum"), Ptr("act"), Ptr("oldact"), ULong("sigsetsize")}}},
    {14,
     {"rt_sigprocmask",
      4,
      {Enum("how", Symbols::kSigprocmaskHow), Ptr("set"), Ptr("oldset"), ULong("sigsetsize")}}},
    {15, {"rt_sigreturn", 0, {}}},
    {16, {"ioctl", 3, {Fd("fd"), Enum("request", Symbols::kIoctlRequest), HexL("arg")}}},
    {17, {"pread64", 4, {Fd("fd"), Ptr("buf"), ULong("count"), Long("offset")}}},
    {18, {"pwrite64", 4, {Fd("fd"), Buf("buf", 2), ULong("count"), Long("offset")}}},
    {19, {"readv", 3, {Fd("fd"), Ptr("iov"), ULong("iovcnt")}}},
    {20, {"writev", 3, {Fd("fd"), Ptr("iov"), ULong("iovcnt")}}},
    {21, {"access", 2, {Str("pathname"), Int("mode")}}},
    {22, {"pipe", 1, {Ptr("pipefd")}}},
    {23,
     {"select",
      5,
      {Int("nfds"), Ptr("readfds"), Ptr("writefds"), Ptr("exceptfds"), Ptr("timeout")}}},
    {24, {"sched_yield", 0, {}}},
    {25,
     {"mremap",
      5,
      {Ptr("old_address"), ULong("old_size"), ULong("new_size"), HexL("flags"),
       Ptr("new_address")}}},
    {26, {"msync", 3, {Ptr("addr"), ULong("length"), Hex("flags")}}},
    {27, {"mincore", 3, {Ptr("addr"), ULong("length"), Ptr("vec")}}},
    {28, {"madvise", 3, {Ptr("addr"), ULong("length"), Enum("advice", Symbols::kMadviseAdvice)}}},
    {29, {"shmget", 3, {Hex("key"), ULong("size"), Hex("shmflg")}}},
    {30, {"shmat", 3, {Int("shmid"), Ptr("shmaddr"), Hex("shmflg")}}},
    {31, {"shmctl", 3, {Int("shmid"), Int("cmd"), Ptr("buf")}}},
    {32, {"dup", 1, {Fd("oldfd")}}},
    {33, {"dup2", 2, {Fd("oldfd"), Fd("newfd")}}},
    {34, {"pause", 0, {}}},
    {35, {"nanosleep", 2, {Ptr("req"), Ptr("rem")}}},
    {36, {"getitimer", 2, {Int("which"), Ptr("curr_value")}}},
    {37, {"alarm", 1, {UInt("seconds")}}},
    {38, {"setitimer", 3, {Int("which"), Ptr("new_value"), Ptr("old_value")}}},
    {39, {"getpid", 0, {}}},
    {40, {"sendfile", 4, {Fd("out_fd"), Fd("in_fd"), Ptr("offset"), ULong("count")}}},
    {41,
     {"socket",
      3,
      {Enum("domain", Symbols::kAddressFamily), Flags("type", Symbols::kSocketType),
       Int("protocol")}}},
    {42, {"connect", 3, {Fd("sockfd"), Ptr("addr"), Int("addrlen")}}},
    {43, {"accept", 3, {Fd("sockfd"), Ptr("addr"), Ptr("addrlen")}}},
    {44,
     {"sendto",
      6,
      {Fd("sockfd"), Buf("buf", 2), ULong("len"), Flags("flags", Symbols::kMessageFlags),
       Ptr("dest_addr"), Int("addrlen")}}},
    {45,
     {"recvfrom",
      6,
      {Fd("sockfd"), Ptr("buf"), ULong("len"), Flags("flags", Symbols::kMessageFlags),
       Ptr("src_addr"), Ptr("addrlen")}}},
    {46, {"sendmsg", 3, {Fd("sockfd"), Ptr("msg"), Flags("flags", Symbols::kMessageFlags)}}},
    {47, {"recvmsg", 3, {Fd("sockfd"), Ptr("msg"), Flags("flags", Symbols::kMessageFlags)}}},
    {48, {"shutdown", 2, {Fd("sockfd"), Int("how")}}},
    {49, {"bind", 3, {Fd("sockfd"), Ptr("addr"), Int("addrlen")}}},
    {50, {"listen", 2, {Fd("sockfd"), Int("backlog")}}},
    {51, {"getsockname", 3, {Fd("sockfd"), Ptr("addr"), Ptr("addrlen")}}},
    {52, {"getpeername", 3, {Fd("sockfd"), Ptr("addr"), Ptr("addrlen")}}},
    {53,
     {"socketpair",
      4,
      {Enum("domain", Symbols::kAddressFamily), Flags("type", Symbols::kSocketType),
       Int("protocol"), Ptr("sv")}}},
    {54,
     {"setsockopt",
      5,
      {Fd("sockfd"), Int("level"), Int("optname"), Buf("optval", 4), Int("optlen")}}},
    {55,
     {"getsockopt", 5, {Fd("sockfd"), Int("level"), Int("optname"), Ptr("optval"), Ptr("optlen")}}},
    // x86-64 is not CONFIG_CLONE_BACKWARDS*: child_tid comes before tls.
    {56,
     {"clone", 5, {HexL("flags"), Ptr("stack"), Ptr("parent_tid"), Ptr("child_tid"), Ptr("tls")}}},
    {57, {"fork", 0, {}}},
    {58, {"vfork", 0, {}}},
    {59, {"execve", 3, {Str("pathname"), Ptr("argv"), Ptr("envp")}}},
    {60, {"exit", 1, {Int("status")}}},
    {61, {"wait4", 4, {Int("pid"), Ptr("wstatus"), Hex("options"), Ptr("rusage")}}},
    {62, {"kill", 2, {Int("pid"), Sig("sig")}}},
    {63, {"uname", 1, {Ptr("buf")}}},
    {64, {"semget", 3, {Hex("key"), Int("nsems"), Hex("semflg")}}},
    {65, {"semop", 3, {Int("semid"), Ptr("sops"), UInt("nsops")}}},
    {66, {"semctl", 4, {Int("semid"), Int("semnum"), Int("cmd"), HexL("arg")}}},
    {67, {"shmdt", 1, {Ptr("shmaddr")}}},
    {68, {"msgget", 2, {Hex("key"), Hex("msgflg")}}},
    {69, {"msgsnd", 4, {Int("msqid"), Ptr("msgp"), ULong("msgsz"), Hex("msgflg")}}},
    {70, {"msgrcv", 5, {Int("msqid"), Ptr("msgp"), ULong("msgsz"), Long("msgtyp"), Hex("msgflg")}}},
    {71, {"msgctl", 3, {Int("msqid"), Int("cmd"), Ptr("buf")}}},
    {72, {"fcntl", 3, {Fd("fd"), Enum("cmd", Symbols::kFcntlCmd), FcntlArg("arg")}}},
    {73, {"flock", 2, {Fd("fd"), Int("operation")}}},
    {74, {"fsync", 1, {Fd("fd")}}},
    {75, {"fdatasync", 1, {Fd("fd")}}},
    {76, {"truncate", 2, {Str("path"), Long("length")}}},
    {77, {"ftruncate", 2, {Fd("fd"), Long("length")}}},
    {78, {"getdents", 3, {Fd("fd"), Ptr("dirp"), UInt("count")}}},
    {79, {"getcwd", 2, {Ptr("buf"), ULong("size")}}},
    {80, {"chdir", 1, {Str("path")}}},
    {81, {"fchdir", 1, {Fd("fd")}}},
    {82, {"rename", 2, {Str("oldpath"), Str("newpath")}}},
    {83, {"mkdir", 2, {Str("pathname"), Oct("mode")}}},
    {84, {"rmdir", 1, {Str("pathname")}}},
    {85, {"creat", 2, {Str("pathname"), Oct("mode")}}},
    {86, {"link", 2, {Str("oldpath"), Str("newpath")}}},
    {87, {"unlink", 1, {Str("pathname")}}},
    {88, {"symlink", 2, {Str("target"), Str("linkpath")}}},
    {89, {"readlink", 3, {Str("pathname"), Ptr("buf"), Int("bufsiz")}}},
    {90, {"chmod", 2, {Str("pathname"), Oct("mode")}}},
    {91, {"fchmod", 2, {Fd("fd"), Oct("mode")}}},
    // uid_t/gid_t print signed so that the ubiquitous "unchanged" -1 reads as
    // -1, as strace prints it.
    {92, {"chown", 3, {Str("pathname"), Int("owner"), Int("group")}}},
    {93, {"fchown", 3, {Fd("fd"), Int("owner"), Int("group")}}},
    {94, {"lchown", 3, {Str("pathname"), Int("owner"), Int("group")}}},
    {95, {"umask", 1, {Oct("mask")}}},
    {96, {"gettimeofday", 2, {Ptr("tv"), Ptr("tz")}}},
    {97, {"getrlimit", 2, {Int("resource"), Ptr("rlim")}}},
    {98, {"getrusage", 2, {Int("who"), Ptr("usage")}}},
    {99, {"sysinfo", 1, {Ptr("info")}}},
    {100, {"times", 1, {Ptr("buf")}}},
    {101, {"ptrace", 4, {Long("request"), Long("pid"), Ptr("addr"), HexL("data")}}},
    {102, {"getuid", 0, {}}},
    {103, {"syslog", 3, {Int("type"), Ptr("bufp"), Int("len")}}},
    {104, {"getgid", 0, {}}},
    {105, {"setuid", 1, {Int("uid")}}},
    {106, {"setgid", 1, {Int("gid")}}},
    {107, {"geteuid", 0, {}}},
    {108, {"getegid", 0, {}}},
    {109, {"setpgid", 2, {Int("pid"), Int("pgid")}}},
    {110, {"getppid", 0, {}}},
    {111, {"getpgrp", 0, {}}},
    {112, {"setsid", 0, {}}},
    {113, {"setreuid", 2, {Int("ruid"), Int("euid")}}},
    {114, {"setregid", 2, {Int("rgid"), Int("egid")}}},
    {115, {"getgroups", 2, {Int("size"), Ptr("list")}}},
    {116, {"setgroups", 2, {Int("size"), Ptr("list")}}},
    {117, {"setresuid", 3, {Int("ruid"), Int("euid"), Int("suid")}}},
    {118, {"getresuid", 3, {Ptr("ruid"), Ptr("euid"), Ptr("suid")}}},
    {119, {"setresgid", 3, {Int("rgid"), Int("egid"), Int("sgid")}}},
    {120, {"getresgid", 3, {Ptr("rgid"), Ptr("egid"), Ptr("sgid")}}},
    {121, {"getpgid", 1, {Int("pid")}}},
    {122, {"setfsuid", 1, {Int("fsuid")}}},
    {123, {"setfsgid", 1, {Int("fsgid")}}},
    {124, {"getsid", 1, {Int("pid")}}},
    {125, {"capget", 2, {Ptr("hdrp"), Ptr("datap")}}},
    {126, {"capset", 2, {Ptr("hdrp"), Ptr("datap")}}},
    {127, {"rt_sigpending", 2, {Ptr("set"), ULong("sigsetsize")}}},
    {128, {"rt_sigtimedwait", 4, {Ptr("set"), Ptr("info"), Ptr("timeout"), ULong("sigsetsize")}}},
    {129, {"rt_sigqueueinfo", 3, {Int("tgid"), Sig("sig"), Ptr("info")}}},
    {130, {"rt_sigsuspend", 2, {Ptr("mask"), ULong("sigsetsize")}}},
    {131, {"sigaltstack", 2, {Ptr("ss"), Ptr("old_ss")}}},
    {132, {"utime", 2, {Str("filename"), Ptr("times")}}},
    {133, {"mknod", 3, {Str("pathname"), Oct("mode"), Hex("dev")}}},
    {134, {"uselib", 1, {Str("library")}}},
    {135, {"personality", 1, {Hex("persona")}}},
    {136, {"ustat", 2, {Hex("dev"), Ptr("ubuf")}}},
    {137, {"statfs", 2, {Str("path"), Ptr("buf")}}},
    {138, {"fstatfs", 2, {Fd("fd"), Ptr("buf")}}},
    {139, {"sysfs", 3, {Int("option"), HexL("arg1"), HexL("arg2")}}},
    {140, {"getpriority", 2, {Int("which"), Int("who")}}},
    {141, {"setpriority", 3, {Int("which"), Int("who"), Int("prio")}}},
    {142, {"sched_setparam", 2, {Int("pid"), Ptr("param")}}},
    {143, {"sched_getparam", 2, {Int("pid"), Ptr("param")}}},
    {144,
     {"sched_setscheduler", 3, {Int("pid"), Enum("policy", Symbols::kSchedPolicy), Ptr("param")}}},
    {145, {"sched_getscheduler", 1, {Int("pid")}}},
    {146, {"sched_get_priority_max", 1, {Enum("policy", Symbols::kSchedPolicy)}}},
    {147, {"sched_get_priority_min", 1, {Enum("policy", Symbols::kSchedPolicy)}}},
    {148, {"sched_rr_get_interval", 2, {Int("pid"), Ptr("tp")}}},
    {149, {"mlock", 2, {Ptr("addr"), ULong("len")}}},
    {150, {"munlock", 2, {Ptr("addr"), ULong("len")}}},
    {151, {"mlockall", 1, {Hex("flags")}}},
    {152, {"munlockall", 0, {}}},
    {153, {"vhangup", 0, {}}},
    {154, {"modify_ldt", 3, {Int("func"), Ptr("ptr"), ULong("bytecount")}}},
    {155, {"pivot_root", 2, {Str("new_root"), Str("put_old")}}},
    {156, {"_sysctl", 1, {Ptr("args")}}},
    {157,
     {"prctl",
      5,
      {Enum("option", Symbols::kPrctlOption), HexL("arg2"), HexL("arg3"), HexL("arg4"),
       HexL("arg5")}}},
    {158, {"arch_prctl", 2, {Int("code"), HexL("addr")}}},
    {159, {"adjtimex", 1, {Ptr("buf")}}},
    {160, {"setrlimit", 2, {Int("resource"), Ptr("rlim")}}},
    {161, {"chroot", 1, {Str("path")}}},
    {162, {"sync", 0, {}}},
    {163, {"acct", 1, {Str("filename")}}},
    {164, {"settimeofday", 2, {Ptr("tv"), Ptr("tz")}}},
    {165,
     {"mount",
      5,
      {Str("source"), Str("target"), Str("filesystemtype"), HexL("mountflags"), Ptr("data")}}},
    {166, {"umount2", 2, {Str("target"), Hex("flags")}}},
    {167, {"swapon", 2, {Str("path"), Hex("swapflags")}}},
    {168, {"swapoff", 1, {Str("path")}}},
    {169, {"reboot", 4, {Hex("magic"), Hex("magic2"), Hex("cmd"), Ptr("arg")}}},
    {170, {"sethostname", 2, {Buf("name", 1), Int("len")}}},
    {171, {"setdomainname", 2, {Buf("name", 1), Int("len")}}},
    {172, {"iopl", 1, {Int("level")}}},
    {173, {"ioperm", 3, {HexL("from"), ULong("num"), Int("turn_on")}}},
    {174, {"create_module", 2, {Str("name"), ULong("size")}}},
    {175, {"init_module", 3, {Ptr("module_image"), ULong("len"), Str("param_values")}}},
    {176, {"delete_module", 2, {Str("name"), Hex("flags")}}},
    {177, {"get_kernel_syms", 1, {Ptr("table")}}},
    {178,
     {"query_module", 5, {Str("name"), Int("which"), Ptr("buf"), ULong("bufsize"), Ptr("ret")}}},
    {179, {"quotactl", 4, {Hex("cmd"), Str("special"), Int("id"), Ptr("addr")}}},
    {180, {"nfsservctl", 3, {Int("cmd"), Ptr("argp"), Ptr("resp")}}},
    // STREAMS calls, never implemented by Linux.
    {181, {"getpmsg", 5, {Fd("fd"), Ptr("ctlptr"), Ptr("dataptr"), Ptr("bandp"), Ptr("flagsp")}}},
    {182, {"putpmsg", 5, {Fd("fd"), Ptr("ctlptr"), Ptr("dataptr"), Int("band"), Hex("flags")}}},
    // Reserved numbers that never had a Linux prototype.
    {183,
     {"afs_syscall", 5, {HexL("arg0"), HexL("arg1"), HexL("arg2"), HexL("arg3"), HexL("arg4")}}},
    {184, {"tuxcall", 3, {HexL("arg0"), HexL("arg1"), HexL("arg2")}}},
    {185, {"security", 3, {HexL("arg0"), HexL("arg1"), HexL("arg2")}}},
    {186, {"gettid", 0, {}}},
    {187, {"readahead", 3, {Fd("fd"), Long("offset"), ULong("count")}}},
    {188,
     {"setxattr", 5, {Str("path"), Str("name"), Buf("value", 3), ULong("size"), Hex("flags")}}},
    {189,
     {"lsetxattr", 5, {Str("path"), Str("name"), Buf("value", 3), ULong("size"), Hex("flags")}}},
    {190, {"fsetxattr", 5, {Fd("fd"), Str("name"), Buf("value", 3), ULong("size"), Hex("flags")}}},
    {191, {"getxattr", 4, {Str("path"), Str("name"), Ptr("value"), ULong("size")}}},
    {192, {"lgetxattr", 4, {Str("path"), Str("name"), Ptr("value"), ULong("size")}}},
    {193, {"fgetxattr", 4, {Fd("fd"), Str("name"), Ptr("value"), ULong("size")}}},
    {194, {"listxattr", 3, {Str("path"), Ptr("list"), ULong("size")}}},
    {195, {"llistxattr", 3, {Str("path"), Ptr("list"), ULong("size")}}},
    {196, {"flistxattr", 3, {Fd("fd"), Ptr("list"), ULong("size")}}},
    {197, {"removexattr", 2, {Str("path"), Str("name")}}},
    {198, {"lremovexattr", 2, {Str("path"), Str("name")}}},
    {199, {"fremovexattr", 2, {Fd("fd"), Str("name")}}},
    {200, {"tkill", 2, {Int("tid"), Sig("sig")}}},
    {201, {"time", 1, {Ptr("tloc")}}},
    {202,
     {"futex",
      6,
      {Ptr("uaddr"), Enum("futex_op", Symbols::kFutexOp), UInt("val"), Ptr("timeout"), Ptr("uaddr2"),
       Hex("val3")}}},
    {203, {"sched_setaffinity", 3, {Int("pid"), UInt("cpusetsize"), Ptr("mask")}}},
    {204, {"sched_getaffinity", 3, {Int("pid"), UInt("cpusetsize"), Ptr("mask")}}},
    {205, {"set_thread_area", 1, {Ptr("u_info")}}},
    {206, {"io_setup", 2, {UInt("nr_events"), Ptr("ctx_idp")}}},
    {207, {"io_destroy", 1, {HexL("ctx_id")}}},
    {208,
     {"io_getevents",
      5,
      {HexL("ctx_id"), Long("min_nr"), Long("nr"), Ptr("events"), Ptr("timeout")}}},
    {209, {"io_submit", 3, {HexL("ctx_id"), Long("nr"), Ptr("iocbpp")}}},
    {210, {"io_cancel", 3, {HexL("ctx_id"), Ptr("iocb"), Ptr("result")}}},
    {211, {"get_thread_area", 1, {Ptr("u_info")}}},
    {212, {"lookup_dcookie", 3, {HexL("cookie"), Ptr("buffer"), ULong("len")}}},
    {213, {"epoll_create", 1, {Int("size")}}},
    {214, {"epoll_ctl_old", 4, {Fd("epfd"), Int("op"), Fd("fd"), Ptr("event")}}},
    {215, {"epoll_wait_old", 4, {Fd("epfd"), Ptr("events"), Int("maxevents"), Int("timeout")}}},
    {216,
     {"remap_file_pages",
      5,
      {Ptr("addr"), ULong("size"), HexL("prot"), ULong("pgoff"), HexL("flags")}}},
    {217, {"getdents64", 3, {Fd("fd"), Ptr("dirp"), UInt("count")}}},
    {218, {"set_tid_address", 1, {Ptr("tidptr")}}},
    {219, {"restart_syscall", 0, {}}},
    {220, {"semtimedop", 4, {Int("semid"), Ptr("sops"), UInt("nsops"), Ptr("timeout")}}},
    {221, {"fadvise64", 4, {Fd("fd"), Long("offset"), ULong("len"), Int("advice")}}},
    {222, {"timer_create", 3, {Enum("clockid", Symbols::kClockId), Ptr("sevp"), Ptr("timerid")}}},
    {223,
     {"timer_settime",
      4,
      {Int("timerid"), Flags("flags", Symbols::kTimerFlags), Ptr("new_value"), Ptr("old_value")}}},
    {224, {"timer_gettime", 2, {Int("timerid"), Ptr("curr_value")}}},
    {225, {"timer_getoverrun", 1, {Int("timerid")}}},
    {226, {"timer_delete", 1, {Int("timerid")}}},
    {227, {"clock_settime", 2, {Enum("clockid", Symbols::kClockId), Ptr("tp")}}},
    {228, {"clock_gettime", 2, {Enum("clockid", Symbols::kClockId), Ptr("tp")}}},
    {229, {"clock_getres", 2, {Enum("clockid", Symbols::kClockId), Ptr("res")}}},
    {230,
     {"clock_nanosleep",
      4,
      {Enum("clockid", Symbols::kClockId), Flags("flags", Symbols::kTimerFlags), Ptr("request"),
       Ptr("remain")}}},
    {231, {"exit_group", 1, {Int("status")}}},
    {232, {"epoll_wait", 4, {Fd("epfd"), Ptr("events"), Int("maxevents"), Int("timeout")}}},
    {233,
     {"epoll_ctl", 4,
      {Fd("epfd"), Enum("op", Symbols::kEpollCtlOp), Fd("fd"), EpollEvent("event")}}},
    {234, {"tgkill", 3, {Int("tgid"), Int("tid"), Sig("sig")}}},
    {235, {"utimes", 2, {Str("filename"), Ptr("times")}}},
    {236, {"vserver", 5, {HexL("arg0"), HexL("arg1"), HexL("arg2"), HexL("arg3"), HexL("arg4")}}},
    {237,
     {"mbind",
      6,
      {Ptr("addr"), ULong("len"), ULong("mode"), Ptr("nodemask"), ULong("maxnode"), Hex("flags")}}},
    {238, {"set_mempolicy", 3, {Int("mode"), Ptr("nodemask"), ULong("maxnode")}}},
    {239,
     {"get_mempolicy",
      5,
      {Ptr("mode"), Ptr("nodemask"), ULong("maxnode"), Ptr("addr"), HexL("flags")}}},
    {240, {"mq_open", 4, {Str("name"), Hex("oflag"), Oct("mode"), Ptr("attr")}}},
    {241, {"mq_unlink", 1, {Str("name")}}},
    {242,
     {"mq_timedsend",
      5,
      {Fd("mqdes"), Buf("msg_ptr", 2), ULong("msg_len"), UInt("msg_prio"), Ptr("abs_timeout")}}},
    {243,
     {"mq_timedreceive",
      5,
      {Fd("mqdes"), Ptr("msg_ptr"), ULong("msg_len"), Ptr("msg_prio"), Ptr("abs_timeout")}}},
    {244, {"mq_notify", 2, {Fd("mqdes"), Ptr("sevp")}}},
    {245, {"mq_getsetattr", 3, {Fd("mqdes"), Ptr("newattr"), Ptr("oldattr")}}},
    {246, {"kexec_load", 4, {HexL("entry"), ULong("nr_segments"), Ptr("segments"), HexL("flags")}}},
    {247, {"waitid", 5, {Int("idtype"), Int("id"), Ptr("infop"), Hex("options"), Ptr("rusage")}}},
    {248,
     {"add_key",
      5,
      {Str("type"), Str("description"), Buf("payload", 3), ULong("plen"), Int("keyring")}}},
    {249,
     {"request_key",
      4,
      {Str("type"), Str("description"), Str("callout_info"), Int("dest_keyring")}}},
    {250,
     {"keyctl", 5, {Int("operation"), HexL("arg2"), HexL("arg3"), HexL("arg4"), HexL("arg5")}}},
    {251, {"ioprio_set", 3, {Int("which"), Int("who"), Int("ioprio")}}},
    {252, {"ioprio_get", 2, {Int("which"), Int("who")}}},
    {253, {"inotify_init", 0, {}}},
    {254, {"inotify_add_watch", 3, {Fd("fd"), Str("pathname"), Hex("mask")}}},
    {255, {"inotify_rm_watch", 2, {Fd("fd"), Int("wd")}}},
    {256, {"migrate_pages", 4, {Int("pid"), ULong("maxnode"), Ptr("old_nodes"), Ptr("new_nodes")}}},
    {257,
     {"openat", 4, {Fd("dirfd"), Str("pathname"), OpenFlags("flags"), OpenMode("mode", 2)}}},
    {258, {"mkdirat", 3, {Fd("dirfd"), Str("pathname"), Oct("mode")}}},
    {259, {"mknodat", 4, {Fd("dirfd"), Str("pathname"), Oct("mode"), Hex("dev")}}},
    {260,
     {"fchownat", 5, {Fd("dirfd"), Str("pathname"), Int("owner"), Int("group"), Hex("flags")}}},
    {261, {"futimesat", 3, {Fd("dirfd"), Str("pathname"), Ptr("times")}}},
    {262, {"newfstatat", 4, {Fd("dirfd"), Str("pathname"), Ptr("statbuf"), Hex("flags")}}},
    {263, {"unlinkat", 3, {Fd("dirfd"), Str("pathname"), Hex("flags")}}},
    {264, {"renameat", 4, {Fd("olddirfd"), Str("oldpath"), Fd("newdirfd"), Str("newpath")}}},
    {265,
     {"linkat", 5, {Fd("olddirfd"), Str("oldpath"), Fd("newdirfd"), Str("newpath"), Hex("flags")}}},
    {266, {"symlinkat", 3, {Str("target"), Fd("newdirfd"), Str("linkpath")}}},
    {267, {"readlinkat", 4, {Fd("dirfd"), Str("pathname"), Ptr("buf"), Int("bufsiz")}}},
    {268, {"fchmodat", 3, {Fd("dirfd"), Str("pathname"), Oct("mode")}}},
    {269, {"faccessat", 3, {Fd("dirfd"), Str("pathname"), Int("mode")}}},
    {270,
     {"pselect6",
      6,
      {Int("nfds"), Ptr("readfds"), Ptr("writefds"), Ptr("exceptfds"), Ptr("timeout"),
       Ptr("sigmask")}}},
    {271,
     {"ppoll", 5,
      {PollFds("fds", 1), UInt("nfds"), Ptr("tmo_p"), Ptr("sigmask"), ULong("sigsetsize")}}},
    {272, {"unshare", 1, {HexL("flags")}}},
    {273, {"set_robust_list", 2, {Ptr("head"), ULong("len")}}},
    {274, {"get_robust_list", 3, {Int("pid"), Ptr("head_ptr"), Ptr("len_ptr")}}},
    {275,
     {"splice",
      6,
      {Fd("fd_in"), Ptr("off_in"), Fd("fd_out"), Ptr("off_out"), ULong("len"), Hex("flags")}}},
    {276, {"tee", 4, {Fd("fd_in"), Fd("fd_out"), ULong("len"), Hex("flags")}}},
    {277, {"sync_file_range", 4, {Fd("fd"), Long("offset"), Long("nbytes"), Hex("flags")}}},
    {278, {"vmsplice", 4, {Fd("fd"), Ptr("iov"), ULong("nr_segs"), Hex("flags")}}},
    {279,
     {"move_pages",
      6,
      {Int("pid"), ULong("count"), Ptr("pages"), Ptr("nodes"), Ptr("status"), Hex("flags")}}},
    {280, {"utimensat", 4, {Fd("dirfd"), Str("pathname"), Ptr("times"), Hex("flags")}}},
    {281,
     {"epoll_pwait",
      6,
      {Fd("epfd"), Ptr("events"), Int("maxevents"), Int("timeout"), Ptr("sigmask"),
       ULong("sigsetsize")}}},
    {282, {"signalfd", 3, {Fd("fd"), Ptr("mask"), ULong("sizemask")}}},
    {283, {"timerfd_create", 2, {Enum("clockid", Symbols::kClockId), Hex("flags")}}},
    {284, {"eventfd", 1, {UInt("initval")}}},
    {285, {"fallocate", 4, {Fd("fd"), Hex("mode"), Long("offset"), Long("len")}}},
    {286, {"timerfd_settime", 4, {Fd("fd"), Hex("flags"), Ptr("new_value"), Ptr("old_value")}}},
    {287, {"timerfd_gettime", 2, {Fd("fd"), Ptr("curr_value")}}},
    {288, {"accept4", 4, {Fd("sockfd"), Ptr("addr"), Ptr("addrlen"), Hex("flags")}}},
    {289, {"signalfd4", 4, {Fd("fd"), Ptr("mask"), ULong("sizemask"), Hex("flags")}}},
    {290, {"eventfd2", 2, {UInt("initval"), Hex("flags")}}},
    {291, {"epoll_create1", 1, {Hex("flags")}}},
    {292, {"dup3", 3, {Fd("oldfd"), Fd("newfd"), Hex("flags")}}},
    {293, {"pipe2", 2, {Ptr("pipefd"), Hex("flags")}}},
    {294, {"inotify_init1", 1, {Hex("flags")}}},
    // On 64-bit, pos_l carries the whole offset and pos_h is ignored.
    {295, {"preadv", 5, {Fd("fd"), Ptr("iov"), ULong("iovcnt"), Long("pos_l"), ULong("pos_h")}}},
    {296, {"pwritev", 5, {Fd("fd"), Ptr("iov"), ULong("iovcnt"), Long("pos_l"), ULong("pos_h")}}},
    {297, {"rt_tgsigqueueinfo", 4, {Int("tgid"), Int("tid"), Sig("sig"), Ptr("info")}}},
    {298,
     {"perf_event_open", 5, {Ptr("attr"), Int("pid"), Int("cpu"), Fd("group_fd"), HexL("flags")}}},
    {299,
     {"recvmmsg",
      5,
      {Fd("sockfd"), Ptr("msgvec"), UInt("vlen"), Flags("flags", Symbols::kMessageFlags),
       Ptr("timeout")}}},
    {300, {"fanotify_init", 2, {Hex("flags"), Hex("event_f_flags")}}},
    {301,
     {"fanotify_mark",
      5,
      {Fd("fanotify_fd"), Hex("flags"), HexL("mask"), Fd("dirfd"), Str("pathname")}}},
    {302, {"prlimit64", 4, {Int("pid"), Int("resource"), Ptr("new_limit"), Ptr("old_limit")}}},
    {303,
     {"name_to_handle_at",
      5,
      {Fd("dirfd"), Str("pathname"), Ptr("handle"), Ptr("mount_id"), Hex("flags")}}},
    {304, {"open_by_handle_at", 3, {Fd("mount_fd"), Ptr("handle"), Hex("flags")}}},
    {305, {"clock_adjtime", 2, {Enum("clk_id", Symbols::kClockId), Ptr("buf")}}},
    {306, {"syncfs", 1, {Fd("fd")}}},
    {307,
     {"sendmmsg",
      4,
      {Fd("sockfd"), Ptr("msgvec"), UInt("vlen"), Flags("flags", Symbols::kMessageFlags)}}},
    {308, {"setns", 2, {Fd("fd"), Hex("nstype")}}},
    {309, {"getcpu", 3, {Ptr("cpu"), Ptr("node"), Ptr("tcache")}}},
    {310,
     {"process_vm_readv",
      6,
      {Int("pid"), Ptr("local_iov"), ULong("liovcnt"), Ptr("remote_iov"), ULong("riovcnt"),
       HexL("flags")}}},
    {311,
     {"process_vm_writev",
      6,
      {Int("pid"), Ptr("local_iov"), ULong("liovcnt"), Ptr("remote_iov"), ULong("riovcnt"),
       HexL("flags")}}},
    {312, {"kcmp", 5, {Int("pid1"), Int("pid2"), Int("type"), ULong("idx1"), ULong("idx2")}}},
    {313, {"finit_module", 3, {Fd("fd"), Str("param_values"), Hex("flags")}}},
    {314, {"sched_setattr", 3, {Int("pid"), Ptr("attr"), Hex("flags")}}},
    {315, {"sched_getattr", 4, {Int("pid"), Ptr("attr"), UInt("size"), Hex("flags")}}},
    {316,
     {"renameat2",
      5,
      {Fd("olddirfd"), Str("oldpath"), Fd("newdirfd"), Str("newpath"), Hex("flags")}}},
    {317, {"seccomp", 3, {UInt("operation"), Hex("flags"), Ptr("args")}}},
    {318, {"getrandom", 3, {Ptr("buf"), ULong("buflen"), Hex("flags")}}},
    {319, {"memfd_create", 2, {Str("name"), Hex("flags")}}},
    {320,
     {"kexec_file_load",
      5,
      {Fd("kernel_fd"), Fd("initrd_fd"), ULong("cmdline_len"), Str("cmdline"), HexL("flags")}}},
    {321, {"bpf", 3, {Int("cmd"), Ptr("attr"), UInt("size")}}},
    {322, {"execveat", 5, {Fd("dirfd"), Str("pathname"), Ptr("argv"), Ptr("envp"), Hex("flags")}}},
    {323, {"userfaultfd", 1, {Hex("flags")}}},
    {324, {"membarrier", 3, {Int("cmd"), Hex("flags"), Int("cpu_id")}}},
    {325, {"mlock2", 3, {Ptr("addr"), ULong("len"), Hex("flags")}}},
    {326,
     {"copy_file_range",
      6,
      {Fd("fd_in"), Ptr("off_in"), Fd("fd_out"), Ptr("off_out"), ULong("len"), Hex("flags")}}},
    {327,
     {"preadv2",
      6,
      {Fd("fd"), Ptr("iov"), ULong("iovcnt"), Long("pos_l"), ULong("pos_h"), Hex("flags")}}},
    {328,
     {"pwritev2",
      6,
      {Fd("fd"), Ptr("iov"), ULong("iovcnt"), Long("pos_l"), ULong("pos_h"), Hex("flags")}}},
    {329,
     {"pkey_mprotect",
      4,
      {Ptr("addr"), ULong("len"), FlagsL("prot", Symbols::kMmapProt), Int("pkey")}}},
    {330, {"pkey_alloc", 2, {HexL("flags"), HexL("access_rights")}}},
    {331, {"pkey_free", 1, {Int("pkey")}}},
    {332, {"statx", 5, {Fd("dirfd"), Str("pathname"), Hex("flags"), Hex("mask"), Ptr("statxbuf")}}},
    {333,
     {"io_pgetevents",
      6,
      {HexL("ctx_id"), Long("min_nr"), Long("nr"), Ptr("events"), Ptr("timeout"), Ptr("usig")}}},
    {334, {"rseq", 4, {Ptr("rseq"), UInt("rseq_len"), Hex("flags"), Hex("sig")}}},
    // Called only from kernel-installed uprobe trampolines.
    {335, {"uretprobe", 0, {}}},
    {336, {"uprobe", 0, {}}},
    // 337..423 are unused on x86-64 (kept free to align with the generic table).
    {424, {"pidfd_send_signal", 4, {Fd("pidfd"), Sig("sig"), Ptr("info"), Hex("flags")}}},
    {425, {"io_uring_setup", 2, {UInt("entries"), Ptr("p")}}},
    {426,
     {"io_uring_enter",
      6,
      {Fd("fd"), UInt("to_submit"), UInt("min_complete"), Hex("flags"), Ptr("arg"),
       ULong("argsz")}}},
    {427, {"io_uring_register", 4, {Fd("fd"), UInt("opcode"), Ptr("arg"), UInt("nr_args")}}},
    {428, {"open_tree", 3, {Fd("dirfd"), Str("path"), Hex("flags")}}},
    {429,
     {"move_mount",
      5,
      {Fd("from_dirfd"), Str("from_path"), Fd("to_dirfd"), Str("to_path"), Hex("flags")}}},
    {430, {"fsopen", 2, {Str("fsname"), Hex("flags")}}},
    {431, {"fsconfig", 5, {Fd("fd"), UInt("cmd"), Str("key"), Ptr("value"), Int("aux")}}},
    {432, {"fsmount", 3, {Fd("fd"), Hex("flags"), Hex("attr_flags")}}},
    {433, {"fspick", 3, {Fd("dirfd"), Str("path"), Hex("flags")}}},
    {434, {"pidfd_open", 2, {Int("pid"), Hex("flags")}}},
    {435, {"clone3", 2, {Ptr("cl_args"), ULong("size")}}},
    // The usual last fd is ~0U, which reads better unsigned than as -1.
    {436, {"close_range", 3, {Fd("first"), UInt("last"), Hex("flags")}}},
    {437, {"openat2", 4, {Fd("dirfd"), Str("pathname"), Ptr("how"), ULong("size")}}},
    {438, {"pidfd_getfd", 3, {Fd("pidfd"), Int("targetfd"), Hex("flags")}}},
    {439, {"faccessat2", 4, {Fd("dirfd"), Str("pathname"), Int("mode"), Hex("flags")}}},
    {440,
     {"process_madvise",
      5,
      {Fd("pidfd"), Ptr("iovec"), ULong("vlen"), Enum("advice", Symbols::kMadviseAdvice),
       Hex("flags")}}},
    {441,
     {"epoll_pwait2",
      6,
      {Fd("epfd"), Ptr("events"), Int("maxevents"), Ptr("timeout"), Ptr("sigmask"),
       ULong("sigsetsize")}}},
    {442,
     {"mount_setattr", 5, {Fd("dirfd"), Str("path"), Hex("flags"), Ptr("attr"), ULong("size")}}},
    {443, {"quotactl_fd", 4, {Fd("fd"), Hex("cmd"), Int("id"), Ptr("addr")}}},
    {444, {"landlock_create_ruleset", 3, {Ptr("attr"), ULong("size"), Hex("flags")}}},
    {445,
     {"landlock_add_rule",
      4,
      {Fd("ruleset_fd"), Int("rule_type"), Ptr("rule_attr"), Hex("flags")}}},
    {446, {"landlock_restrict_self", 2, {Fd("ruleset_fd"), Hex("flags")}}},
    {447, {"memfd_secret", 1, {Hex("flags")}}},
    {448, {"process_mrelease", 2, {Fd("pidfd"), Hex("flags")}}},
    {449,
     {"futex_waitv",
      5,
      {Ptr("waiters"), UInt("nr_futexes"), Hex("flags"), Ptr("timeout"), Int("clockid")}}},
    {450,
     {"set_mempolicy_home_node",
      4,
      {Ptr("start"), ULong("len"), ULong("home_node"), HexL("flags")}}},
    {451, {"cachestat", 4, {Fd("fd"), Ptr("cstat_range"), Ptr("cstat"), Hex("flags")}}},
    {452, {"fchmodat2", 4, {Fd("dirfd"), Str("pathname"), Oct("mode"), Hex("flags")}}},
    {453, {"map_shadow_stack", 3, {Ptr("addr"), ULong("size"), Hex("flags")}}},
    {454, {"futex_wake", 4, {Ptr("uaddr"), HexL("mask"), Int("nr"), Hex("flags")}}},
    {455,
     {"futex_wait",
      6,
      {Ptr("uaddr"), ULong("val"), HexL("mask"), Hex("flags"), Ptr("timeout"), Int("clockid")}}},
    {456, {"futex_requeue", 4, {Ptr("waiters"), Hex("flags"), Int("nr_wake"), Int("nr_requeue")}}},
    {457, {"statmount", 4, {Ptr("req"), Ptr("buf"), ULong("bufsize"), Hex("flags")}}},
    {458, {"listmount", 4, {Ptr("req"), Ptr("mnt_ids"), ULong("nr_mnt_ids"), Hex("flags")}}},
    {459, {"lsm_get_self_attr", 4, {UInt("attr"), Ptr("ctx"), Ptr("size"), Hex("flags")}}},
    {460, {"lsm_set_self_attr", 4, {UInt("attr"), Ptr("ctx"), UInt("size"), Hex("flags")}}},
    {461, {"lsm_list_modules", 3, {Ptr("ids"), Ptr("size"), Hex("flags")}}},
    {462, {"mseal", 3, {Ptr("addr"), ULong("len"), HexL("flags")}}},
    {463,
     {"setxattrat",
      6,
      {Fd("dirfd"), Str("pathname"), Hex("at_flags"), Str("name"), Ptr("args"), ULong("size")}}},
    {464,
     {"getxattrat",
      6,
      {Fd("dirfd"), Str("pathname"), Hex("at_flags"), Str("name"), Ptr("args"), ULong("size")}}},
    {465,
     {"listxattrat",
      5,
      {Fd("dirfd"), Str("pathname"), Hex("at_flags"), Ptr("list"), ULong("size")}}},
    {466, {"removexattrat", 4, {Fd("dirfd"), Str("pathname"), Hex("at_flags"), Str("name")}}},
    {467,
     {"open_tree_attr", 5, {Fd("dirfd"), Str("path"), Hex("flags"), Ptr("attr"), ULong("size")}}},
    {468,
     {"file_getattr",
      5,
      {Fd("dirfd"), Str("pathname"), Ptr("attr"), ULong("size"), Hex("at_flags")}}},
    {469,
     {"file_setattr",
      5,
      {Fd("dirfd"), Str("pathname"), Ptr("attr"), ULong("size"), Hex("at_flags")}}},
    {470, {"listns", 4, {Ptr("req"), Ptr("ns_ids"), ULong("nr_ns_ids"), Hex("flags")}}},
    {471, {"rseq_slice_yield", 0, {}}},
};

// One past the highest number in kX86_64Syscalls; the dense index below must
// grow with the table.
constexpr uint64_t kIndexSize = 472;

// The table above is written for humans (sorted, with gaps); lookups go
// through this dense number -> position index built at compile time, so
// FindX86_64Signature is a bounds check and two loads.
constexpr std::array<int16_t, kIndexSize> BuildIndex() {
  std::array<int16_t, kIndexSize> index{};
  for (int16_t& slot : index) slot = -1;
  for (size_t i = 0; i < std::size(kX86_64Syscalls); ++i) {
    index[kX86_64Syscalls[i].nr] = static_cast<int16_t>(i);
  }
  return index;
}

// Compile-time guard for the hand-written table: numbers in range and unique,
// arity in range, exactly `nargs` named parameters, buffer lengths pointing
// at another parameter, a family for exactly the symbolic arguments (flags
// for kFlags, enumerations for kEnum), conditions on earlier arguments.
constexpr bool TableIsWellFormed() {
  std::array<bool, kIndexSize> seen{};
  for (const SyscallEntry& entry : kX86_64Syscalls) {
    if (entry.nr >= kIndexSize || seen[entry.nr]) return false;
    seen[entry.nr] = true;
    const SyscallSignature& sig = entry.sig;
    if (sig.name == nullptr || sig.nargs < 0 || sig.nargs > 6) return false;
    for (int i = 0; i < 6; ++i) {
      const ArgSpec& arg = sig.args[i];
      if ((i < sig.nargs) != (arg.name != nullptr)) return false;
      bool is_buffer = (arg.kind == ArgKind::kBuffer || arg.kind == ArgKind::kPollFds) &&
                       i < sig.nargs;
      bool length_ok =
          is_buffer ? arg.length_arg >= 0 && arg.length_arg < sig.nargs && arg.length_arg != i
                    : arg.length_arg == -1;
      if (!length_ok) return false;
      bool symbolic = arg.kind == ArgKind::kEnum || arg.kind == ArgKind::kFlags;
      if (symbolic != (arg.symbols != Symbols::kNone)) return false;
      if (symbolic && (arg.kind == ArgKind::kFlags) != IsFlagSet(arg.symbols)) {
        return false;
      }
      // A condition reads an earlier argument, so that leaving this one out
      // never shifts the one it depends on.
      if (arg.shown_if_arg >= i || arg.shown_if_arg < -1) return false;
    }
  }
  return true;
}
static_assert(TableIsWellFormed(), "kX86_64Syscalls has a malformed entry");

constexpr std::array<int16_t, kIndexSize> kIndex = BuildIndex();

int32_t LowInt32(uint64_t raw) { return static_cast<int32_t>(static_cast<uint32_t>(raw)); }

std::string FormatHex(uint64_t value) {
  if (value == 0) return "0";  // strace prints a zero flag word as plain 0
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
  return buf;
}

std::string FormatPointer(uint64_t value) { return value == 0 ? "NULL" : FormatHex(value); }

std::string FormatOctal(uint32_t value) {
  // "%#03o": a leading 0 and at least three digits, as strace prints modes
  // (0644, 022, 000).
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%#03o", value);
  return buf;
}

std::string FormatFd(uint64_t raw) {
  int32_t fd = LowInt32(raw);
  return fd == kAtFdcwd ? "AT_FDCWD" : std::to_string(fd);
}

// The two-character escape C uses for `c`, if it has one.
const char* NamedEscape(unsigned char c) {
  switch (c) {
    case '\n':
      return "\\n";
    case '\t':
      return "\\t";
    case '\r':
      return "\\r";
    case '\v':
      return "\\v";
    case '\f':
      return "\\f";
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    default:
      return nullptr;
  }
}

std::string Quote(const std::string& bytes) { return "\"" + EscapeBytes(bytes) + "\""; }

// Calls `read` defensively: a missing reader, an empty answer or an
// oversized one must not turn into a misleading rendering.
std::optional<std::string> ReadMemory(const MemoryReader& read, uint64_t addr, size_t max) {
  if (!read) return std::nullopt;
  std::optional<std::string> bytes = read(addr, max);
  if (!bytes || bytes->empty()) return std::nullopt;
  if (bytes->size() > max) bytes->resize(max);
  return bytes;
}

std::string RenderString(uint64_t addr, const MemoryReader& read) {
  if (addr == 0) return "NULL";
  // One byte past the limit tells "exactly 64 bytes" from "longer".
  std::optional<std::string> bytes = ReadMemory(read, addr, kMaxStringBytes + 1);
  if (!bytes) return FormatPointer(addr);
  size_t nul = bytes->find('\0');
  if (nul != std::string::npos && nul <= kMaxStringBytes) return Quote(bytes->substr(0, nul));
  // Too long, or the readable memory ended before the terminator.
  return Quote(bytes->substr(0, kMaxStringBytes)) + "...";
}

// The value of a length parameter, honoring its width: an int length's upper
// register bits are not part of the value.
uint64_t ArgumentValue(const ArgSpec& spec, uint64_t raw) {
  return spec.wide ? raw : static_cast<uint32_t>(raw);
}

std::string RenderBuffer(const SyscallSignature& sig, int index,
                         const std::array<uint64_t, 6>& args, const MemoryReader& read) {
  uint64_t addr = args[index];
  if (addr == 0) return "NULL";
  int length_arg = sig.args[index].length_arg;
  uint64_t length = ArgumentValue(sig.args[length_arg], args[length_arg]);
  if (length == 0) return "\"\"";
  size_t wanted = length < kMaxBufferBytes ? static_cast<size_t>(length) : kMaxBufferBytes;
  std::optional<std::string> bytes = ReadMemory(read, addr, wanted);
  if (!bytes) return FormatPointer(addr);
  // Covers both truncation at the display limit and a short (partial) read.
  return Quote(*bytes) + (bytes->size() < length ? "..." : "");
}

constexpr size_t kMaxPollFds = 16;

// "[{fd=3, events=POLLIN}, {fd=-1}]", as strace shows a struct pollfd
// array (a negative fd is ignored by the kernel, and strace shows no events
// for it); past kMaxPollFds entries, "...".
std::string RenderPollFds(const SyscallSignature& sig, int index,
                          const std::array<uint64_t, 6>& args, const MemoryReader& read) {
  const uint64_t addr = args[index];
  if (addr == 0) return "NULL";
  const int count_arg = sig.args[index].length_arg;
  const uint64_t count = ArgumentValue(sig.args[count_arg], args[count_arg]);
  const size_t shown = count < kMaxPollFds ? static_cast<size_t>(count) : kMaxPollFds;
  constexpr size_t kEntrySize = 8;  // int fd; short events, revents
  std::optional<std::string> bytes = ReadMemory(read, addr, shown * kEntrySize);
  if (!bytes || bytes->size() < shown * kEntrySize) return FormatPointer(addr);
  std::string out = "[";
  for (size_t i = 0; i < shown; ++i) {
    int32_t fd;
    uint16_t events;
    memcpy(&fd, bytes->data() + i * kEntrySize, sizeof(fd));
    memcpy(&events, bytes->data() + i * kEntrySize + 4, sizeof(events));
    if (i > 0) out += ", ";
    out += "{fd=" + std::to_string(fd);
    if (fd >= 0) out += ", events=" + RenderSymbolic(Symbols::kPollEvents, events);
    out += "}";
  }
  if (count > shown) out += ", ...";
  return out + "]";
}

// "{events=EPOLLIN|EPOLLET, data={u32=3, u64=3}}": a struct epoll_event
// (packed on x86-64: the 64-bit data right after the 32-bit events).
std::string RenderEpollEvent(uint64_t addr, const MemoryReader& read) {
  if (addr == 0) return "NULL";
  std::optional<std::string> bytes = ReadMemory(read, addr, 12);
  if (!bytes || bytes->size() < 12) return FormatPointer(addr);
  uint32_t events;
  uint64_t data;
  memcpy(&events, bytes->data(), sizeof(events));
  memcpy(&data, bytes->data() + 4, sizeof(data));
  return "{events=" + RenderSymbolic(Symbols::kEpollEvents, events) +
         ", data={u32=" + std::to_string(static_cast<uint32_t>(data)) +
         ", u64=" + std::to_string(data) + "}}";
}

// fcntl's third argument by its command: {JSON kind, text}.
std::pair<const char*, std::string> RenderFcntlArg(uint64_t cmd_raw, uint64_t raw) {
  const uint64_t low = static_cast<uint32_t>(raw);
  switch (LowInt32(cmd_raw)) {
    case F_SETFL:
      return {"flags", RenderSymbolic(Symbols::kOpenFlags, low)};
    case F_SETFD:
      return {"flags", RenderSymbolic(Symbols::kFdFlags, low)};
    case F_SETSIG:
      return {"signal", SignalName(LowInt32(raw))};
    case F_SETLEASE:
      return {"enum", RenderSymbolic(Symbols::kLeaseType, low)};
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
    case F_SETOWN:
    case F_SETPIPE_SZ:
    case F_NOTIFY:
      return {"int", std::to_string(LowInt32(raw))};
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
    case F_GETOWN_EX:
    case F_SETOWN_EX:
      return {"pointer", FormatPointer(raw)};
    default:
      // No argument (F_GETFL, F_GETFD, ...: strace leaves it out), or a
      // command no table names: the register.
      return {"hex", FormatHex(raw)};
  }
}

std::string RenderScalar(const ArgSpec& spec, uint64_t raw) {
  switch (spec.kind) {
    case ArgKind::kInt:
      return spec.wide ? std::to_string(static_cast<int64_t>(raw)) : std::to_string(LowInt32(raw));
    case ArgKind::kUInt:
      return std::to_string(ArgumentValue(spec, raw));
    case ArgKind::kHex:
      return FormatHex(ArgumentValue(spec, raw));
    case ArgKind::kFd:
      return FormatFd(raw);
    case ArgKind::kSignal:
      return SignalName(LowInt32(raw));
    case ArgKind::kOctal:
      return FormatOctal(static_cast<uint32_t>(raw));
    case ArgKind::kEnum:
    case ArgKind::kFlags:
      return RenderSymbolic(spec.symbols, ArgumentValue(spec, raw));
    case ArgKind::kPointer:
    case ArgKind::kString:
    case ArgKind::kBuffer:
    case ArgKind::kPollFds:
    case ArgKind::kEpollEvent:
    case ArgKind::kFcntlArg:
      break;
  }
  return FormatPointer(raw);
}

bool IsShown(const ArgSpec& spec, const std::array<uint64_t, 6>& args) {
  return spec.shown_if_arg < 0 || (args[spec.shown_if_arg] & spec.shown_if_bits) != 0;
}

DecodedArg DecodeOne(const SyscallSignature& sig, int index, const std::array<uint64_t, 6>& args,
                     const MemoryReader& read) {
  const ArgSpec& spec = sig.args[index];
  DecodedArg out;
  out.name = spec.name;
  out.kind = ArgKindName(spec.kind);
  out.raw = args[index];
  switch (spec.kind) {
    case ArgKind::kString:
      out.text = RenderString(out.raw, read);
      break;
    case ArgKind::kBuffer:
      out.text = RenderBuffer(sig, index, args, read);
      break;
    case ArgKind::kPollFds:
      out.text = RenderPollFds(sig, index, args, read);
      break;
    case ArgKind::kEpollEvent:
      out.text = RenderEpollEvent(out.raw, read);
      break;
    case ArgKind::kFcntlArg: {
      auto [kind, text] = RenderFcntlArg(args[index - 1], out.raw);
      out.kind = kind;
      out.text = std::move(text);
      break;
    }
    default:
      out.text = RenderScalar(spec, out.raw);
      break;
  }
  return out;
}

// x86-32 calls whose arguments differ in number from the x86-64 call of the
// same name (a 64-bit value takes two registers there; old_mmap and
// old_select take one pointer to a block of arguments), and those that
// exist only there. From arch/x86/entry/syscalls/syscall_32.tbl and the
// entry points it names (ia32_pread64, old_readdir, ...).
struct ForeignArity {
  const char* name;
  int nargs;
};
constexpr ForeignArity kX86_32Arity[] = {
    {"_llseek", 5},       {"_newselect", 5},    {"fadvise64", 5},    {"fadvise64_64", 6},
    {"fallocate", 6},     {"fanotify_mark", 6}, {"fcntl64", 3},      {"fstat64", 2},
    {"fstatat64", 4},     {"fstatfs64", 3},     {"ftruncate64", 3},  {"ipc", 6},
    {"lookup_dcookie", 4}, {"lstat64", 2},      {"mmap", 1},         {"mmap2", 6},
    {"nice", 1},          {"oldfstat", 2},      {"oldlstat", 2},     {"oldolduname", 1},
    {"oldstat", 2},       {"olduname", 1},      {"pread64", 5},      {"pwrite64", 5},
    {"readahead", 4},     {"readdir", 3},       {"select", 1},       {"sendfile64", 4},
    {"sgetmask", 0},      {"sigaction", 3},     {"signal", 2},       {"sigpending", 1},
    {"sigprocmask", 3},   {"sigreturn", 0},     {"sigsuspend", 3},   {"socketcall", 2},
    {"ssetmask", 1},      {"stat64", 2},        {"statfs64", 3},     {"stime", 1},
    {"sync_file_range", 6}, {"truncate64", 3},  {"ugetrlimit", 2},   {"umount", 1},
    {"vm86", 2},          {"vm86old", 1},       {"waitpid", 3},
};

const SyscallSignature* FindX86_64SignatureByName(std::string_view name) {
  for (const SyscallEntry& entry : kX86_64Syscalls) {
    if (name == entry.sig.name) return &entry.sig;
  }
  return nullptr;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

const SyscallSignature* FindX86_64Signature(uint64_t nr) {
  if (nr >= kIndexSize || kIndex[nr] < 0) return nullptr;
  return &kX86_64Syscalls[kIndex[nr]].sig;
}

int ForeignArgCount(bool x86_32, const std::string& name) {
  std::string_view native = name;
  if (x86_32) {
    for (const ForeignArity& arity : kX86_32Arity) {
      if (name == arity.name) return arity.nargs;
    }
    // The 32-bit-time calls' successors (clock_gettime64, futex_time64)
    // and the 32-bit-uid calls (chown32, getuid32) take what the x86-64
    // calls without the suffix take.
    if (EndsWith(native, "_time64")) {
      native.remove_suffix(7);
    } else if (EndsWith(native, "time64")) {
      native.remove_suffix(2);
    } else if (EndsWith(native, "32")) {
      native.remove_suffix(2);
    }
  }
  const SyscallSignature* sig = FindX86_64SignatureByName(native);
  return sig != nullptr ? sig->nargs : -1;
}

// Without a signature the registers are shown raw, in hex because most such
// arguments are pointers or flags; all six when even the arity is unknown.
std::vector<DecodedArg> DecodeRawArgs(const std::array<uint64_t, 6>& args, int count) {
  const size_t shown = count < 0 ? args.size() : std::min<size_t>(count, args.size());
  std::vector<DecodedArg> out;
  for (size_t i = 0; i < shown; ++i) {
    DecodedArg arg;
    arg.name = "arg" + std::to_string(i);
    arg.kind = ArgKindName(ArgKind::kHex);
    arg.raw = args[i];
    arg.text = FormatHex(args[i]);
    out.push_back(std::move(arg));
  }
  return out;
}

std::vector<DecodedArg> DecodeSyscallArgs(uint64_t nr, const std::array<uint64_t, 6>& args,
                                          const MemoryReader& read) {
  const SyscallSignature* sig = FindX86_64Signature(nr);
  if (sig == nullptr) return DecodeRawArgs(args, -1);
  std::vector<DecodedArg> out;
  out.reserve(sig->nargs);
  for (int i = 0; i < sig->nargs; ++i) {
    if (IsShown(sig->args[i], args)) out.push_back(DecodeOne(*sig, i, args, read));
  }
  return out;
}

std::string FormatSyscallCall(const std::string& name, const std::vector<DecodedArg>& args) {
  std::string out = name + "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ", ";
    out += args[i].text;
  }
  return out + ")";
}

std::string EscapeBytes(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (const char* named = NamedEscape(c)) {
      out += named;
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

const char* ArgKindName(ArgKind kind) {
  switch (kind) {
    case ArgKind::kInt:
      return "int";
    case ArgKind::kUInt:
      return "uint";
    case ArgKind::kHex:
      return "hex";
    case ArgKind::kFd:
      return "fd";
    case ArgKind::kPointer:
      return "pointer";
    case ArgKind::kString:
      return "string";
    case ArgKind::kBuffer:
      return "buffer";
    case ArgKind::kSignal:
      return "signal";
    case ArgKind::kOctal:
      return "octal";
    case ArgKind::kEnum:
      return "enum";
    case ArgKind::kFlags:
      return "flags";
    case ArgKind::kPollFds:
    case ArgKind::kEpollEvent:
      return "struct";
    case ArgKind::kFcntlArg:
      return "hex";  // DecodeOne names the rendering's kind
  }
  return "unknown";
}

}  // namespace dpsupervise
