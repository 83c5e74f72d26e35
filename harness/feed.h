/* Input batches for a model: filled from the dataset's samples (or seeded random values when
 * the scenario has no dataset), all allocated before any timed call. */
#ifndef EB_FEED_H
#define EB_FEED_H

#include <stddef.h>

#include "../backends/backend.h"
#include "dataset.h"

#define EB_FEED_SLOTS 8 /* distinct batches the timed loop cycles through */

typedef struct eb_feed {
    size_t n_slots;
    size_t n_inputs;
    eb_tensor slots[EB_FEED_SLOTS][EB_MAX_IO];
    const eb_dataset *data;
    size_t batch;
} eb_feed;

/* Checks that the dataset fits input 0 of `io` (same elements per sample, float32, one input)
 * and allocates the slots.  Without a dataset every input is filled with uniform [0,1) values.
 * The error names both shapes when they do not fit. */
int eb_feed_init(eb_feed *f, const eb_io *io, const eb_dataset *data, int batch, eb_err *err);

/* Copies samples first, first+1, ... (wrapping around the dataset) into slot `slot`. */
void eb_feed_fill(eb_feed *f, size_t slot, size_t first);

void eb_feed_free(eb_feed *f);

#endif
