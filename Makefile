# edgebench — build, run, test.  `make run` and `make test` install what is missing first.
CC      ?= cc
PKGS    := lua5.4 hwloc libprotobuf-c zlib
PYTHON  := /usr/bin/python3
DEPS_OK := build/.deps-ok

# pkg-config is asked lazily (=) so `make deps` works before the packages exist.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
           -Wno-unused-parameter -pthread -MMD -MP
CPPFLAGS += -Iharness -Ibackends -Ibuild/gen $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lcsv -lm -pthread
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CPPFLAGS += -DEB_VERSION='"$(VERSION)"' -DEB_GIT_COMMIT='"$(GIT_COMMIT)"'

# V=1 shows full command lines.
ifeq ($(V),1)
  Q :=
else
  Q := @
endif

# Sources: every .c under harness/ and backends/ (the one-concern-per-file layout means new
# files need no Makefile edit), plus generated code in build/gen.
LUA_SRC   := $(wildcard harness/lua/*.lua)
GEN_C     := build/gen/onnx.pb-c.c $(patsubst harness/lua/%.lua,build/gen/lua_%.c,$(LUA_SRC))
SRC       := $(wildcard harness/*.c backends/*/*.c backends/*/*/*.c)
MAIN_SRC  := harness/main.c
LIB_OBJ   := $(patsubst %.c,build/obj/%.o,$(filter-out $(MAIN_SRC),$(SRC)) $(GEN_C))
MAIN_OBJ  := build/obj/harness/main.o
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRC))

.PHONY: all deps run test unit cli crosscheck models clean
all: bin/edgebench $(UNIT_BIN) build/conformance/onnx_node_tests

$(DEPS_OK): scripts/deps.sh
	@bash scripts/deps.sh
	@mkdir -p build && touch $@
deps:
	@bash scripts/deps.sh && mkdir -p build && touch $(DEPS_OK)

build/gen/onnx.pb-c.c build/gen/onnx.pb-c.h: /usr/include/onnx/onnx.proto | $(DEPS_OK)
	@mkdir -p build/gen
	protoc-c --c_out=build/gen -I/usr/include/onnx /usr/include/onnx/onnx.proto

build/gen/lua_%.c: harness/lua/%.lua scripts/embed_text.sh
	@mkdir -p build/gen
	sh scripts/embed_text.sh eb_lua_$* $< > $@

# Every object waits for generated headers (a simple, always-correct order).
build/obj/%.o: %.c | build/gen/onnx.pb-c.h $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

bin/edgebench: $(MAIN_OBJ) $(LIB_OBJ)
	@mkdir -p bin
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/tests/%: tests/unit/%.c $(LIB_OBJ) | $(DEPS_OK)
	@mkdir -p build/tests
	@echo "  TEST    $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJ) $(LDLIBS) -lcmocka

run: bin/edgebench
	./bin/edgebench run scenarios/quickstart.lua

test: bin/edgebench $(UNIT_BIN) build/conformance/onnx_node_tests
	@bash tests/run.sh

# cross-aarch64: ref and the harness built for ARM and tested under qemu-user (needs
# `scripts/deps.sh --cross`); also the last layer of `make test` when those tools are present.
.PHONY: cross-aarch64
cross-aarch64: bin/edgebench
	@bash scripts/cross_aarch64.sh

models: | $(DEPS_OK)
	$(PYTHON) scripts/make_models.py

clean:
	rm -rf build bin

-include $(shell find build/obj -name '*.d' 2>/dev/null)

# ---- Real architectures, ONNX Runtime as the yardstick, `make bench` (issue 3) ----
# ort: npm's onnxruntime-node into scripts/ort/node_modules (scripts/deps.sh does the same step).
# export-models: torchvision/transformer exports with random weights into build/models/.
# torchvision: ref against PyTorch on those exports (tests/conformance/torchvision.py).
# bench: GEMM table (when tests/bench/gemm_bench.c exists), ref vs ONNX Runtime latencies, the
# zoo on every backend as ratios to ref (scripts/bench_backends.sh), the variants' ratios, ref's
# kernel sets (AVX-512 / AVX2 / portable) against each other, and the regression detector.
.PHONY: ort export-models torchvision bench
ORT_STAMP := scripts/ort/node_modules/onnxruntime-node/package.json
ort: $(ORT_STAMP)
$(ORT_STAMP): scripts/ort/package-lock.json
	cd scripts/ort && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

export-models: | $(DEPS_OK)
	$(PYTHON) scripts/export_models.py

torchvision: bin/edgebench | $(DEPS_OK)
	$(PYTHON) tests/conformance/torchvision.py

GEMM_BENCH := $(if $(wildcard tests/bench/gemm_bench.c),build/bench/gemm_bench)
build/bench/gemm_bench: tests/bench/gemm_bench.c $(LIB_OBJ) | $(DEPS_OK)
	@mkdir -p build/bench
	@echo "  BENCH   $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

