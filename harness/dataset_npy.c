/* dataset.npy{}: x.npy (N x ..., any numeric dtype) and optional y.npy (N integer labels). */
#include "dataset.h"
#include "npy.h"

int eb_npy_read_f32(const char *path, eb_tensor *out, eb_err *err)
{
    if (eb_npy_read(path, out, err))
        return -1;
    if (eb_tensor_to_f32(out, err)) {
        eb_tensor_free(out);
        return eb_err_prefix(err, "%s", path);
    }
    return 0;
}

int eb_npy_read_labels(const char *path, int32_t **labels, size_t *n, eb_err *err)
{
    eb_tensor t;
    *labels = NULL;
    *n = 0;
    if (eb_npy_read(path, &t, err))
        return -1;
    int rc = eb_labels_from_tensor(&t, path, labels, n, err);
    eb_tensor_free(&t);
    return rc;
}
