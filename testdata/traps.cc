// traps MODE: a strict thread raises a synchronous trap of its own:
// segv (write to address 0x10), ill (ud2), fpe (integer divide by zero),
// trap (int3), bus (access past the end of a file mapping).
#include <sys/mman.h>

#include "testdata/strict_test_util.h"

namespace {

const char* g_mode;
volatile int g_zero = 0;
char* g_bus_page;

void* Worker(void*) {
  dptest::LockAndPrefault();
  dptest::AnnounceTid("worker_tid");
  dptest::EnterStrictOrDie();
  if (strcmp(g_mode, "segv") == 0) {
    *reinterpret_cast<volatile int*>(0x10) = 1;
  } else if (strcmp(g_mode, "ill") == 0) {
    asm volatile("ud2");
  } else if (strcmp(g_mode, "fpe") == 0) {
    // An explicit idiv: the compiler may rewrite 1 / x without dividing.
    int eax = 1, edx = 0, divisor = g_zero;
    asm volatile("idivl %2" : "+a"(eax), "+d"(edx) : "r"(divisor));
  } else if (strcmp(g_mode, "trap") == 0) {
    asm volatile("int3");
  } else if (strcmp(g_mode, "bus") == 0) {
    *reinterpret_cast<volatile char*>(g_bus_page) = 1;
  }
  dp_exit_strict();
  printf("no trap\n");
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  g_mode = argc > 1 ? argv[1] : "segv";
  // An empty memfd mapped one page long: touching it is SIGBUS (BUS_ADRERR).
  int fd = memfd_create("traps-bus", 0);
  g_bus_page = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (g_bus_page == MAP_FAILED) return 8;
  pthread_join(dptest::StartThread(Worker), nullptr);
  return 0;
}
