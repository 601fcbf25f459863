// page_fault fresh: a strict thread writes to a page it never touched: a
// page fault, reported with its address (printed as "target=0x...").
// page_fault prefaulted: a strict thread only touches locked, pre-faulted
// memory (1 MiB, written before entry): no report, exit 0.
// page_fault bss: a strict thread writes g_table[0x20010], in a page of the
// global array the kernel was made to drop before entry (.bss data symbol).
#include <stdint.h>
#include <sys/mman.h>

#include "testdata/strict_test_util.h"

namespace {

constexpr size_t kBufferBytes = 1 << 20;
char* g_buffer;
const char* g_mode;

}  // namespace

// Global, not static, so the symbol table names it.
char g_table[1 << 20];

namespace {

void* Worker(void*) {
  // Only the stack is pre-faulted here: main locked MCL_CURRENT without
  // MCL_FUTURE, so that the page mapped below stays unpopulated.
  volatile char stack[32 * 1024];
  for (size_t i = 0; i < sizeof(stack); i += 4096) stack[i] = 0;
  const bool fresh = strcmp(g_mode, "fresh") == 0;
  const bool bss = strcmp(g_mode, "bss") == 0;
  char* target = g_buffer;
  if (bss) {
    // Populated by mlockall; unlocked and dropped, its next touch faults.
    target = g_table + 0x20010;
    char* page = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(target) & ~uintptr_t{4095});
    if (munlock(page, 4096) != 0 || madvise(page, 4096, MADV_DONTNEED) != 0) exit(7);
  }
  if (fresh) {
    // Not locked, never touched: the first write faults.
    target = static_cast<char*>(
        mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (target == MAP_FAILED) exit(6);
    target += 0x123;
  }
  printf("target=%p\n", static_cast<void*>(target));
  fflush(stdout);
  dptest::EnterStrictOrDie();
  if (fresh || bss) {
    *reinterpret_cast<volatile char*>(target) = 1;  // the page fault
  } else {
    for (int round = 0; round < 50; ++round) {
      for (size_t i = 0; i < kBufferBytes; i += 64) g_buffer[i] += static_cast<char>(round);
    }
  }
  dp_exit_strict();
  printf("worker done\n");
  fflush(stdout);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  g_mode = argc > 1 ? argv[1] : "fresh";
  // MCL_CURRENT only: the fresh page mapped later must stay unpopulated.
  if (mlockall(MCL_CURRENT) != 0) return 90;
  g_buffer = static_cast<char*>(
      mmap(nullptr, kBufferBytes, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0));
  if (g_buffer == MAP_FAILED) return 7;
  pthread_join(dptest::StartThread(Worker), nullptr);
  return 0;
}
