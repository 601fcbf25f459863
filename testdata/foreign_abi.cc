// foreign_abi MODE: a 32-bit (int 0x80) or x32 getpid, from a strict thread
// (int80, x32: reported as foreign ABI syscalls) or from a thread that is
// not strict (int80-nonstrict, x32-nonstrict: behave exactly as without
// dpsupervise; the result is printed). minus1 and minus1-nonstrict make
// syscall(-1) instead: its number has the x32 bit set, yet it is the x86-64
// "no syscall" number (ENOSYS), not an x32 call.
#include "testdata/strict_test_util.h"

namespace {

const char* g_mode;

long Int80Getpid() {
  long ret;
  asm volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");  // i386 getpid
  return ret;
}

long X32Getpid() { return dptest::RawSyscall0(0x40000000L | SYS_getpid); }

void* Worker(void*) {
  dptest::LockAndPrefault();
  dptest::AnnounceTid("worker_tid");
  const bool int80 = strncmp(g_mode, "int80", 5) == 0;
  const bool minus1 = strncmp(g_mode, "minus1", 6) == 0;
  const bool strict = strstr(g_mode, "nonstrict") == nullptr;
  if (strict) dptest::EnterStrictOrDie();
  long ret = int80 ? Int80Getpid() : minus1 ? dptest::RawSyscall0(-1) : X32Getpid();
  if (strict) dp_exit_strict();
  printf("result=%ld pid=%d\n", ret, getpid());
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  g_mode = argc > 1 ? argv[1] : "int80";
  pthread_join(dptest::StartThread(Worker), nullptr);
  return 0;
}
