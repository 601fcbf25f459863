// 64 threads: 32 enter strict mode at the same moment while 32 churn
// (creating and joining short-lived threads). Once every strict thread is
// in, strict thread number 17 calls getpid. Exactly one report must name it.
#include <atomic>

#include "testdata/strict_test_util.h"

namespace {

constexpr int kStrict = 32;
constexpr int kChurn = 32;
constexpr int kViolator = 17;
constexpr size_t kStack = 64 * 1024;

std::atomic<int> g_ready{0};
std::atomic<bool> g_go{false};
std::atomic<int> g_strict_in{0};

void* ShortLived(void*) { return nullptr; }

void* Churn(void*) {
  g_ready.fetch_add(1);
  for (;;) {
    pthread_t t = dptest::StartThread(ShortLived, nullptr, kStack);
    pthread_join(t, nullptr);
  }
  return nullptr;
}

void* Strict(void* arg) {
  const long index = reinterpret_cast<long>(arg);
  // Pre-fault this thread's stack; the shared atomics were touched by main.
  volatile char stack[16 * 1024];
  for (size_t i = 0; i < sizeof(stack); i += 1024) stack[i] = 0;
  if (index == kViolator) dptest::AnnounceTid("violator_tid");
  g_ready.fetch_add(1);
  while (!g_go.load()) {
  }
  dptest::EnterStrictOrDie();
  g_strict_in.fetch_add(1);
  while (g_strict_in.load() < kStrict) {
  }
  if (index == kViolator) dptest::RawSyscall0(SYS_getpid);
  for (;;) {
  }
  return nullptr;
}

}  // namespace

int main() {
  if (mlockall(MCL_CURRENT) != 0) return 90;
  g_ready.store(0);
  g_strict_in.store(0);
  for (long i = 0; i < kStrict; ++i) dptest::StartThread(Strict, reinterpret_cast<void*>(i), kStack);
  for (int i = 0; i < kChurn; ++i) dptest::StartThread(Churn, nullptr, kStack);
  while (g_ready.load() < kStrict + kChurn) {
  }
  g_go.store(true);
  for (;;) pause();
}
