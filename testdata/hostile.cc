// hostile MODE: a program that tries to get around its supervisor, then has
// a strict worker violate once (the report must still be right).
//   seccomp:  installs its own filter returning SECCOMP_RET_TRACE for
//             getppid and SECCOMP_RET_ERRNO(EACCES) for getuid.
//   ptrace:   PTRACE_TRACEME, and PTRACE_ATTACH/SEIZE on its own thread.
//   personality: switches personality (READ_IMPLIES_EXEC|ADDR_NO_RANDOMIZE).
//   ids:      prints its real and effective user ids (run as a set-user-ID
//             copy: does it gain the owner's privileges?).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>

#include <atomic>

#include "testdata/strict_test_util.h"

namespace {

std::atomic<int> g_sibling_tid{0};
std::atomic<bool> g_stop{false};

void* Sibling(void*) {
  g_sibling_tid = static_cast<int>(syscall(SYS_gettid));
  while (!g_stop.load()) {
  }
  return nullptr;
}

void* Violator(void*) {
  dptest::LockAndPrefault();
  dptest::AnnounceTid("violator_tid");
  dptest::EnterStrictOrDie();
  dptest::RawSyscall0(SYS_getpid);
  return nullptr;
}

int InstallOwnFilter() {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0x1234),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  return static_cast<int>(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "seccomp";
  if (strcmp(mode, "seccomp") == 0) {
    int rc = InstallOwnFilter();
    errno = 0;
    long ppid = syscall(SYS_getppid);
    const int ppid_errno = errno;
    errno = 0;
    long uid = syscall(SYS_getuid);
    printf("filter=%d getppid=%ld errno=%d getuid=%ld errno=%d\n", rc, ppid, ppid_errno, uid,
           errno);
  } else if (strcmp(mode, "ptrace") == 0) {
    errno = 0;
    long me = ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    printf("traceme=%ld errno=%d\n", me, errno);
    pthread_t sibling = dptest::StartThread(Sibling);
    while (g_sibling_tid.load() == 0) {
    }
    errno = 0;
    long attach = ptrace(PTRACE_ATTACH, g_sibling_tid.load(), nullptr, nullptr);
    printf("attach=%ld errno=%d\n", attach, errno);
    errno = 0;
    long seize = ptrace(PTRACE_SEIZE, g_sibling_tid.load(), nullptr, nullptr);
    printf("seize=%ld errno=%d\n", seize, errno);
    g_stop = true;
    pthread_join(sibling, nullptr);
  } else if (strcmp(mode, "ids") == 0) {
    printf("uid=%d euid=%d\n", static_cast<int>(getuid()), static_cast<int>(geteuid()));
  } else if (strcmp(mode, "personality") == 0) {
    int before = personality(0xffffffff);
    personality(READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE);
    printf("personality before=%#x after=%#x\n", before, personality(0xffffffff));
  }
  fflush(stdout);
  pthread_join(dptest::StartThread(Violator), nullptr);
  return 0;
}
