#include "supervisor/tracing/noise_stats.h"

#include <cmath>

namespace dpsupervise {
namespace {

// Values below kSubBuckets have a bucket each; above, every power of two
// is cut into kSubBuckets buckets.
constexpr int kSubBucketBits = 6;
constexpr int64_t kSubBuckets = int64_t{1} << kSubBucketBits;

int BitWidth(uint64_t value) { return value == 0 ? 0 : 64 - __builtin_clzll(value); }

int BucketOf(int64_t duration_ns) {
  if (duration_ns < kSubBuckets) return static_cast<int>(std::max<int64_t>(0, duration_ns));
  // value >> shift is in [kSubBuckets, 2 * kSubBuckets).
  const int shift = BitWidth(static_cast<uint64_t>(duration_ns)) - (kSubBucketBits + 1);
  return static_cast<int>(kSubBuckets * (shift + 1) + ((duration_ns >> shift) - kSubBuckets));
}

// The largest duration that falls into `bucket`.
int64_t LastOf(int bucket) {
  if (bucket < kSubBuckets) return bucket;
  const int shift = bucket / kSubBuckets - 1;
  const int64_t mantissa = kSubBuckets + bucket % kSubBuckets;
  return ((mantissa + 1) << shift) - 1;
}

// 1-2-5 decades from 1 us to 10 ms: the lower edges of buckets 1..13.
constexpr int64_t kEdgesNs[LatencyHistogram::kBuckets] = {
    0,      1000,   2000,   5000,    10000,   20000,   50000,
    100000, 200000, 500000, 1000000, 2000000, 5000000, 10000000};

std::string Short(int64_t ns) {
  if (ns >= 1000000) return std::to_string(ns / 1000000) + "ms";
  return std::to_string(ns / 1000) + "us";
}

}  // namespace

void DurationHistogram::Add(int64_t duration_ns) {
  ++counts_[BucketOf(duration_ns)];
  ++count_;
}

int64_t DurationHistogram::Quantile(double fraction, int64_t max_ns) const {
  if (count_ == 0) return 0;
  const long long rank =
      std::max<long long>(1, static_cast<long long>(std::ceil(fraction * count_)));
  long long seen = 0;
  for (const auto& [bucket, n] : counts_) {
    seen += n;
    if (seen >= rank) return std::min(LastOf(bucket), max_ns);
  }
  return max_ns;
}

void NoiseStat::Add(int64_t duration_ns) {
  ++count;
  total_ns += duration_ns;
  max_ns = std::max(max_ns, duration_ns);
  durations.Add(duration_ns);
}

void LatencyHistogram::Add(int64_t duration_ns) {
  int bucket = kBuckets - 1;
  while (bucket > 0 && duration_ns < kEdgesNs[bucket]) --bucket;
  ++counts_[bucket];
}

int64_t LatencyHistogram::LowerNs(int bucket) { return kEdgesNs[bucket]; }

int64_t LatencyHistogram::UpperNs(int bucket) {
  return bucket + 1 < kBuckets ? kEdgesNs[bucket + 1] : -1;
}

std::string LatencyHistogram::Label(int bucket) {
  if (bucket == 0) return "<" + Short(UpperNs(0));
  if (bucket == kBuckets - 1) return ">=" + Short(LowerNs(bucket));
  const int64_t lower = LowerNs(bucket), upper = UpperNs(bucket);
  // "500us-1ms" across the unit change, "1-2us" within one.
  if (lower < 1000000 && upper >= 1000000) return Short(lower) + "-" + Short(upper);
  const std::string lower_text = Short(lower);
  return lower_text.substr(0, lower_text.size() - 2) + "-" + Short(upper);
}

}  // namespace dpsupervise
