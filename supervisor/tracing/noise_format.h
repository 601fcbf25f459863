// noise_format.h: noise events and the per-thread noise summary as report
// lines, text or JSON (one record a line). Fields: docs/report.md.
#ifndef DPSUPERVISE_SUPERVISOR_TRACING_NOISE_FORMAT_H_
#define DPSUPERVISE_SUPERVISOR_TRACING_NOISE_FORMAT_H_

#include <set>
#include <string>

#include "supervisor/tracing/noise_attribution.h"

namespace dpsupervise {

// How many causes the summary ranks per thread.
inline constexpr size_t kTopCauses = 10;

// One line each, ending in '\n'.
std::string FormatTextNoiseEvent(const NoiseEvent& event);
// What the text line says of the event after its kind and duration: "
// call_function_single from ipi-sender (pid 9 tid 10 cpu 0) by
// membarrier_private_expedited", "by cpu-hog (pid 7 tid 7)", "cpu 1 -> 0".
std::string NoiseEventDetail(const NoiseEvent& event);
std::string FormatJsonNoiseEvent(const NoiseEvent& event);

// The hypervisor's steal time of a strict thread's CPUs while it was strict,
// by CPU (ThreadSummary::steal_ns), by tid.
using StealByThread = std::map<pid_t, std::map<int, int64_t>>;

// Every traced strict thread's noise by kind and its top causes (count,
// total, max, p99), its longest interruptions, its latency histogram, the
// steal time of its CPUs (threads absent from `steal`: not measured), the
// records the kernel dropped (lost_records > 0: the figures are low) and
// the CPUs whose interrupts were followed (TracepointSession::FollowCpu;
// empty: not said).
std::string FormatTextNoiseSummary(const std::map<pid_t, NoiseThreadTally>& tallies,
                                   long long lost_records, const StealByThread& steal = {},
                                   const std::set<int>& followed_cpus = {});
// One {"type":"noise_summary"} record per thread.
std::string FormatJsonNoiseSummary(const std::map<pid_t, NoiseThreadTally>& tallies,
                                   long long lost_records, const StealByThread& steal = {},
                                   const std::set<int>& followed_cpus = {});

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACING_NOISE_FORMAT_H_
