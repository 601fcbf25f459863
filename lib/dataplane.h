/*
 * dataplane.h: the dataplane strict-mode ABI, for C and C++.
 *
 * This is the single source of truth for the prctl numbers and flags that a
 * program uses to ask dpsupervise to make one of its threads "strict": from
 * then on any kernel entry by that thread (a syscall other than prctl, exit
 * and exit_group; a page fault; a trap; a delivered signal) is a violation.
 *
 * The numbers follow Chris Metcalf's 2015 "dataplane strict mode" kernel
 * patches, moved out of the kernel's prctl range (the seed's 47/48 are taken
 * by mainline now), so that an unsupervised program gets EINVAL and can tell.
 * State is per thread.
 */
#ifndef DPSUPERVISE_LIB_DATAPLANE_H_
#define DPSUPERVISE_LIB_DATAPLANE_H_

#ifdef __cplusplus
extern "C" {
#endif

/* prctl(PR_SET_DATAPLANE, flags, 0, 0, 0): set the calling thread's flags.
 * flags 0 leaves strict mode. Returns 0, or -1 with errno EINVAL when not
 * supervised or when flags has unknown bits or a bad signal number. */
#define PR_SET_DATAPLANE 0x44500001
/* prctl(PR_GET_DATAPLANE, 0, 0, 0, 0): returns the calling thread's flags. */
#define PR_GET_DATAPLANE 0x44500002

/* Wait for the CPU to go quiet before returning from PR_SET_DATAPLANE. */
#define PR_DATAPLANE_QUIESCE (1 << 0)
/* Any kernel entry by this thread is a violation. */
#define PR_DATAPLANE_STRICT (1 << 1)
/* Signal to deliver on this thread's violations (0: the policy's default). */
#define PR_DATAPLANE_SIG(sig) ((sig) << 8)
/* Extracts the signal number from a flags word. */
#define PR_DATAPLANE_SIG_OF(flags) (((flags) >> 8) & 0xff)
/* Every bit the ABI defines; any other bit set is EINVAL. */
#define PR_DATAPLANE_VALID_MASK (PR_DATAPLANE_QUIESCE | PR_DATAPLANE_STRICT | 0xff00)

/* Makes the calling thread strict. `flags` may add PR_DATAPLANE_QUIESCE and
 * PR_DATAPLANE_SIG(sig); PR_DATAPLANE_STRICT is implied. Returns 0, or -1 with
 * errno (EINVAL when not supervised, EPERM when preflight refused entry). */
int dp_enter_strict(int flags);

/* Leaves strict mode. Returns 0, or -1 with errno. */
int dp_exit_strict(void);

/* Returns the calling thread's flags (0 when not strict), or -1 with errno
 * EINVAL when not supervised. */
int dp_status(void);

/* Returns 1 when the program runs under dpsupervise, 0 otherwise. */
int dp_supervised(void);

/* Busy-waits, without entering the kernel, until the calling thread has run
 * for `window_ns` with no interruption longer than `threshold_ns`: it reads
 * the TSC in a tight loop and treats a gap between two consecutive reads
 * longer than the threshold as an interruption (IRQ, timer tick, preemption,
 * VM exit), restarting the window. Returns 0 once the window was quiet, or -1
 * with errno ETIMEDOUT after `timeout_ns`, or EINVAL when threshold_ns is 0
 * or window_ns > timeout_ns. window_ns 0 returns 0 at once. Usable from a
 * strict thread: the loop makes no syscall.
 *
 * The first call calibrates the TSC against clock_gettime(CLOCK_MONOTONIC)
 * for about 2 ms. That is a vDSO call, not a kernel entry, only while the
 * clocksource is vDSO-capable (/sys/devices/system/clocksource/clocksource0/
 * current_clocksource is "tsc"; dpsupervise's preflight checks it). With
 * another clocksource (hpet, acpi_pm: the kernel found the TSC unstable)
 * calibration is a real syscall, hence a violation when made in strict mode,
 * and gaps measured with an unstable TSC may be wrong. Make a first call
 * before entering strict mode, e.g. dp_wait_quiet(1, 0, 0), which calibrates
 * and returns, and lock memory (mlockall) so the loop's pages do not fault.
 *
 * It observes; it does not make the CPU quiet. Quiet for the window says
 * nothing about the next tick: see docs/quiesce-and-noise.md. */
int dp_wait_quiet(unsigned long long threshold_ns, unsigned long long window_ns,
                  unsigned long long timeout_ns);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DPSUPERVISE_LIB_DATAPLANE_H_ */
