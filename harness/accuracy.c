#include "accuracy.h"

size_t eb_accuracy_rank(const float *scores, size_t classes, int label)
{
    size_t rank = 0;
    float s = scores[label];
    for (size_t j = 0; j < classes; j++)
        if (scores[j] > s || (scores[j] == s && j < (size_t)label))
            rank++;
    return rank;
}

void eb_accuracy_add(eb_accuracy *a, const float *scores, size_t classes, int label)
{
    size_t rank = label >= 0 && (size_t)label < classes ? eb_accuracy_rank(scores, classes, label)
                                                        : classes;
    a->samples++;
    a->top1 += rank < 1;
    a->top5 += rank < 5;
}
