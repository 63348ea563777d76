# Plugins: hosts that dlopen plugins, the plugins, the load story
# and fork. `make plugin-test` runs them (part of `make test`); see the
# docs/plugins.md.
#
#   PLUGIN_CYCLES      dlopen/dlclose cycles per host (default 300)
#   PLUGIN_RSS_KIB     the bound on the host's RSS growth over them (KiB)
#   PLUGIN_STATIC_CYCLES  load/unload cycles of the static-copy plugins (default 50)

PB := $(B)/c-tests/plugins
PSRC := c-tests/plugins
PLUGIN_CYCLES ?= 300
PLUGIN_RSS_KIB ?= 512
# Unloading a static-copy plugin leaks its global: keep that loop short.
PLUGIN_STATIC_CYCLES ?= 50
# Valgrind is slow: fewer cycles there (the full count runs plain and under ASan).
# The RSS bound is checked in the plain runs only (ASan and valgrind keep freed
# memory in quarantine), hence the 100000 KiB passed to them.
PLUGIN_VG_CYCLES ?= 30

PLUGIN_CFLAGS := $(CSTD) $(CWARN) -g -O1 -Iinclude -Ic-tests -I$(PSRC)
PLUGIN_SO_FLAGS := -fPIC -shared -Wl,-z,defs
# Plugins find libkuberef.so.1 relative to themselves: build/c-tests/plugins -> build/lib.
PLUGIN_DYN := -L$(BLIB) -Wl,-rpath,'$$ORIGIN/../../lib' -lkuberef
# A private copy: every archive symbol local, only refplugin_init exported.
PLUGIN_STATIC_HIDDEN = -Wl,--exclude-libs,ALL -Wl,--version-script=$(PSRC)/plugin.map -Wl,--gc-sections \
                        $(BLIB)/libkuberef.a $(STATIC_LIBS)
PLUGIN_DEPS := $(PSRC)/plugin.c $(PSRC)/plugin.h include/kuberef.h

PLUGINS := $(PB)/plugin_a.so $(PB)/plugin_b.so $(PB)/plugin_abi2.so \
           $(PB)/plugin_static.so $(PB)/plugin_static_pinned.so $(PB)/plugin_static_naive.so
PLUGIN_HOSTS := $(PB)/host_nolink $(PB)/host_nolink.asan \
                $(PB)/host_linked $(PB)/host_linked.asan \
                $(PB)/host_linked_static_exported $(PB)/host_linked_static_hidden \
                $(PB)/static_cycles $(PB)/test_fork $(PB)/test_fork.asan
HOST_DEPS := $(PSRC)/host.h $(PSRC)/plugin.h c-tests/check.h include/kuberef.h

TESTS += plugin-test
.PHONY: plugins plugin-test

plugins: $(PLUGINS) $(PLUGIN_HOSTS)

$(PB)/plugin_a.so $(PB)/plugin_b.so: $(PB)/plugin_%.so: $(PLUGIN_DEPS) $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_SO_FLAGS) -DPLUGIN_NAME='"plugin_$*"' -o $@ $(PSRC)/plugin.c $(PLUGIN_DYN)

# Compiled as if against a future ABI 2 header: its load-time check must refuse.
$(PB)/plugin_abi2.so: $(PLUGIN_DEPS) $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_SO_FLAGS) -DPLUGIN_NAME='"plugin_abi2"' -DPLUGIN_BUILT_ABI=2 \
	  -o $@ $(PSRC)/plugin.c $(PLUGIN_DYN)

$(PB)/plugin_static.so: $(PLUGIN_DEPS) $(PSRC)/plugin.map $(BLIB)/libkuberef.a
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_SO_FLAGS) -DPLUGIN_NAME='"plugin_static"' -o $@ $(PSRC)/plugin.c \
	  $(PLUGIN_STATIC_HIDDEN)
	@syms=$$(nm -D --defined-only $@ | awk '{print $$3}') && [ "$$syms" = refplugin_init ] || \
	  { echo "$@ exports $$(echo $$syms), not refplugin_init alone"; exit 1; }

# The same, load-once: dlclose leaves it (and its private global) loaded.
$(PB)/plugin_static_pinned.so: $(PLUGIN_DEPS) $(PSRC)/plugin.map $(BLIB)/libkuberef.a
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_SO_FLAGS) -DPLUGIN_NAME='"plugin_static_pinned"' -o $@ $(PSRC)/plugin.c \
	  -Wl,-z,nodelete $(PLUGIN_STATIC_HIDDEN)

# The naive static link (what docs/plugins.md warns against), to test what it really does.
$(PB)/plugin_static_naive.so: $(PLUGIN_DEPS) $(BLIB)/libkuberef.a
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(PLUGIN_SO_FLAGS) -DPLUGIN_NAME='"plugin_static_naive"' -o $@ $(PSRC)/plugin.c \
	  -Wl,--gc-sections $(BLIB)/libkuberef.a $(STATIC_LIBS)
	nm -D --defined-only $@ | grep -q ' T kuberef_set_ref$$'

