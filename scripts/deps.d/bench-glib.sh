# The benchmark's "what a C user would pick instead" column (bench/c/glib.c,
# part of bench-smoke in make test): GLib's GHashTable.
have_glib() { pkg-config --exists glib-2.0 2>/dev/null; }
have_glib || need+=(libglib2.0-dev)
