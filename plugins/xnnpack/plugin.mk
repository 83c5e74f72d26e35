# backend-xnnpack.so: the XNNPACK backend as a plugin (plugins/README.md).  It maps ONNX graphs
# with ref's loader and shape inference, so it links its own copy of ref (backends/ref/*.c and
# the generated ONNX protobuf code); -Bsymbolic and hidden visibility keep that copy private to
# the plugin.  libXNNPACK itself is opened with dlopen at open() (xnn_api.c), not linked.
PLUGIN_CFLAGS_xnnpack := -DEB_PLUGIN -fvisibility=hidden
PLUGIN_LIBS_xnnpack   := $(shell pkg-config --libs libprotobuf-c hwloc 2>/dev/null) -ldl
build/lib/edgebench/backend-xnnpack.so: $(wildcard backends/ref/*.c backends/ref/*.h) build/gen/onnx.pb-c.c
