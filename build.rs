//! Generates the C header from the Rust source into OUT_DIR (the
//! `header_is_current` test compares it with the committed
//! include/kuberef.h), and sets the shared library's SONAME, its export
//! list and its load-once flag (`-z nodelete`). Only `KUBEREF_WRITE_HEADER=1`
//! (what `make header` sets) makes it write the committed copy.
//!
//! The header is cbindgen's output with one banner per section: each module
//! of src/ffi, in the order src/ffi/mod.rs declares them, opens with its own
//! `//!` documentation, placed before its first export (before its first
//! constant for the status codes, and for modules without exports).

use std::env;
use std::path::{Path, PathBuf};

const ABI_VERSION: u32 = 1;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("out dir"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=KUBEREF_WRITE_HEADER");

    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let header = out.join("kuberef.h");
    let mut text = Vec::new();
    cbindgen::Builder::new()
        // Only the C ABI module: the safe core's generic types are not C.
        .with_src(root.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header")
        .write(&mut text);
    let text = String::from_utf8(text).expect("UTF-8 header");
    let text = with_sections(&text, &root.join("src/ffi"));
    std::fs::write(&header, text).expect("write the header");
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

/// `header` with a banner before each section (see the crate docs).
fn with_sections(header: &str, ffi: &Path) -> String {
    let mut lines: Vec<String> = header.lines().map(str::to_owned).collect();
    let modules = std::fs::read_to_string(ffi.join("mod.rs")).expect("src/ffi/mod.rs");
    for module in modules
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod")?.trim().strip_suffix(';'))
    {
        let src = std::fs::read_to_string(ffi.join(format!("{module}.rs"))).expect("module");
        let doc: Vec<&str> = src
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| l.trim_start_matches("//!").trim_start())
            .collect();
        let first = |marker: &str| {
            src.split(marker)
                .nth(1)
                .map(|rest| {
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                })
                .and_then(|name| name.map(str::to_owned))
        };
        let export = first("extern \"C\" fn ");
        let constant = first("pub const ");
        // The line that declares the anchor in the header.
        let at = match (module, export, constant) {
            ("status", _, Some(c)) | (_, None, Some(c)) => {
                let define = format!("#define {c} ");
                lines.iter().position(|l| l.starts_with(&define))
            }
            (_, Some(f), _) => {
                let call = format!("{f}(");
                lines
                    .iter()
                    .position(|l| !l.starts_with(' ') && l.contains(&call))
            }
            _ => None,
        };
        let Some(mut at) = at else { continue };
        // Before the declaration's own doc comment.
        while at > 0 && lines[at - 1].starts_with([' ', '/']) && !lines[at - 1].is_empty() {
            at -= 1;
        }
        let mut banner = vec![format!("/* {} */", "=".repeat(72))];
        banner.extend(doc.iter().map(|l| format!(" * {l}").trim_end().to_owned()));
        banner[0] = format!("/* {}", "=".repeat(73));
        banner.push(format!(" * {} */", "=".repeat(72)));
        banner.push(String::new());
        lines.splice(at..at, banner);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
