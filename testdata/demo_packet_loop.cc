// The bundled example: a toy dataplane. A worker thread named "rx-worker"
// pins nothing and needs no hardware; it enters strict mode and polls a ring
// of fake packets. At packet 100000 a debug log line slips in: fprintf to
// stderr, i.e. a write(2) syscall from a strict thread. Under dpsupervise
// that write is reported (decoded, with registers) and the program killed.
#include <pthread.h>

#include <array>
#include <cstdint>

#include "lib/strict_guard.h"
#include "testdata/strict_test_util.h"

namespace {

struct Packet {
  uint32_t length;
  uint8_t payload[60];
};

std::array<Packet, 256> g_ring;
uint64_t g_bytes;

__attribute__((noinline)) void LogSlowPacket(uint64_t index) {
  fprintf(stderr, "slow packet %llu\n", static_cast<unsigned long long>(index));
}

__attribute__((noinline)) void PollLoop() {
  for (uint64_t i = 0; i < 1000000; ++i) {
    Packet& packet = g_ring[i % g_ring.size()];
    packet.length = 60 + (i & 7);
    g_bytes += packet.length;
    if (i == 100000) LogSlowPacket(i);  // the stray kernel entry
  }
}

void* Worker(void*) {
  dptest::LockAndPrefault();
  printf("rx-worker: entering strict mode\n");
  fflush(stdout);
  dp::StrictGuard strict;
  if (!strict.ok()) {
    fprintf(stderr, "rx-worker: cannot enter strict mode: %s%s\n", strerror(strict.error()),
            strict.error() == EINVAL ? " (run me under dpsupervise)" : "");
    return nullptr;
  }
  PollLoop();
  return nullptr;
}

}  // namespace

int main() {
  pthread_t thread = dptest::StartThread(Worker);
  pthread_setname_np(thread, "rx-worker");
  pthread_join(thread, nullptr);
  printf("processed %llu bytes\n", static_cast<unsigned long long>(g_bytes));
  return 0;
}
