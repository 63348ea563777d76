# Schedule exploration of the manager's lock-free parts (tests/schedules.rs,
# with the `shuttle` feature): readers against writers, replacements,
# removals, rehashes and frees, under Shuttle's random and PCT schedulers.
#
#   make schedule-test   KUBEREF_SCHEDULES schedules per test (SCHEDULES,      [make test]
#                        20,000), then SCHEDULES_VALGRIND (1,000) under
#                        valgrind, which sees any read of freed memory
#
# The feature swaps the manager's atomics for Shuttle's, so it builds in a
# target directory of its own: the library in target/ stays the real one.

SCHEDULES ?= 20000
SCHEDULES_VALGRIND ?= 1000
SCHEDULE_TARGET := target/schedules

TESTS += schedule-test

.PHONY: schedule-test

schedule-test: deps
	$(CARGO) clippy --target-dir $(SCHEDULE_TARGET) --release --features shuttle --test schedules -- -D warnings
	KUBEREF_SCHEDULES=$(SCHEDULES) $(CARGO) test --target-dir $(SCHEDULE_TARGET) --release --features shuttle --test schedules
	bin=$$($(CARGO) test --target-dir $(SCHEDULE_TARGET) --release --features shuttle --test schedules --no-run --message-format=json \
	  | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1) && \
	KUBEREF_SCHEDULES=$(SCHEDULES_VALGRIND) SHUTTLE_SILENCE_WARNINGS=1 \
	  valgrind -q --error-exitcode=99 "$$bin" --test-threads=1
