# The kuberef tool (cli/; docs/operating.md, "The kuberef tool").
#
#   make cli        build/bin/kuberef, a release build (`make all` and
#                   `make example` build it too; `make install` installs it
#                   in $(BINDIR), default $(PREFIX)/bin)
#   make cli-test   fmt, clippy and the cli crate's tests (the binary on
#                   damaged, special and random files); the binary on snapshots
#                   written through the C ABI (c-tests/cli/write_snapshot.c,
#                   tests/cli/c-written.sh) and through Go (tests/cli-go), its
#                   JSON against kuberef_ref_to_json and RefToJSON; and its
#                   install                                                  [make test]

BINDIR ?= $(PREFIX)/bin
CLI := $(B)/bin/kuberef
# A target directory of its own: the tool's dependencies turn on features of
# libc that a build of the library alone does not, so sharing target/ would
# make each of the two builds redo the library after the other.
CLI_CARGO := CARGO_TARGET_DIR=$(abspath target/cli) $(CARGO)

TESTS += cli-test
.PHONY: cli cli-test install-cli uninstall-cli

cli: deps
	$(CLI_CARGO) build --release --locked -p kuberef-cli
	@mkdir -p $(B)/bin
	cp -p target/cli/release/kuberef $(CLI)

all: cli
install: install-cli
uninstall: uninstall-cli

install-cli: $(if $(wildcard $(CLI)),,cli)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/kuberef

uninstall-cli:
	rm -f $(DESTDIR)$(BINDIR)/kuberef

$(B)/cli/write_snapshot: c-tests/cli/write_snapshot.c include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(CWARN) -O2 -Iinclude -o $@ $< $(DYN_LINK)

cli-test: cli lib $(B)/cli/write_snapshot
	$(CARGO) fmt --check -p kuberef-cli
	$(CLI_CARGO) clippy --locked -p kuberef-cli --all-targets -- -D warnings
	$(CLI_CARGO) clippy --locked -p kuberef-cli --no-default-features --lib -- -D warnings
	$(CLI_CARGO) test --locked -p kuberef-cli
	bash tests/cli/c-written.sh $(CLI) $(B)/cli/write_snapshot
	@test -z "$$(gofmt -l tests/cli-go)" || { gofmt -l tests/cli-go; echo "cli-test: gofmt needed"; exit 1; }
	cd tests/cli-go && $(GO_ENV) $(GO) vet ./...
	cd tests/cli-go && $(GO_ENV) KUBEREF_BIN=$(abspath $(CLI)) $(GO) test -count=1 -v ./... | grep -E '^(---|ok|FAIL|PASS)'; \
	  test $${PIPESTATUS[0]} -eq 0
	rm -rf $(B)/stage-cli
	$(MAKE) --no-print-directory install-cli DESTDIR=$(abspath $(B)/stage-cli) PREFIX=/usr
	v=$$($(B)/stage-cli/usr/bin/kuberef --version) && [ "$$v" = 'kuberef $(VERSION) (C ABI $(ABI), snapshot format 1)' ] || \
	  { echo "cli-test: the installed tool's --version printed \"$$v\""; exit 1; }
	@echo "cli-test: passed (crate tests; C-written and Go-written snapshots; install)"
