/* Verifies where a trial's threads may run, after the backend started its workers: every
 * thread of the calling process (/proc/self/task) must be bound inside the trial's core set.
 * A backend that ignores the harness's pinning, or pins its workers elsewhere, shows up here
 * rather than silently measuring other cores.
 *
 *   eb_thread_binding b;
 *   eb_thread_binding_check("0-1", &b);   // after open (workers exist) and the first run
 *   // b.threads, b.ok (1 all inside, 0 some outside, -1 unknown), b.text "0 | 1 | 0-1"
 */
#ifndef EB_THREAD_BINDING_H
#define EB_THREAD_BINDING_H

#include <stddef.h>

typedef struct eb_thread_binding {
    int threads;    /* threads of the process seen */
    int ok;         /* 1: every thread's affinity lies inside `allowed`; 0: not; -1: unknown */
    char text[256]; /* each thread's CPU list, in /proc order, joined by " | " */
} eb_thread_binding;

/* allowed: the CPU list the trial was pinned to ("0-1", "2,3"), as eb_device_pin reports it. */
void eb_thread_binding_check(const char *allowed, eb_thread_binding *b);

#endif
