/* Memory beyond VmHWM: the model's own share and the process's proportional set size.
 *
 * Definitions (for the results.csv columns the lead adds beside peak_rss_kb):
 *   model_rss_kb  VmRSS after the model is loaded minus VmRSS just before (KiB), in the trial
 *                 child: what loading the model added to resident memory (weights, plan,
 *                 arenas allocated at load).  Reported as measured: it can be small or even
 *                 negative when loading returned freed pages to the OS, and it does not count
 *                 memory that the first inferences allocate later.
 *   pss_kb        proportional set size of the trial child after the timed loop (KiB): its
 *                 private pages plus its share of pages shared with other processes (libc, a
 *                 mapped model file shared with another process), from /proc/self/smaps_rollup
 *                 (Linux 4.14+), else the sum of the Pss: lines of /proc/self/smaps; empty,
 *                 with the reason in pss_note, when the kernel offers neither.
 *
 * How the trial child uses it:
 *
 *     long rss0, rss1, hwm;
 *     eb_device_memory(&rss0, &hwm);          // before opening the backend / loading
 *     ... open backend, load model ...
 *     eb_device_memory(&rss1, &hwm);
 *     long model_kb;
 *     if (eb_memory_model_kb(rss0, rss1, &model_kb) == 0) -> model_rss_kb, else empty
 *     ... warm-up, timed loop ...
 *     char note[128];
 *     row.pss_kb = eb_memory_pss_kb(note, sizeof note);    // -1: empty cell, note says why
 */
#ifndef EB_MEMORY_PSS_H
#define EB_MEMORY_PSS_H

#include <stddef.h>

/* PSS of the calling process in KiB, or -1.  On success note receives the source
 * ("smaps_rollup" or "smaps"); on failure, the reason. */
long eb_memory_pss_kb(char *note, size_t n);

/* The same from explicit files (tests; another process's /proc/PID/...): rollup is tried
 * first, smaps when rollup does not exist.  Either may be NULL. */
long eb_memory_pss_kb_from(const char *rollup, const char *smaps, char *note, size_t n);

/* Sets *kb = rss_after_kb - rss_before_kb (negative allowed, see above) and returns 0; returns
 * -1 (empty cell) when either reading is unknown (< 0, as eb_device_memory reports it). */
int eb_memory_model_kb(long rss_before_kb, long rss_after_kb, long *kb);

#endif
