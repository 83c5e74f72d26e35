/* NumPy .npy reader and writer.
 *
 * The format (numpy/lib/format.py): 6 magic bytes "\x93NUMPY", major and minor version bytes,
 * a little-endian header length (uint16 in 1.0, uint32 in 2.0 and 3.0), then a Python dict
 * literal with 'descr', 'fortran_order' and 'shape', padded with spaces and a final '\n' so
 * the data starts on a 64-byte boundary; then the raw array bytes.
 *
 * We parse the dict by hand rather than pulling in a Python-literal parser: numpy writes it in
 * one fixed style, and anything we do not understand is refused with a message that says what
 * we found.
 */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Data is copied as-is: the host must be little-endian like the files we accept. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64
/* numpy refuses headers above this size too (format.py's _MAX_HEADER_SIZE guard is 10000 by
 * default); a larger one means a corrupt or hostile file. */
#define NPY_MAX_HEADER (1u << 20)

static const struct {
    eb_dtype dtype;
    const char *descr; /* as numpy writes it on a little-endian machine */
} npy_descr_table[] = {
    {EB_F32, "<f4"}, {EB_F64, "<f8"}, {EB_I8, "|i1"},  {EB_U8, "|u1"},
    {EB_I16, "<i2"}, {EB_I32, "<i4"}, {EB_I64, "<i8"}, {EB_BOOL, "|b1"},
};
#define NPY_N_DESCR (sizeof npy_descr_table / sizeof npy_descr_table[0])

/* Maps a descr string to a dtype.  One-byte types may carry '|', '<' or '=' (all mean the
 * same thing); wider types must be explicitly little-endian ('<'), or '=' which numpy never
 * writes but which on every machine we target means little-endian. */
static int npy_parse_descr(const char *path, const char *d, eb_dtype *out, eb_err *err)
{
    if (d[0] == '>')
        return eb_errf(err,
                       "%s: big-endian array (descr '%s') is not supported; re-save it with "
                       "arr.astype(arr.dtype.newbyteorder('<')) in numpy",
                       path, d);
    for (size_t i = 0; i < NPY_N_DESCR; i++) {
        const char *want = npy_descr_table[i].descr;
        if (strcmp(d + 1, want + 1) != 0)
            continue;
        if (d[0] == want[0] || d[0] == '=' || (want[0] == '|' && d[0] == '<')) {
            *out = npy_descr_table[i].dtype;
            return 0;
        }
    }
    return eb_errf(err,
                   "%s: unsupported dtype '%s'; use one of float32, float64, int8, uint8, "
                   "int16, int32, int64, bool (little-endian)",
                   path, d);
}

/* Finds `'key':` in the header dict and returns a pointer just past the colon and spaces. */
static const char *npy_find_key(const char *hdr, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(hdr, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\"", key);
        p = strstr(hdr, pat);
    }
    if (!p)
        return NULL;
    p += strlen(pat);
    while (isspace((unsigned char)*p))
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

static int npy_parse_header(const char *path, const char *hdr, eb_tensor *t, eb_err *err)
{
    const char *p = npy_find_key(hdr, "descr");
    if (!p || (*p != '\'' && *p != '"'))
        return eb_errf(err, "%s: header has no 'descr' string (not a .npy written by numpy?)",
                       path);
    char q = *p++;
    char descr[16];
    size_t n = 0;
    while (*p && *p != q && n + 1 < sizeof descr)
        descr[n++] = *p++;
    descr[n] = '\0';
    if (*p != q)
        return eb_errf(err, "%s: header 'descr' is not a simple type string (structured "
                            "arrays are not supported)", path);
    if (npy_parse_descr(path, descr, &t->dtype, err))
        return -1;

    p = npy_find_key(hdr, "fortran_order");
    if (!p)
        return eb_errf(err, "%s: header has no 'fortran_order'", path);
    if (strncmp(p, "True", 4) == 0)
        return eb_errf(err,
                       "%s: Fortran-order array is not supported; re-save it with "
                       "np.save(path, np.ascontiguousarray(arr))",
                       path);
    if (strncmp(p, "False", 5) != 0)
        return eb_errf(err, "%s: header 'fortran_order' is neither True nor False", path);

    p = npy_find_key(hdr, "shape");
    if (!p || *p != '(')
        return eb_errf(err, "%s: header has no 'shape' tuple", path);
    p++;
    t->ndim = 0;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ')')
            break;
        if (!isdigit((unsigned char)*p))
            return eb_errf(err, "%s: header 'shape' is malformed near \"%.20s\"", path, p);
        if (t->ndim == EB_MAX_DIMS)
            return eb_errf(err, "%s: array has more than %d dimensions", path, EB_MAX_DIMS);
        errno = 0;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (errno || v < 0)
            return eb_errf(err, "%s: header 'shape' has an out-of-range dimension", path);
        t->shape[t->ndim++] = v;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ',')
            p++;
        else if (*p != ')')
            return eb_errf(err, "%s: header 'shape' is malformed near \"%.20s\"", path, p);
    }
    return 0;
}

