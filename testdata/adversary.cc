// adversary MODE: programs that put dpsupervise's strict-mode entry and
// detection in corners where it used to miss kernel entries or harm the
// program (the trust review's items). Each mode says what it prints.
//   exec-during-entry: the main thread enters strict mode while another
//            thread execs /bin/echo "exec done" at that moment. Whatever
//            wins, the new image must run normally.
//   small-stack: a thread on a 16 KiB stack of the program's own, below
//            which 48 KiB of canary bytes lie, enters strict mode with its
//            stack pointer 512 bytes above the stack's bottom, then leaves.
//            Prints "entry=R canary=intact" (or "canary=overwritten at -N").
//   vdso-unmap / vdso-protnone: the main thread removes the vDSO (munmap)
//            or makes it PROT_NONE, then names a worker "dp-worker" that
//            spins until strict (made so from outside: --strict-thread) and
//            then calls getpid once, raw. Prints "vdso gone".
//   sigtrap-blocked: a worker blocks every signal (as dataplane workers do
//            so that signals go to the main thread), enters strict mode and
//            writes to 16 fresh pages. Prints "faults done".
#include <sys/auxv.h>
#include <sys/mman.h>

#include <atomic>
#include <fstream>
#include <string>

#include "testdata/strict_test_util.h"

namespace {

std::atomic<bool> g_entering{false};
std::atomic<bool> g_strict{false};
volatile unsigned long long g_sink;

// --- exec-during-entry -----------------------------------------------------

void* Execer(void*) {
  while (!g_entering.load()) {
  }
  execl("/bin/echo", "echo", "exec done", static_cast<char*>(nullptr));
  _exit(66);
}

int ExecDuringEntry() {
  dptest::LockAndPrefault();
  dptest::StartThread(Execer);
  g_entering = true;
  dp_enter_strict(0);
  // Strict now, unless the exec already took the thread away: wait for it.
  for (;;) {
  }
}

// --- small-stack -----------------------------------------------------------

constexpr size_t kCanaryBytes = 48 * 1024;
constexpr size_t kStackBytes = 16 * 1024;
constexpr unsigned char kCanary = 0x5a;
char* g_region;
long g_entry_result;

__attribute__((noinline)) void EnterNearStackBottom(char* stack_bottom) {
  char here;
  // Move the stack pointer down to 512 bytes above the bottom of the stack.
  const size_t room = static_cast<size_t>(&here - stack_bottom);
  volatile char* low = static_cast<char*>(__builtin_alloca(room - 512));
  low[0] = 0;
  g_entry_result = dptest::RawSyscall3(SYS_prctl, PR_SET_DATAPLANE, PR_DATAPLANE_STRICT, 0);
  dptest::RawSyscall3(SYS_prctl, PR_SET_DATAPLANE, 0, 0);
}

void* SmallStackThread(void*) {
  EnterNearStackBottom(g_region + kCanaryBytes);
  return nullptr;
}

int SmallStack() {
  dptest::LockAndPrefault();
  g_region = static_cast<char*>(mmap(nullptr, kCanaryBytes + kStackBytes, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (g_region == MAP_FAILED) return 90;
  memset(g_region, kCanary, kCanaryBytes);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstack(&attr, g_region + kCanaryBytes, kStackBytes);
  pthread_t thread;
  if (pthread_create(&thread, &attr, SmallStackThread, nullptr) != 0) return 91;
  pthread_join(thread, nullptr);
  for (size_t i = kCanaryBytes; i-- > 0;) {
    if (static_cast<unsigned char>(g_region[i]) != kCanary) {
      printf("entry=%ld canary=overwritten at -%zu\n", g_entry_result, kCanaryBytes - i);
      return 1;
    }
  }
  printf("entry=%ld canary=intact\n", g_entry_result);
  return 0;
}

// --- vdso-unmap / vdso-protnone --------------------------------------------

void* SpinUntilStrictThenGetpid(void*) {
  dptest::LockAndPrefault();
  pthread_setname_np(pthread_self(), "dp-worker");
  unsigned long long x = 1;
  // dp_status is a prctl: allowed in strict mode.
  while (dp_status() != PR_DATAPLANE_STRICT) {
    for (int i = 0; i < 100000; ++i) x = x * 6364136223846793005ULL + 1;
    g_sink = x;
  }
  dptest::RawSyscall0(SYS_getpid);
  return nullptr;
}

// The vDSO's extent, from /proc/self/maps.
bool FindVdso(unsigned long* start, unsigned long* end) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("[vdso]") == std::string::npos) continue;
    return sscanf(line.c_str(), "%lx-%lx", start, end) == 2;
  }
  return false;
}

int VdsoGone(bool unmap) {
  unsigned long start = 0, end = 0;
  if (!FindVdso(&start, &end)) return 92;
  // From here on nothing may use the vDSO: no clock_gettime, no time().
  const long rc = unmap ? dptest::RawSyscall3(SYS_munmap, start, end - start, 0)
                        : dptest::RawSyscall3(SYS_mprotect, start, end - start, PROT_NONE);
  if (rc != 0) return 93;
  printf("vdso gone\n");
  fflush(stdout);
  pthread_join(dptest::StartThread(SpinUntilStrictThenGetpid), nullptr);
  return 0;
}

// --- sigtrap-blocked -------------------------------------------------------

void* BlockedFaulter(void*) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  dptest::LockAndPrefault();
  // The pages must be fresh when first written in strict mode: unlocked and
  // emptied again after MCL_FUTURE populated them.
  constexpr int kPages = 16;
  char* pages = static_cast<char*>(
      mmap(nullptr, kPages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (pages == MAP_FAILED || munlock(pages, kPages * 4096) != 0 ||
      madvise(pages, kPages * 4096, MADV_DONTNEED) != 0) {
    _exit(94);
  }
  dptest::EnterStrictOrDie();
  for (int i = 0; i < kPages; ++i) pages[i * 4096] = 1;
  dp_exit_strict();
  return nullptr;
}

int SigtrapBlocked() {
  pthread_join(dptest::StartThread(BlockedFaulter), nullptr);
  printf("faults done\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (strcmp(mode, "exec-during-entry") == 0) return ExecDuringEntry();
  if (strcmp(mode, "small-stack") == 0) return SmallStack();
  if (strcmp(mode, "vdso-unmap") == 0) return VdsoGone(true);
  if (strcmp(mode, "vdso-protnone") == 0) return VdsoGone(false);
  if (strcmp(mode, "sigtrap-blocked") == 0) return SigtrapBlocked();
  fprintf(stderr, "usage: adversary MODE\n");
  return 2;
}
