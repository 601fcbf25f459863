// noise_stats.h: statistics of interruption durations for the noise
// summary: count, total, max and p99 of a set of interruptions, a latency
// histogram on 1-2-5 decades, and the N longest interruptions.
//
// Pure arithmetic, no I/O. A run can take millions of interruptions (the
// tick alone is CONFIG_HZ a second), so durations are not kept: p99 comes
// from a log-linear histogram whose buckets are at most 1/64 of their
// lower edge wide (see DurationHistogram).
#ifndef DPSUPERVISE_SUPERVISOR_TRACING_NOISE_STATS_H_
#define DPSUPERVISE_SUPERVISOR_TRACING_NOISE_STATS_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dpsupervise {

// Durations in log-linear buckets: exact below 64 ns, then 64 buckets per
// power of two, so a bucket is at most 1/64 (1.6%) of its lower edge wide.
// Memory grows with the number of distinct buckets hit (about 64 per
// doubling of the range seen), never with the number of durations.
class DurationHistogram {
 public:
  void Add(int64_t duration_ns);
  long long count() const { return count_; }
  // The nearest-rank `fraction` quantile (0 < fraction <= 1): the smallest
  // duration d such that at least fraction of the durations are <= d,
  // rounded up to its bucket's last value. Never below the exact value,
  // at most 1.6% above it; never above `max_ns` (the largest duration
  // added, which the caller knows exactly). 0 when empty.
  int64_t Quantile(double fraction, int64_t max_ns) const;

 private:
  std::map<int, long long> counts_;  // by bucket index
  long long count_ = 0;
};

// count, total, max and the histogram behind p99 of a set of interruptions.
struct NoiseStat {
  long long count = 0;
  int64_t total_ns = 0;
  int64_t max_ns = 0;
  DurationHistogram durations;
  void Add(int64_t duration_ns);
  // The 99th percentile (nearest rank; with fewer than 100 interruptions
  // the largest one): see DurationHistogram::Quantile for its precision.
  int64_t P99() const { return durations.Quantile(0.99, max_ns); }
};

// Interruption durations on 1-2-5 decades, for people to read:
// <1us, 1-2us, 2-5us, 5-10us, ... 5-10ms, >=10ms.
class LatencyHistogram {
 public:
  static constexpr int kBuckets = 14;
  void Add(int64_t duration_ns);
  long long count(int bucket) const { return counts_[bucket]; }
  // The bucket's durations are in [LowerNs, UpperNs); UpperNs of the last
  // bucket is -1 (no bound).
  static int64_t LowerNs(int bucket);
  static int64_t UpperNs(int bucket);
  // "<1us", "1-2us", ..., ">=10ms".
  static std::string Label(int bucket);

 private:
  std::array<long long, kBuckets> counts_{};
};

// Keeps in `longest` (largest duration_ns first, the earlier of equal ones
// first) the `limit` longest of the events offered to it. `Event` has an
// int64_t duration_ns.
template <typename Event>
void KeepLongest(const Event& event, size_t limit, std::vector<Event>* longest) {
  if (limit == 0) return;
  if (longest->size() == limit && longest->back().duration_ns >= event.duration_ns) return;
  auto at = std::upper_bound(
      longest->begin(), longest->end(), event,
      [](const Event& a, const Event& b) { return a.duration_ns > b.duration_ns; });
  longest->insert(at, event);
  if (longest->size() > limit) longest->pop_back();
}

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACING_NOISE_STATS_H_