/* Element count with overflow detection: returns -1 if it does not fit in size_t bytes. */
static int npy_checked_bytes(const eb_tensor *t, size_t *bytes)
{
    size_t n = eb_dtype_size(t->dtype);
    for (int i = 0; i < t->ndim; i++) {
        size_t d = (size_t)t->shape[i];
        if (d && n > SIZE_MAX / d)
            return -1;
        n *= d;
    }
    *bytes = n;
    return 0;
}

int eb_npy_read(const char *path, eb_tensor *out, eb_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return eb_errf(err, "%s: cannot open: %s", path, strerror(errno));

    unsigned char pre[12];
    char *hdr = NULL;
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        fclose(f);
        return eb_errf(err, "%s: not a .npy file (bad magic); write it with numpy.save", path);
    }
    unsigned major = pre[6];
    size_t hlen, pre_len;
    if (major == 1) {
        if (fread(pre + 8, 1, 2, f) != 2)
            goto truncated;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        pre_len = 10;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 8, 1, 4, f) != 4)
            goto truncated;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
               (size_t)pre[11] << 24;
        pre_len = 12;
    } else {
        fclose(f);
        return eb_errf(err, "%s: unsupported .npy format version %u.%u (1.0, 2.0, 3.0 are)",
                       path, major, pre[7]);
    }
    if (hlen > NPY_MAX_HEADER) {
        fclose(f);
        return eb_errf(err, "%s: .npy header length %zu is implausible; the file is corrupt",
                        path, hlen);
    }
    hdr = malloc(hlen + 1);
    if (!hdr) {
        fclose(f);
        return eb_errf(err, "%s: out of memory", path);
    }
    if (fread(hdr, 1, hlen, f) != hlen)
        goto truncated;
    hdr[hlen] = '\0';
    if (npy_parse_header(path, hdr, out, err)) {
        free(hdr);
        fclose(f);
        return -1;
    }
    free(hdr);
    hdr = NULL;

    size_t bytes;
    if (npy_checked_bytes(out, &bytes)) {
        fclose(f);
        return eb_errf(err, "%s: array shape is too large to address", path);
    }
    /* Check the size before allocating, so a corrupt shape cannot ask for terabytes. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (unsigned long long)st.st_size < pre_len + hlen + (unsigned long long)bytes) {
        char sb[128];
        fclose(f);
        return eb_errf(err,
                       "%s: truncated: header says %s %s (%zu data bytes) but the file has "
                       "only %llu after the header",
                       path, eb_dtype_name(out->dtype), eb_shape_str(out, sb, sizeof sb), bytes,
                       (unsigned long long)st.st_size - pre_len - hlen);
    }
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data) {
        fclose(f);
        return eb_errf(err, "%s: out of memory for %zu bytes", path, bytes);
    }
    if (fread(out->data, 1, bytes, f) != bytes)
        goto truncated;
    fclose(f);
    return 0;

truncated:
    free(hdr);
    eb_tensor_free(out);
    fclose(f);
    return eb_errf(err, "%s: truncated .npy file; re-save it with numpy.save", path);
}

int eb_npy_write(const char *path, const eb_tensor *t, eb_err *err)
{
    const char *descr = NULL;
    for (size_t i = 0; i < NPY_N_DESCR; i++)
        if (npy_descr_table[i].dtype == t->dtype)
            descr = npy_descr_table[i].descr;
    if (!descr)
        return eb_errf(err, "%s: cannot write dtype %s to .npy", path, eb_dtype_name(t->dtype));
    if (t->ndim < 0 || t->ndim > EB_MAX_DIMS)
        return eb_errf(err, "%s: bad tensor rank %d", path, t->ndim);

    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       descr);
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0)
            return eb_errf(err, "%s: cannot write a tensor with a symbolic dimension", path);
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%lld,%s",
                        (long long)t->shape[i], i + 1 < t->ndim ? " " : "");
    }
    /* numpy writes "(3,)" for one dimension and "(2, 3)" for more: drop the trailing comma
     * only when there are two or more dimensions, as Python's tuple repr does. */
    if (t->ndim > 1)
        len--;
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");

    /* Pad with spaces so magic(6) + version(2) + length(2) + dict + '\n' is a multiple of 64. */
    size_t total = NPY_MAGIC_LEN + 2 + 2 + (size_t)len + 1;
    size_t pad = (NPY_ALIGN - total % NPY_ALIGN) % NPY_ALIGN;
    size_t hlen = (size_t)len + pad + 1;
    if (hlen > 65535)
        return eb_errf(err, "%s: .npy header too long", path);

    FILE *f = fopen(path, "wb");
    if (!f)
        return eb_errf(err, "%s: cannot create: %s", path, strerror(errno));
    unsigned char pre[10];
    memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    fwrite(pre, 1, sizeof pre, f);
    fwrite(dict, 1, (size_t)len, f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    size_t bytes = eb_tensor_bytes(t);
    if (bytes)
        fwrite(t->data, 1, bytes, f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return eb_errf(err, "%s: write failed: %s", path, strerror(errno));
    return 0;
}
