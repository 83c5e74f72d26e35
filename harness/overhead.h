/* The harness's own cost per timed iteration, measured at the start of every run and written
 * to run.csv: the mock backend returns at once on a one-value input, so what the loop measures
 * is the two clock reads and the call through the backend table — the floor under every
 * latency edgebench reports. */
#ifndef EB_OVERHEAD_H
#define EB_OVERHEAD_H

/* Median nanoseconds per iteration over 20,000 iterations (a few ms); NaN if the mock cannot
 * be opened. */
double eb_overhead_ns_per_iteration(void);

#endif
