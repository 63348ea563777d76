# kuberef: build, test and install.
#
#   make example   build everything and run the C example of a container's lifecycle
#   make check     the fast tier: fmt, clippy, Rust and C unit tests, header drift, ABI check
#   make test      run every test (what .ci/run runs)
#   make header    regenerate the committed include/kuberef.h from the Rust source
#   make install   install header, libraries and kuberef.pc (PREFIX, DESTDIR, LIBDIR):
#                  what the last build made (it builds only what is not built, so
#                  `make && sudo make install` needs no cargo in root's PATH)
#
# Other parts of the project add their own targets in mk/*.mk and append
# their test targets to TESTS.

SHELL := /bin/bash
# A recipe that fails (a check after a link, say) leaves no target behind that
# a second make would take as up to date.
.DELETE_ON_ERROR:
CARGO ?= cargo
CC ?= cc
CXX ?= c++
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
ABI := 1
# What a static link of libkuberef.a needs besides it: the native libraries
# of Rust's standard library for this machine, as rustc reports them for a
# static library (kuberef's own dependencies link none; install-check and the
# static C, plugin and Go tests link with exactly this list). Computed once
# into build/lib/native-static-libs; kuberef.pc carries it as Libs.private.
NATIVE_LIBS_FILE = $(BLIB)/native-static-libs
STATIC_LIBS = $(shell cat $(NATIVE_LIBS_FILE) 2>/dev/null)

B := build
BLIB := $(B)/lib
REL := target/release
SO := libkuberef.so
SO_REAL := $(SO).$(VERSION)
SO_ABI := $(SO).$(ABI)

CSTD := -std=c99
CWARN := -Wall -Wextra -Werror -pedantic
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The sanitizers' run-time options, for every ASan+UBSan run (c-asan, the soak,
# the plugins, and the canary that proves these runs can fail).
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TEST_CFLAGS := $(CSTD) $(CWARN) -g -O1 -Iinclude -Ic-tests
DYN_LINK := -L$(BLIB) -Wl,-rpath,$(abspath $(BLIB)) -lkuberef -lpthread
STATIC_LINK = $(BLIB)/libkuberef.a $(STATIC_LIBS)
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite

# One program per concept of the ABI; each runs plain, statically linked,
# under ASan+UBSan and under valgrind.
C_TESTS := test_api test_threads test_output_views test_prune test_enumerate test_persist test_json test_stats
C_BINS := $(foreach t,$(C_TESTS),$(B)/c-tests/$(t) $(B)/c-tests/$(t).asan $(B)/c-tests/$(t).static) \
          $(B)/c-tests/test_cpp $(B)/examples/lifecycle

TESTS := rust-test c-test c-asan c-valgrind abi-check install-check

.PHONY: all lib example check test header install uninstall clean cargo-release deps \
        rust-test c-test c-asan c-valgrind abi-check install-check

all: lib $(C_BINS)

# Installs missing tools (a no-op on a machine that has them).
deps:
	@bash scripts/deps.sh

