/* The device as the harness sees it: hwloc topology, pinning, OS state that moves numbers.
 * All reads of /sys and /proc that describe the device go through here. */
#ifndef EB_DEVICE_H
#define EB_DEVICE_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "results.h"

/* Prints the `edgebench info` report: CPU model, packages, cores, PUs, caches, core kinds,
 * memory, OS, compiler, governor, frequencies, load average. */
int eb_device_print_info(FILE *f, eb_err *err);

/* Fills up to max key/value pairs of run metadata (cpu_model, cores, pus, memory_kb, os,
 * kernel, compiler, governor, cpu_mhz, loadavg, fingerprint, ...).  Values that do not
 * exist on this device are "n/a".  Returns the number of pairs written. */
size_t eb_device_metadata(eb_kv *kv, size_t max);

/* A stable fingerprint of the hardware and OS (CPU model, core/PU counts, memory, kernel),
 * so that runs from different devices are not compared by accident. */
void eb_device_fingerprint(char *buf, size_t n);

/* Checks a cores spec without binding: "all", or a list of logical core indexes and ranges
 * ("0,2", "0-3").  Returns -1 with a message if it names cores this device lacks. */
int eb_device_cores_check(const char *cores, eb_err *err);

/* Resolves a cores spec (as eb_device_cores_check takes it) to the PUs it names, without
 * binding, and writes them as a list of OS PU numbers ("4-7") into `pus`.  "big"/"little" are
 * the core kinds hwloc ranks highest/lowest; on a homogeneous device both mean "all". */
int eb_device_cores_pus(const char *cores, char *pus, size_t n, eb_err *err);

/* Binds the calling process to the PUs of `cores` with hwloc (threads then inherit it), and
 * writes the cpuset actually bound, as a list ("0-1"), into `bound`. */
int eb_device_pin(const char *cores, char *bound, size_t n, eb_err *err);

/* Memory of the calling process from /proc/self/status: VmRSS and VmHWM in KiB (-1 when
 * unavailable). */
void eb_device_memory(long *rss_kb, long *hwm_kb);

#endif
