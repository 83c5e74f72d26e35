/* The XNNPACK entry points the xnnpack backend uses, resolved at run time with dlopen.
 *
 * Why dlopen and not -lXNNPACK: the backend is linked into edgebench statically (and built as a
 * plugin later); resolving the library at open keeps the core binary free of a link-time
 * dependency, so a machine without libxnnpack0 still runs edgebench and `edgebench backends`
 * says why xnnpack is unavailable.  The types come from /usr/include/xnnpack.h (Debian's
 * libxnnpack-dev, snapshot 0.0~git20220216); without that header the backend builds as a stub
 * whose probe says so (EB_XNN_HAVE_HEADER is 0).
 *
 * Not a public interface: only plugins/xnnpack/ and tests/unit/test_xnnpack.c include it.
 */
#ifndef EB_XNN_API_H
#define EB_XNN_API_H

#include <stddef.h>

#if defined(__has_include)
#if __has_include(<xnnpack.h>) && __has_include(<pthreadpool.h>)
#define EB_XNN_HAVE_HEADER 1
#endif
#endif
#ifndef EB_XNN_HAVE_HEADER
#define EB_XNN_HAVE_HEADER 0
#endif

#if EB_XNN_HAVE_HEADER
#include <pthreadpool.h>
#include <xnnpack.h>

/* X(name): every function the backend calls, looked up by its own name. */
#define EB_XNN_FUNCS(X)                                                                         \
    X(xnn_initialize)                                                                           \
    X(xnn_create_subgraph)                                                                      \
    X(xnn_delete_subgraph)                                                                      \
    X(xnn_define_tensor_value)                                                                  \
    X(xnn_define_quantized_tensor_value)                                                        \
    X(xnn_define_channelwise_quantized_tensor_value)                                            \
    X(xnn_define_convert)                                                                       \
    X(xnn_define_convolution_2d)                                                                \
    X(xnn_define_depthwise_convolution_2d)                                                      \
    X(xnn_define_fully_connected)                                                               \
    X(xnn_define_max_pooling_2d)                                                                \
    X(xnn_define_average_pooling_2d)                                                            \
    X(xnn_define_global_average_pooling_2d)                                                     \
    X(xnn_define_static_constant_pad)                                                           \
    X(xnn_define_static_reshape)                                                                \
    X(xnn_define_add2)                                                                          \
    X(xnn_define_multiply2)                                                                     \
    X(xnn_define_subtract)                                                                      \
    X(xnn_define_divide)                                                                        \
    X(xnn_define_clamp)                                                                         \
    X(xnn_define_sigmoid)                                                                       \
    X(xnn_define_hardswish)                                                                     \
    X(xnn_define_leaky_relu)                                                                    \
    X(xnn_define_abs)                                                                           \
    X(xnn_define_negate)                                                                        \
    X(xnn_define_floor)                                                                         \
    X(xnn_define_ceiling)                                                                       \
    X(xnn_define_square_root)                                                                   \
    X(xnn_define_softmax)                                                                       \
    X(xnn_create_runtime_v2)                                                                    \
    X(xnn_setup_runtime)                                                                        \
    X(xnn_invoke_runtime)                                                                       \
    X(xnn_delete_runtime)                                                                       \
    X(pthreadpool_create)                                                                       \
    X(pthreadpool_destroy)

typedef struct eb_xnn_api {
    void *lib; /* dlopen handle */
#define EB_XNN_FIELD(name) __typeof__(&name) name;
    EB_XNN_FUNCS(EB_XNN_FIELD)
#undef EB_XNN_FIELD
} eb_xnn_api;
#else
typedef struct eb_xnn_api {
    void *lib;
} eb_xnn_api;
#endif

/* The library file tried first, and the environment variable that overrides it. */
#define EB_XNN_LIBRARY "libXNNPACK.so.0"
#define EB_XNN_LIBRARY_ENV "EDGEBENCH_XNNPACK_LIB"

/* Opens the library and resolves every function into api, then calls xnn_initialize.
 * 0, or -1 with why (one line naming the library and the fix). */
int eb_xnn_api_open(eb_xnn_api *api, char *why, size_t n);
/* Closes what eb_xnn_api_open opened (safe on a zeroed api). */
void eb_xnn_api_close(eb_xnn_api *api);
/* XNNPACK's status as a word, for messages. */
const char *eb_xnn_status_name(int status);

#endif
