//! `kuberef`, the operator's tool for snapshot files: the commands, as a
//! library so that the fuzz target (`fuzz/fuzz_targets/cli.rs`) runs them
//! on in-memory files. `src/main.rs` is the command line around `run`
//! (feature `cmdline`, on by default: the argument parser).
//!
//! Contracts every command keeps: a file is checked whole before anything
//! of it is printed; memory stays bounded by what the file holds (never by
//! what its header claims); stored strings reach a terminal only escaped
//! ([`text`]); a failure is one line with its own exit status ([`exit`]).

use std::ffi::CStr;
#[cfg(feature = "cmdline")]
use std::io::Write;
#[cfg(feature = "cmdline")]
use std::os::unix::ffi::{OsStrExt, OsStringExt};

#[cfg(feature = "cmdline")]
pub mod args;
pub mod diff;
pub mod dump;
pub mod exit;
pub mod read;
pub mod stats;
pub mod text;
pub mod verify;

#[cfg(feature = "cmdline")]
use args::{Command, Format};
#[cfg(feature = "cmdline")]
use exit::{Exit, Failure};

/// Which of standard output and standard error are terminals.
#[derive(Clone, Copy, Debug, Default)]
pub struct Terminals {
    /// Standard output: tables by default instead of JSON.
    pub stdout: bool,
    /// Standard error: progress bars for large files.
    pub stderr: bool,
}

/// What `--version` prints after the name: the library's version, its C ABI
/// version and the snapshot format version it reads and writes.
pub fn version() -> String {
    // SAFETY: kuberef_version returns a static NUL-terminated string.
    let lib = unsafe { CStr::from_ptr(kuberef::ffi::kuberef_version()) };
    format!(
        "{} (C ABI {}, snapshot format {})",
        lib.to_string_lossy(),
        kuberef::ffi::kuberef_abi_version(),
        kuberef::persist::FORMAT_VERSION
    )
}

/// Runs `command`, writing its results to `out`.
#[cfg(feature = "cmdline")]
pub fn run(command: Command, out: &mut impl Write, t: Terminals) -> Result<Exit, Failure> {
    let w = |r: std::io::Result<()>| r.map_err(|e| Failure::output(&e));
    match command {
        Command::Dump(a) => {
            let mut s = read::open(&a.file, t.stderr)?;
            let filter = dump::Filter {
                pod_uid: a.pod_uid.map(OsStringExt::into_vec),
                namespace: a.namespace.map(OsStringExt::into_vec),
                runtime: a.runtime.map(OsStringExt::into_vec),
            };
            match a.format.resolve(t.stdout) {
                Format::Json => dump::json(&mut s, &filter, out)?,
                Format::Table => dump::table(&mut s, &filter, out)?,
            };
        }
        Command::Verify { file } => {
            let mut s = read::open(&file, t.stderr)?;
            let report = verify::check(&mut s)?;
            w(verify::write(out, &s.name, &report))?;
        }
        Command::Stats { file, format, top } => {
            let mut s = read::open(&file, t.stderr)?;
            let st = stats::compute(&mut s)?;
            w(match format.resolve(t.stdout) {
                Format::Json => stats::write_json(out, file.as_os_str().as_bytes(), &st, top),
                Format::Table => stats::write_text(out, &s.name, &st, top),
            })?;
        }
        Command::Diff { a, b, format } => {
            let mut sa = read::open(&a, t.stderr)?;
            let d = diff::compute(&mut sa, || read::open(&b, t.stderr))?;
            let exit = if d.changes.is_empty() {
                Exit::Ok
            } else {
                Exit::Differ
            };
            match w(match format.resolve(t.stdout) {
                Format::Json => diff::write_json(out, &d),
                Format::Table => diff::write_text(out, &d),
            }) {
                // A reader that went away (`kuberef diff A B | head`) does
                // not change the answer, which the exit status gives.
                Err(f) if !f.pipe_closed => return Err(f),
                _ => return Ok(exit),
            }
        }
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tool_is_versioned_with_the_library() {
        assert!(super::version().starts_with(concat!(env!("CARGO_PKG_VERSION"), " (C ABI 1, ")));
    }
}
