//! Generates the C header from the Rust source into OUT_DIR (the
//! `header_is_current` test compares it with the committed
//! include/kuberef.h), and sets the shared library's SONAME, its export
//! list and its load-once flag (`-z nodelete`). Only `KUBEREF_WRITE_HEADER=1`
//! (what `make header` sets) makes it write the committed copy.

use std::env;
use std::path::PathBuf;

const ABI_VERSION: u32 = 1;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("out dir"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=KUBEREF_WRITE_HEADER");

    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let header = out.join("kuberef.h");
    cbindgen::Builder::new()
        // Only the C ABI module: the safe core's generic types are not C.
        .with_src(root.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header")
        .write_to_file(&header);
    if env::var_os("KUBEREF_WRITE_HEADER").is_some_and(|v| v == "1") {
        std::fs::copy(&header, root.join("include/kuberef.h")).expect("write include/kuberef.h");
    }

    // Only kuberef_* symbols leave libkuberef.so; everything else (std's
    // symbols included) stays local.
    let script = out.join("kuberef.map");
    std::fs::write(&script, "{\n  global: kuberef_*;\n  local: *;\n};\n").expect("version script");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libkuberef.so.{ABI_VERSION}");
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
            script.display()
        );
        // Load-once: the dynamic linker never unloads libkuberef.so once it
        // is loaded (DF_1_NODELETE). Without it, a host that does not link
        // the library itself unloads it when its last plugin is dlclosed,
        // which drops every stored reference and leaks the global map.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
