// zombie_leader MODE: the main thread starts a worker and ends with
// pthread_exit. The process runs on with a zombie leader, whose /proc
// entries no longer show the address space (maps, mem, auxv are empty).
// The worker waits for that, then becomes strict from outside:
//   name:  it names itself "dp-worker" (for --strict-thread=dp-worker) and
//          computes until it is strict;
//   enter: it calls EnterHere() (for --enter-at=EnterHere).
//   attach: for `-p PID --enter-at=EnterHere` after the main thread exited:
//          it prints "enter_here=ADDRESS", waits for a byte on stdin (sent
//          once the breakpoint is in), then calls EnterHere().
// Strict, it violates with getppid in Violate(), leaves strict mode, prints
// "worker done" and ends the process with exit status 7.
#include <fcntl.h>
#include <sys/prctl.h>

#include "testdata/strict_test_util.h"

namespace {

const char* g_mode;

// Whether the main thread has exited: state 'Z' in /proc/self/task/PID/stat.
// Read with plain syscalls: no stdio buffer, no malloc arena for this thread
// (whose address-space reservation mlockall would count).
bool LeaderIsZombie() {
  char path[64], text[512] = {};
  snprintf(path, sizeof(path), "/proc/self/task/%d/stat", getpid());
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = read(fd, text, sizeof(text) - 1);
  close(fd);
  const char* end_of_name = n > 0 ? strrchr(text, ')') : nullptr;
  return end_of_name != nullptr && end_of_name[1] == ' ' && end_of_name[2] == 'Z';
}

}  // namespace

extern "C" __attribute__((noinline)) void EnterHere() { asm volatile("" ::: "memory"); }

extern "C" __attribute__((noinline)) void Violate() {
  dptest::RawSyscall0(SYS_getppid);
  asm volatile("" ::: "memory");
}

namespace {

void* Worker(void*) {
  dptest::LeaveUserSignalsToTheMainThread();
  dptest::LockAndPrefault();
  while (!LeaderIsZombie()) usleep(1000);
  dptest::AnnounceTid("worker_tid");
  if (strcmp(g_mode, "name") == 0) {
    prctl(PR_SET_NAME, "dp-worker");
    volatile unsigned long long x = 1;
    while (dp_status() == 0) x = x * 3 + 1;
  } else if (strcmp(g_mode, "attach") == 0) {
    printf("enter_here=%p\n", reinterpret_cast<void*>(&EnterHere));
    fflush(stdout);
    char byte;
    if (read(0, &byte, 1) != 1) _exit(8);
    EnterHere();
  } else {
    EnterHere();
  }
  Violate();
  const int flags = dp_status();
  dp_exit_strict();
  printf("worker done, strict=%d\n", flags);
  fflush(stdout);
  syscall(SYS_exit_group, 7);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  g_mode = argc > 1 ? argv[1] : "name";
  dptest::StartThread(Worker);
  pthread_exit(nullptr);
}
