// compute_loop: a kernel-free compute loop in a strict thread.
//
//   compute_loop --cpu=N --trials=T --iters=I
//
// Pins itself to CPU N, locks and pre-faults its memory, enters strict mode
// (unsupervised, the prctl fails with EINVAL and the same loop runs anyway),
// then times T trials of I iterations of a dependent multiply-xorshift chain
// with clock_gettime (vDSO: no kernel entry). One warm-up trial is not
// counted. After leaving strict mode it prints:
//
//   strict 0|1
//   loop_ns <trial> <trial> ...
//   result <hex>           (keeps the loop from being optimized away)
#include <sys/mman.h>

#include <vector>

#include "tools/bench/workload_util.h"

namespace {

__attribute__((noinline)) uint64_t Chain(uint64_t x, long iters) {
  for (long i = 0; i < iters; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    x ^= x >> 29;
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  const long cpu = dpbench::FlagLong(argc, argv, "cpu", -1);
  const long trials = dpbench::FlagLong(argc, argv, "trials", 7);
  const long iters = dpbench::FlagLong(argc, argv, "iters", 4000000);
  dpbench::PinSelf(cpu);
  if (mlockall(MCL_CURRENT) != 0) perror("mlockall (continuing)");
  std::vector<int64_t> samples(static_cast<size_t>(trials), 0);  // touched before strict
  uint64_t x = static_cast<uint64_t>(dpbench::NowNs());
  x = Chain(x, 1000);  // code paged in, clock read once (vvar mapped)

  const bool strict = dpbench::TryEnterStrict();
  x = Chain(x, iters);  // warm-up
  for (long t = 0; t < trials; ++t) {
    const int64_t t0 = dpbench::NowNs();
    x = Chain(x, iters);
    samples[static_cast<size_t>(t)] = dpbench::NowNs() - t0;
  }
  if (strict) dp_exit_strict();

  printf("strict %d\n", strict ? 1 : 0);
  dpbench::PrintSamples("loop_ns", samples);
  printf("result %llx\n", static_cast<unsigned long long>(x));
  return 0;
}
