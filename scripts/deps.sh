#!/usr/bin/env bash
# Installs what the build and the tests need and the machine lacks, so that
# `make example` and `make test` work on a fresh machine. A no-op when
# everything is there. Packages come from Debian (apt-get) only.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
want() { # want COMMAND DEBIAN-PACKAGE
  have "$1" || need+=("$2")
}

want cc gcc
want c++ g++
want make make
want pkg-config pkg-config
want valgrind valgrind
want readelf binutils
# Extra packages other parts of the test suite need (scripts/deps.d/*.sh add to `need`).
for extra in "$(dirname "$0")"/deps.d/*.sh; do
  [ -e "$extra" ] && . "$extra"
done

if ! have cargo; then
  echo "deps: cargo is missing; install Rust (rustup) first" >&2
  exit 1
fi
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$comp"
  fi
done

if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
