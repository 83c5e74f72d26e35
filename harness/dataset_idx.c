/* IDX files (the MNIST format), plain or gzip'd: zlib's gzread reads both transparently.
 *
 * Layout (yann.lecun.com/exdb/mnist): two zero bytes, a type byte (0x08 uint8, 0x09 int8,
 * 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), a byte with the number of
 * dimensions, then one big-endian uint32 per dimension, then the data, big-endian, C order.
 * MNIST's labels are 0x00000801 (N) and its images 0x00000803 (N x rows x cols).
 */
#include "dataset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* Reads in chunks: gzread takes an unsigned length, and growing the buffer as data arrives
 * means a header that claims terabytes fails on the short read, not in malloc. */
#define IDX_CHUNK (1u << 20)

static eb_dtype idx_dtype(unsigned char code)
{
    switch (code) {
    case 0x08: return EB_U8;
    case 0x09: return EB_I8;
    case 0x0B: return EB_I16;
    case 0x0C: return EB_I32;
    case 0x0D: return EB_F32;
    case 0x0E: return EB_F64;
    default: return EB_DTYPE_UNDEFINED;
    }
}

/* Reads up to n bytes; returns the count, or -1 on a zlib error (message in err). */
static long long idx_gzread(gzFile g, const char *path, void *buf, size_t n, eb_err *err)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < IDX_CHUNK ? n - got : IDX_CHUNK;
        int r = gzread(g, (char *)buf + got, (unsigned)want);
        if (r < 0) {
            int code;
            const char *msg = gzerror(g, &code);
            return eb_errf(err, "%s: corrupt gzip data (%s); download the file again", path,
                           code == Z_ERRNO ? strerror(errno) : msg);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long long)got;
}

static void idx_swap(void *data, size_t numel, size_t size)
{
    unsigned char *p = data;
    for (size_t i = 0; i < numel; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* Reads an IDX file into a tensor of its own dtype, in host byte order. */
static int idx_read_raw(const char *path, eb_tensor *out, eb_err *err)
{
    memset(out, 0, sizeof *out);
    errno = 0;
    gzFile g = gzopen(path, "rb");
    if (!g)
        return eb_errf(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "zlib error");
    unsigned char magic[4];
    long long r = idx_gzread(g, path, magic, 4, err);
    if (r < 0)
        goto fail_quiet;
    if (r < 4 || magic[0] != 0 || magic[1] != 0) {
        eb_errf(err,
                "%s: not an IDX file (magic %02x%02x%02x%02x; MNIST-format files start with "
                "00000801 or 00000803)",
                path, r > 0 ? magic[0] : 0, r > 1 ? magic[1] : 0, r > 2 ? magic[2] : 0,
                r > 3 ? magic[3] : 0);
        goto fail_quiet;
    }
    out->dtype = idx_dtype(magic[2]);
    if (out->dtype == EB_DTYPE_UNDEFINED) {
        eb_errf(err, "%s: unknown IDX element type 0x%02x (known: 08 09 0B 0C 0D 0E)", path,
                magic[2]);
        goto fail_quiet;
    }
    if (magic[3] < 1 || magic[3] > EB_MAX_DIMS) {
        eb_errf(err, "%s: IDX file has %d dimensions; 1 to %d are supported", path, magic[3],
                EB_MAX_DIMS);
        goto fail_quiet;
    }
    out->ndim = magic[3];
    unsigned char dims[4 * EB_MAX_DIMS];
    r = idx_gzread(g, path, dims, 4 * (size_t)out->ndim, err);
    if (r < 0)
        goto fail_quiet;
    if (r < 4 * out->ndim) {
        eb_errf(err, "%s: truncated IDX header (%d dimensions announced); the file is cut short",
                path, out->ndim);
        goto fail_quiet;
    }
    size_t esize = eb_dtype_size(out->dtype), bytes = esize;
    for (int i = 0; i < out->ndim; i++) {
        const unsigned char *d = dims + 4 * i;
        uint32_t v = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
        out->shape[i] = v;
        if (v && bytes > SIZE_MAX / v) {
            eb_errf(err, "%s: IDX header claims an impossibly large array; the file is corrupt",
                    path);
            goto fail_quiet;
        }
        bytes *= v;
    }

    /* Grow geometrically up to the announced size. */
    size_t cap = 0, got = 0;
    unsigned char *buf = NULL;
    while (got < bytes) {
        size_t want = cap ? cap * 2 : IDX_CHUNK;
        if (want > bytes)
            want = bytes;
        unsigned char *nb = realloc(buf, want);
        if (!nb) {
            free(buf);
            eb_errf(err, "%s: out of memory reading %zu bytes", path, bytes);
            goto fail_quiet;
        }
        buf = nb;
        cap = want;
        r = idx_gzread(g, path, buf + got, cap - got, err);
        if (r < 0) {
            free(buf);
            goto fail_quiet;
        }
        got += (size_t)r;
        if (got < cap)
            break; /* end of file */
    }
    if (got < bytes) {
        char sb[128];
        eb_errf(err,
                "%s: truncated: the header says %s %s (%zu bytes) but the data ends after %zu "
                "bytes; the file is cut short or not what its header says",
                path, eb_dtype_name(out->dtype), eb_shape_str(out, sb, sizeof sb), bytes, got);
        free(buf);
        goto fail_quiet;
    }
    gzclose(g);
    if (esize > 1)
        idx_swap(buf, bytes / esize, esize);
    out->data = buf ? buf : malloc(1);
    if (!out->data)
        return eb_errf(err, "%s: out of memory", path);
    return 0;

fail_quiet:
    gzclose(g);
    out->data = NULL;
    return -1;
}

int eb_idx_read(const char *path, eb_tensor *out, eb_err *err)
{
    if (idx_read_raw(path, out, err))
        return -1;
    if (eb_tensor_to_f32(out, err)) {
        eb_tensor_free(out);
        return eb_err_prefix(err, "%s", path);
    }
    return 0;
}

int eb_idx_read_labels(const char *path, int32_t **labels, size_t *n, eb_err *err)
{
    eb_tensor t;
    *labels = NULL;
    *n = 0;
    if (idx_read_raw(path, &t, err))
        return -1;
    int rc = 0;
    if (t.dtype == EB_F32 || t.dtype == EB_F64)
        rc = eb_errf(err, "%s: labels must be integers, but the IDX type is %s", path,
                     eb_dtype_name(t.dtype));
    else
        rc = eb_labels_from_tensor(&t, path, labels, n, err);
    eb_tensor_free(&t);
    return rc;
}
