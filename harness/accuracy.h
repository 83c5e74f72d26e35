/* Top-1 / top-5 accuracy from class scores.  Ties rank the lower class index first, as
 * argmax does in NumPy and PyTorch, so accuracies match theirs exactly. */
#ifndef EB_ACCURACY_H
#define EB_ACCURACY_H

#include <stddef.h>

typedef struct eb_accuracy {
    long samples, top1, top5;
} eb_accuracy;

/* Rank of `label` among `scores` (0 = the model's first choice). */
size_t eb_accuracy_rank(const float *scores, size_t classes, int label);

void eb_accuracy_add(eb_accuracy *a, const float *scores, size_t classes, int label);

#endif