bench: bin/edgebench $(ORT_STAMP) $(GEMM_BENCH) | $(DEPS_OK)
	bash scripts/bench.sh
	bash scripts/bench_backends.sh
	bash scripts/bench_variants.sh
	bash scripts/bench_isa.sh
	bash scripts/bench_compare.sh

# ---- ONNX node conformance (issue 3): ref on ONNX's node test suite (libonnx-testdata) ----
# Prints "OP: passed/total" per operator, refusals, unsupported operators, and closes with
# "N passed, N failed".  tests/conformance/onnx_node_tests.c says what counts.
.PHONY: conformance
build/conformance/onnx_node_tests: tests/conformance/onnx_node_tests.c $(LIB_OBJ) | $(DEPS_OK)
	@mkdir -p build/conformance
	@echo "  CONF    $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

conformance: build/conformance/onnx_node_tests
	build/conformance/onnx_node_tests

# ---- Backend plugins (issue 7): plugins/NAME/*.c -> build/lib/edgebench/backend-NAME.so ----
# A plugin lives outside backends/ (whose sources all go into the executable) and is
# self-contained: it links its own copies of harness/err.c and harness/tensor.c, so it needs no
# symbol from the executable (no -rdynamic; --no-undefined checks it).  plugins/NAME/plugin.mk
# may set PLUGIN_CFLAGS_NAME and PLUGIN_LIBS_NAME (e.g. -lXNNPACK -lpthreadpool).
# plugins/README.md says more.  The test plugins (tests/plugins/) exercise the loader.
.PHONY: plugins
PLUGIN_NAMES  := $(notdir $(patsubst %/,%,$(wildcard plugins/*/)))
PLUGIN_SO     := $(patsubst %,build/lib/edgebench/backend-%.so,$(PLUGIN_NAMES))
PLUGIN_COMMON := harness/err.c harness/tensor.c
PLUGIN_CC      = $(CC) $(CPPFLAGS) $(filter-out -MMD -MP,$(CFLAGS)) -fPIC -shared -Wl,-Bsymbolic
-include $(wildcard plugins/*/plugin.mk)
plugins: $(PLUGIN_SO)
all: $(PLUGIN_SO)
bench: $(PLUGIN_SO)
# test_xnnpack reaches the xnnpack backend through the registry, as the plugin it is.
build/tests/test_xnnpack: $(filter %/backend-xnnpack.so,$(PLUGIN_SO))

.SECONDEXPANSION:
build/lib/edgebench/backend-%.so: $$(wildcard plugins/$$*/*.c plugins/$$*/*.h) $(PLUGIN_COMMON) backends/backend.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@echo "  PLUGIN  $@"
	$(Q)$(PLUGIN_CC) $(PLUGIN_CFLAGS_$*) -Wl,--no-undefined -o $@ $(filter %.c,$^) $(PLUGIN_LIBS_$*) -lm -pthread

# Test plugins for the loader's refusals (tests/unit/test_plugin.c, tests/cli/plugins.t): one
# good, one built for a newer API, one for API 1, one without the entry symbol, one with an
# unresolved symbol, one that is not a shared object at all.
TEST_PLUGIN_DIR := build/tests/plugins
TEST_PLUGINS := $(patsubst %,$(TEST_PLUGIN_DIR)/backend-%.so,testplugin testnewer testv1 testv2 testnoentry testunresolved testjunk)
TEST_PLUGIN_SRC := tests/plugins/testplugin.c $(PLUGIN_COMMON)
all test: $(TEST_PLUGINS)
build/tests/test_plugin: $(TEST_PLUGINS)
$(TEST_PLUGIN_DIR)/backend-testplugin.so: $(TEST_PLUGIN_SRC) backends/backend.h
	@mkdir -p $(dir $@)
	$(Q)$(PLUGIN_CC) -Wl,--no-undefined -o $@ $(TEST_PLUGIN_SRC)
$(TEST_PLUGIN_DIR)/backend-testnewer.so: $(TEST_PLUGIN_SRC) backends/backend.h
	@mkdir -p $(dir $@)
	$(Q)$(PLUGIN_CC) -DTESTPLUGIN_NAME='"testnewer"' -DTESTPLUGIN_API=99 -o $@ $(TEST_PLUGIN_SRC)
$(TEST_PLUGIN_DIR)/backend-testv1.so: $(TEST_PLUGIN_SRC) backends/backend.h
	@mkdir -p $(dir $@)
	$(Q)$(PLUGIN_CC) -DTESTPLUGIN_NAME='"testv1"' -DTESTPLUGIN_API=1 -o $@ $(TEST_PLUGIN_SRC)
$(TEST_PLUGIN_DIR)/backend-testv2.so: $(TEST_PLUGIN_SRC) backends/backend.h
	@mkdir -p $(dir $@)
	$(Q)$(PLUGIN_CC) -DTESTPLUGIN_NAME='"testv2"' -DTESTPLUGIN_API=2 -o $@ $(TEST_PLUGIN_SRC)
$(TEST_PLUGIN_DIR)/backend-testnoentry.so: $(TEST_PLUGIN_SRC) backends/backend.h
	@mkdir -p $(dir $@)
	$(Q)$(PLUGIN_CC) -DTESTPLUGIN_NAME='"testnoentry"' -DTESTPLUGIN_NO_ENTRY -o $@ $(TEST_PLUGIN_SRC)
$(TEST_PLUGIN_DIR)/backend-testunresolved.so: $(TEST_PLUGIN_SRC) backends/backend.h
	@mkdir -p $(dir $@)
	$(Q)$(PLUGIN_CC) -DTESTPLUGIN_NAME='"testunresolved"' -DTESTPLUGIN_UNRESOLVED -o $@ $(TEST_PLUGIN_SRC)
$(TEST_PLUGIN_DIR)/backend-testjunk.so:
	@mkdir -p $(dir $@)
	$(Q)echo 'not a shared object' > $@

# ---- TorchScript for the pytorch backend (issue 7) ----
# Every variant of models/*.onnx re-derived as the PyTorch module it is (float layers, LoRA
# branches, quantized and dynamic-quantized int8 modules), traced, checked against ref and
# written to build/torchscript/NAME.pt by scripts/export_torchscript.py (a few seconds); the
# pytorch backend finds them from the model's directory (../build/torchscript).  Not committed:
# models/ stays under 10 MiB.
.PHONY: torchscript
TORCHSCRIPT_STAMP := build/torchscript/.stamp
torchscript: $(TORCHSCRIPT_STAMP)
$(TORCHSCRIPT_STAMP): $(wildcard models/*.onnx) scripts/export_torchscript.py | bin/edgebench $(DEPS_OK)
	$(PYTHON) scripts/export_torchscript.py --out build/torchscript models
	@touch $@
test bench: $(TORCHSCRIPT_STAMP)

# ---- make install / uninstall (issue 7) ----
# PREFIX (default /usr/local), DESTDIR honoured:
#   PREFIX/bin/edgebench
#   PREFIX/lib/edgebench/backend-NAME.so     the plugins (the loader searches EXEDIR/../lib/edgebench)
#   PREFIX/lib/edgebench/workers/            ort_worker.js, torch_worker.py, PROTOCOL.md (worker.c
#                                            looks in EXEDIR/../lib/edgebench/workers)
#   PREFIX/lib/edgebench/node_modules        onnxruntime-node for ort_worker.js: ORT=link (default)
#                                            a symlink to this tree's scripts/ort/node_modules
#                                            (290 MB, kept where npm put it), ORT=copy a copy (for
#                                            a package or a tree that goes away), ORT=none nothing
#                                            (set EDGEBENCH_ORT_MODULES at run time instead)
# The model zoo and build/torchscript are not installed: run scenarios from the source tree, or
# point torchscript_dir / EDGEBENCH_TORCHSCRIPT_DIR at the exports.
.PHONY: install uninstall
PREFIX ?= /usr/local
ORT    ?= link
EB_INSTALL_LIB := $(DESTDIR)$(PREFIX)/lib/edgebench
EB_WORKER_FILES := backends/worker/ort_worker.js backends/worker/torch_worker.py backends/worker/PROTOCOL.md
install: bin/edgebench $(PLUGIN_SO)
	install -d $(DESTDIR)$(PREFIX)/bin $(EB_INSTALL_LIB)/workers
	install -m 755 bin/edgebench $(DESTDIR)$(PREFIX)/bin/edgebench
	$(if $(PLUGIN_SO),install -m 644 $(PLUGIN_SO) $(EB_INSTALL_LIB)/)
	install -m 644 $(EB_WORKER_FILES) $(EB_INSTALL_LIB)/workers/
	rm -rf $(EB_INSTALL_LIB)/node_modules
	@case "$(ORT)" in \
	  link) if [ -d scripts/ort/node_modules ]; then ln -s $(CURDIR)/scripts/ort/node_modules $(EB_INSTALL_LIB)/node_modules; \
	        else echo "install: scripts/ort/node_modules missing (make ort): onnxruntime not installed"; fi ;; \
	  copy) [ -d scripts/ort/node_modules ] || { echo "install: make ort first" >&2; exit 1; }; \
	        cp -a scripts/ort/node_modules $(EB_INSTALL_LIB)/node_modules ;; \
	  none) ;; \
	  *) echo "install: ORT=$(ORT): link, copy or none" >&2; exit 1 ;; \
	esac
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/edgebench $(patsubst %,$(EB_INSTALL_LIB)/backend-%.so,$(PLUGIN_NAMES))
	rm -f $(patsubst backends/worker/%,$(EB_INSTALL_LIB)/workers/%,$(EB_WORKER_FILES))
	rm -rf $(EB_INSTALL_LIB)/node_modules
	rmdir $(EB_INSTALL_LIB)/workers $(EB_INSTALL_LIB) 2>/dev/null || true
