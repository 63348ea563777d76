# Hardening (mk/hardening.mk): nm for the export audit. The fuzz target needs
# no clang: libFuzzer comes from the libfuzzer-sys crate and is built with g++.
want nm binutils
want c++ g++