$(PB)/host_nolink: $(PSRC)/host_nolink.c $(HOST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $< -ldl
	dyn=$$(readelf -d $@) && ! grep -q kuberef <<< "$$dyn"

$(PB)/host_nolink.asan: $(PSRC)/host_nolink.c $(HOST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(SAN) -o $@ $< -ldl

$(PB)/static_cycles: $(PSRC)/static_cycles.c $(HOST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $< -ldl

$(PB)/host_linked: $(PSRC)/host_linked.c $(HOST_DEPS) $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $< $(DYN_LINK) -ldl

$(PB)/host_linked.asan: $(PSRC)/host_linked.c $(HOST_DEPS) $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(SAN) -o $@ $< $(DYN_LINK) -ldl

$(PB)/host_linked_static_exported: $(PSRC)/host_linked.c $(HOST_DEPS) $(BLIB)/libkuberef.a
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $< -Wl,--export-dynamic-symbol='kuberef_*' $(STATIC_LINK)
	nm -D --defined-only $@ | grep -q ' T kuberef_global$$'

$(PB)/host_linked_static_hidden: $(PSRC)/host_linked.c $(HOST_DEPS) $(BLIB)/libkuberef.a
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -DHOST_KUBEREF_HIDDEN -o $@ $< $(STATIC_LINK)
	syms=$$(nm -D --defined-only $@) && ! grep -q kuberef_ <<< "$$syms"

$(PB)/test_fork: $(PSRC)/test_fork.c c-tests/check.h include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $< $(DYN_LINK)

$(PB)/test_fork.asan: $(PSRC)/test_fork.c c-tests/check.h include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) $(SAN) -o $@ $< $(DYN_LINK)

PLUGIN_ASAN_ENV := $(SAN_ENV)

plugin-test: lib plugins
	readelf -d $(BLIB)/$(SO_REAL) | grep -q 'Flags:.*NODELETE'
	./$(PB)/host_nolink $(PB) $(PLUGIN_CYCLES) $(PLUGIN_RSS_KIB)
	./$(PB)/host_linked $(PB) $(PLUGIN_CYCLES) $(PLUGIN_RSS_KIB)
	./$(PB)/host_linked_static_exported $(PB) $(PLUGIN_CYCLES) $(PLUGIN_RSS_KIB)
	./$(PB)/host_linked_static_hidden $(PB) $(PLUGIN_CYCLES) $(PLUGIN_RSS_KIB)
	./$(PB)/static_cycles $(PB) $(PLUGIN_STATIC_CYCLES) $(PLUGIN_RSS_KIB)
	./$(PB)/test_fork
	$(PLUGIN_ASAN_ENV) ./$(PB)/host_nolink.asan $(PB) $(PLUGIN_CYCLES) 100000
	$(PLUGIN_ASAN_ENV) ./$(PB)/host_linked.asan $(PB) $(PLUGIN_CYCLES) 100000
	$(PLUGIN_ASAN_ENV) ./$(PB)/test_fork.asan
	$(VALGRIND) ./$(PB)/host_nolink $(PB) $(PLUGIN_VG_CYCLES) 100000
	$(VALGRIND) ./$(PB)/host_linked $(PB) $(PLUGIN_VG_CYCLES) 100000
	$(VALGRIND) --trace-children=yes ./$(PB)/test_fork
	@echo "plugin-test: passed"

# The Go host (go/internal/pluginhost; GO_ENV and GO_STATIC come from
# mk/go.mk): a cgo test program dlopens a C plugin built from
# c-tests/plugins/plugin.c, and the plugin's writes are visible through
# kuberef.Global() and the other way round (the kubelet-fork scenario).
# Dynamically linked, and statically linked with the kuberef_* symbols
# exported, the plugin must share Global(); statically linked without the
# export (the Go linker's default) it must get a separate manager.
GO_EXPORT_KUBEREF := -ldflags='-extldflags=-Wl,--export-dynamic-symbol=kuberef_*'
TESTS += go-plugin-test
.PHONY: go-plugin-test

go-plugin-test: lib
	cd go && $(GO_ENV) KUBEREF_PLUGIN_EXPECT_SHARED=1 $(GO) test -count=1 -race -v ./internal/pluginhost/
	cd go && $(GO_ENV) KUBEREF_PLUGIN_EXPECT_SHARED=1 $(GO) test -count=1 -race -v $(GO_STATIC) $(GO_EXPORT_KUBEREF) ./internal/pluginhost/
	cd go && $(GO_ENV) KUBEREF_PLUGIN_EXPECT_SHARED=0 $(GO) test -count=1 -v $(GO_STATIC) ./internal/pluginhost/
	@echo "go-plugin-test: passed (dynamic; static with kuberef_* exported; static without)"
