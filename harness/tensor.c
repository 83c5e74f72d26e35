#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    size_t size;
} dtype_table[] = {
    [EB_DTYPE_UNDEFINED] = {"undefined", 0},
    [EB_F32] = {"float32", 4},
    [EB_F64] = {"float64", 8},
    [EB_I8] = {"int8", 1},
    [EB_U8] = {"uint8", 1},
    [EB_I16] = {"int16", 2},
    [EB_I32] = {"int32", 4},
    [EB_I64] = {"int64", 8},
    [EB_BOOL] = {"bool", 1},
};

#define N_DTYPES (sizeof dtype_table / sizeof dtype_table[0])

size_t eb_dtype_size(eb_dtype t)
{
    return (unsigned)t < N_DTYPES ? dtype_table[t].size : 0;
}

const char *eb_dtype_name(eb_dtype t)
{
    return (unsigned)t < N_DTYPES ? dtype_table[t].name : "undefined";
}

eb_dtype eb_dtype_from_name(const char *name)
{
    for (size_t i = 1; i < N_DTYPES; i++)
        if (strcmp(dtype_table[i].name, name) == 0)
            return (eb_dtype)i;
    return EB_DTYPE_UNDEFINED;
}

size_t eb_tensor_numel(const eb_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0)
            return 0;
        n *= (size_t)t->shape[i];
    }
    return n;
}

size_t eb_tensor_bytes(const eb_tensor *t)
{
    return eb_tensor_numel(t) * eb_dtype_size(t->dtype);
}

const char *eb_shape_str(const eb_tensor *t, char *buf, size_t n)
{
    size_t used = 0;
    if (n == 0)
        return buf;
    buf[0] = '\0';
    if (t->ndim == 0) {
        snprintf(buf, n, "scalar");
        return buf;
    }
    for (int i = 0; i < t->ndim && used < n; i++) {
        int w = t->shape[i] < 0
                    ? snprintf(buf + used, n - used, "%s?", i ? "x" : "")
                    : snprintf(buf + used, n - used, "%s%lld", i ? "x" : "",
                               (long long)t->shape[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

void eb_tensor_free(eb_tensor *t)
{
    free(t->data);
    t->data = NULL;
}
