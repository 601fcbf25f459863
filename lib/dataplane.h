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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DPSUPERVISE_LIB_DATAPLANE_H_ */