-include $(sort $(wildcard mk/*.mk))

# --- the library -----------------------------------------------------------

cargo-release: deps
	$(CARGO) build --release --lib

$(REL)/$(SO) $(REL)/libkuberef.a: cargo-release ;

$(BLIB)/$(SO_REAL): $(REL)/$(SO)
	@mkdir -p $(BLIB)
	cp -p $< $@
	ln -sf $(SO_REAL) $(BLIB)/$(SO_ABI)
	ln -sf $(SO_ABI) $(BLIB)/$(SO)

$(BLIB)/libkuberef.a: $(REL)/libkuberef.a $(NATIVE_LIBS_FILE)
	@mkdir -p $(BLIB)
	cp -p $< $@

$(NATIVE_LIBS_FILE):
	@mkdir -p $(@D) $(B)/probe
	rustc --crate-type=staticlib --crate-name=native_libs_probe --print=native-static-libs \
	  -o $(B)/probe/libprobe.a - < /dev/null 2>&1 | sed -n 's/^note: native-static-libs: //p' > $@.tmp
	test -s $@.tmp && mv $@.tmp $@

# An in-tree kuberef.pc (for the Go binding and tests): points at include/ and build/lib.
$(BLIB)/pkgconfig/kuberef.pc: kuberef.pc.in Cargo.toml $(NATIVE_LIBS_FILE)
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(abspath .)|; s|@LIBDIR@|$(abspath $(BLIB))|; s|@INCLUDEDIR@|$(abspath include)|' \
	    -e 's|@VERSION@|$(VERSION)|; s|@STATIC_LIBS@|$(STATIC_LIBS)|' $< > $@

lib: $(BLIB)/$(SO_REAL) $(BLIB)/libkuberef.a $(BLIB)/pkgconfig/kuberef.pc

header:
	KUBEREF_WRITE_HEADER=1 $(CARGO) build --lib
	@echo "include/kuberef.h regenerated"

# --- C programs ------------------------------------------------------------

$(B)/c-tests/%: c-tests/%.c c-tests/check.h c-tests/fixtures.h c-tests/memory.h include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(DYN_LINK)

$(B)/c-tests/%.asan: c-tests/%.c c-tests/check.h c-tests/fixtures.h c-tests/memory.h include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(SAN) -o $@ $< $(DYN_LINK)

$(B)/c-tests/%.static: c-tests/%.c c-tests/check.h c-tests/fixtures.h c-tests/memory.h include/kuberef.h $(BLIB)/libkuberef.a
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(STATIC_LINK)

$(B)/c-tests/test_cpp: c-tests/test_cpp.cpp include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CXX) -std=c++11 $(CWARN) -g -Iinclude -o $@ $< $(DYN_LINK)

$(B)/examples/%: examples/%.c include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(CWARN) -O2 -Iinclude -o $@ $< $(DYN_LINK)

example: all plugins go-build
	./$(B)/examples/lifecycle

# --- tests -----------------------------------------------------------------

# The fast tier (a few minutes from a cold cache; every part is also in make
# test): formatting and lints, the Rust tests (the header drift check among
# them), the C unit tests plain and statically linked, and the ABI check.
check: rust-test c-test abi-check
	@echo "make check: passed (rust-test c-test abi-check)"

test: $(TESTS)
	@echo "make test: all test targets passed ($(TESTS))"

rust-test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test

c-test: all
	@for t in $(C_TESTS); do ./$(B)/c-tests/$$t && ./$(B)/c-tests/$$t.static || exit 1; done
	./$(B)/c-tests/test_cpp
	./$(B)/examples/lifecycle > /dev/null

c-asan: all
	@for t in $(C_TESTS); do \
	  $(SAN_ENV) ./$(B)/c-tests/$$t.asan || exit 1; done

c-valgrind: all
	@for t in $(C_TESTS); do $(VALGRIND) ./$(B)/c-tests/$$t || exit 1; done
	$(VALGRIND) ./$(B)/examples/lifecycle > /dev/null

# The shared library exports only kuberef_*, exactly the functions the header
# declares and documents as ABI 1 (scripts/check-abi.sh), and carries SONAME
# libkuberef.so.1; the header compiles alone as C99, C11 and C++11.
abi-check: lib
	@bash scripts/check-abi.sh include/kuberef.h $(BLIB)/$(SO_REAL)
	@readelf -d $(BLIB)/$(SO_REAL) | grep -q 'Library soname: \[$(SO_ABI)\]' || { echo "SONAME is not $(SO_ABI)"; exit 1; }
	@echo '#include "kuberef.h"' > $(B)/header_only.c
	$(CC) -std=c99 $(CWARN) -Iinclude -fsyntax-only $(B)/header_only.c
	$(CC) -std=c11 $(CWARN) -Iinclude -fsyntax-only $(B)/header_only.c
	$(CXX) -std=c++11 $(CWARN) -Iinclude -fsyntax-only -x c++ $(B)/header_only.c
	@echo "abi-check: passed (exports = declarations = the documented ABI 1 list; SONAME; C99, C11, C++11)"

# Installs into a scratch DESTDIR, then builds and runs the example against
# the installed copy through pkg-config, dynamically and statically.
install-check: lib
	rm -rf $(B)/stage
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(B)/stage) PREFIX=/usr
	test "$$(readlink $(B)/stage/usr/lib/$(SO))" = $(SO_ABI) && test "$$(readlink $(B)/stage/usr/lib/$(SO_ABI))" = $(SO_REAL) && \
	  test -f $(B)/stage/usr/lib/$(SO_REAL) && test ! -L $(B)/stage/usr/lib/$(SO_REAL)
	export PKG_CONFIG_SYSROOT_DIR=$(abspath $(B)/stage) PKG_CONFIG_PATH=$(abspath $(B)/stage)/usr/lib/pkgconfig; \
	  $(CC) $(CSTD) $(CWARN) -o $(B)/stage/lifecycle examples/lifecycle.c $$(pkg-config --cflags --libs kuberef) && \
	  $(CC) $(CSTD) $(CWARN) -static-libgcc -o $(B)/stage/lifecycle-static examples/lifecycle.c \
	    $$(pkg-config --cflags kuberef) $(abspath $(B)/stage)/usr/lib/libkuberef.a $$(pkg-config --libs-only-l --static kuberef | sed 's/-lkuberef//')
	LD_LIBRARY_PATH=$(abspath $(B)/stage)/usr/lib ./$(B)/stage/lifecycle > /dev/null
	./$(B)/stage/lifecycle-static > /dev/null
	deps=$$(ldd $(B)/stage/lifecycle-static) && ! grep -q kuberef <<< "$$deps"
	@# Relocated, the tree's kuberef.pc points at the new place (--define-prefix).
	cp -a $(B)/stage/usr $(B)/stage/moved
	flags=$$(PKG_CONFIG_PATH=$(abspath $(B)/stage)/moved/lib/pkgconfig pkg-config --define-prefix --cflags --libs kuberef) && \
	  flags=$$(echo $$flags) && test "$$flags" = "-I$(abspath $(B)/stage)/moved/include -L$(abspath $(B)/stage)/moved/lib -lkuberef" || \
	  { echo "install-check: a relocated kuberef.pc gives \"$$flags\""; exit 1; }
	@# A second install, under umask 077, over links planted at the .pc and the
	@# header: the links are replaced, their targets untouched, the files 0644.
	rm -rf $(B)/stage-links && mkdir -p $(B)/stage-links/usr/lib/pkgconfig $(B)/stage-links/usr/include
	echo victim > $(B)/stage-links/victim
	ln -s ../../../victim $(B)/stage-links/usr/lib/pkgconfig/kuberef.pc
	ln -s ../../victim $(B)/stage-links/usr/include/kuberef.h
	(umask 077 && $(MAKE) --no-print-directory install DESTDIR=$(abspath $(B)/stage-links) PREFIX=/usr) > /dev/null
	test "$$(cat $(B)/stage-links/victim)" = victim
	for f in usr/lib/pkgconfig/kuberef.pc usr/include/kuberef.h; do \
	  test ! -L $(B)/stage-links/$$f && test "$$(stat -c %a $(B)/stage-links/$$f)" = 644 || \
	    { echo "install-check: $$f is a link or not 0644 after an install under umask 077"; exit 1; }; done
	@echo "install-check: passed (links, C programs against the installed tree, dynamic and static; relocation; links and umask at the destination)"

# --- install -----------------------------------------------------------------

# kuberef.pc's directories relative to ${prefix} when they lie under PREFIX, so
# that pkg-config --define-prefix can relocate an installed tree.
under_prefix = $(if $(filter $(PREFIX)/%,$(1)),$${prefix}/$(patsubst $(PREFIX)/%,%,$(1)),$(1))
INSTALLED_PC := $(B)/install/kuberef.pc

# Built only if nothing is built yet (see the header of this file); every
# file is written by install(1) or ln -sfn, which replace a link at the
# destination instead of writing through it.
install: $(if $(wildcard $(BLIB)/$(SO_REAL) $(BLIB)/libkuberef.a $(NATIVE_LIBS_FILE)),,lib)
	@mkdir -p $(dir $(INSTALLED_PC))
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(call under_prefix,$(LIBDIR))|; s|@INCLUDEDIR@|$(call under_prefix,$(INCLUDEDIR))|' \
	    -e 's|@VERSION@|$(VERSION)|; s|@STATIC_LIBS@|$(STATIC_LIBS)|' kuberef.pc.in > $(INSTALLED_PC)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0644 include/kuberef.h $(DESTDIR)$(INCLUDEDIR)/kuberef.h
	install -m 0755 $(BLIB)/$(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_REAL)
	ln -sfn $(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_ABI)
	ln -sfn $(SO_ABI) $(DESTDIR)$(LIBDIR)/$(SO)
	install -m 0644 $(BLIB)/libkuberef.a $(DESTDIR)$(LIBDIR)/libkuberef.a
	install -m 0644 $(INSTALLED_PC) $(DESTDIR)$(PKGCONFIGDIR)/kuberef.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/kuberef.h $(DESTDIR)$(PKGCONFIGDIR)/kuberef.pc \
	      $(DESTDIR)$(LIBDIR)/$(SO) $(DESTDIR)$(LIBDIR)/$(SO_ABI) $(DESTDIR)$(LIBDIR)/$(SO_REAL) \
	      $(DESTDIR)$(LIBDIR)/libkuberef.a

clean:
	rm -rf $(B)
	$(CARGO) clean
