//! Opening snapshot files and reading them: a checking pass, then reading
//! passes, with a progress bar on a terminal.
//!
//! Every command checks a whole file (magic, version, header checksum,
//! lengths, every record, the records' checksum) before it prints anything
//! from it, so its output never mixes records with an error.

use std::fs::File;
use std::io::{Read, Seek};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kuberef::persist::{Corrupt, SnapshotReader};
use kuberef::{ContainerIdRef, LoadError, ObjectReferenceRef};

use crate::exit::Failure;
use crate::text;

/// Files at least this large get a progress bar when stderr is a terminal.
pub const PROGRESS_MIN_BYTES: u64 = 32 << 20;

/// The progress bar advances at most once per this many bytes.
const PROGRESS_STEP: u64 = 1 << 20;

/// A snapshot being read, named for messages.
pub struct Snapshot<R> {
    /// The file's name as text output shows it (see [`display_path`]).
    pub name: String,
    pub reader: SnapshotReader<R>,
    progress: bool,
}

/// The name of `path` in messages, tables and the progress bar: its bytes
/// as [`text::printable`] shows them (a name may hold any byte but NUL).
pub fn display_path(path: &Path) -> String {
    text::printable(path.as_os_str().as_bytes())
}

/// Opens the snapshot at `path` (see `SnapshotReader::open`: never blocks,
/// refuses anything but a regular file, checks the header against the
/// size). `progress`: stderr is a terminal, so a large file may show a bar.
pub fn open(path: &Path, progress: bool) -> Result<Snapshot<File>, Failure> {
    let name = display_path(path);
    match SnapshotReader::open(path) {
        Ok(reader) => Ok(Snapshot::new(name, reader, progress)),
        Err(e) => Err(Failure::load(&name, &e)),
    }
}

impl<R: Read + Seek> Snapshot<R> {
    /// A snapshot over an opened reader (the fuzz target's in-memory files).
    pub fn new(name: String, reader: SnapshotReader<R>, progress: bool) -> Self {
        let progress = progress && reader.len() >= PROGRESS_MIN_BYTES;
        Snapshot {
            name,
            reader,
            progress,
        }
    }

    /// The number of records the header announces.
    pub fn count(&self) -> u64 {
        self.reader.header().count
    }

    fn bar(&self, what: &str) -> Option<ProgressBar> {
        if !self.progress {
            return None;
        }
        let bar =
            ProgressBar::with_draw_target(Some(self.reader.len()), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:40}] {binary_bytes}/{binary_total_bytes} {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(format!("{what} {}", self.name));
        Some(bar)
    }

    /// Checks the whole file (what `SnapshotReader::verify` checks) and
    /// returns its record count. With a progress bar the check runs through
    /// `for_each_record`, which makes the same checks in the same order (one
    /// walk does both) and reports where it is.
    pub fn check(&mut self) -> Result<u64, Failure> {
        let checked = match self.bar("checking") {
            None => self.reader.verify().map(|()| self.count()),
            Some(bar) => {
                let mut next = 0;
                let r = self.reader.for_each_record(|at, _, _| {
                    if at >= next {
                        bar.set_position(at);
                        next = at + PROGRESS_STEP;
                    }
                });
                bar.finish_and_clear();
                r
            }
        };
        checked.map_err(|e| Failure::load(&self.name, &e))
    }

    /// Calls `f` with every record in file order, after a successful
    /// [`check`](Self::check). The first error `f` returns ends the reading
    /// and is returned. A file that fails now changed since the check
    /// (`Corrupt::Changed`, as a load reports it).
    pub fn read(
        &mut self,
        what: &str,
        mut f: impl FnMut(ContainerIdRef<'_>, ObjectReferenceRef<'_>) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let bar = self.bar(what);
        let mut failed = None;
        let mut next = 0;
        let r = self.reader.for_each_record(|at, id, r| {
            if let Some(bar) = &bar {
                if at >= next {
                    bar.set_position(at);
                    next = at + PROGRESS_STEP;
                }
            }
            // The reader has no early exit: after a failure, skip the rest.
            if failed.is_none() {
                if let Err(e) = f(id, r) {
                    failed = Some(e);
                }
            }
        });
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if let Some(e) = failed {
            return Err(e);
        }
        match r {
            Ok(_) => Ok(()),
            Err(LoadError::Io(e)) => Err(Failure::load(&self.name, &LoadError::Io(e))),
            Err(_) => Err(Failure::load(&self.name, &Corrupt::Changed.into())),
        }
    }
}
