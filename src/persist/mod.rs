//! Persistence: saving every reference to a snapshot file and loading it
//! back after a restart, so that events for containers that outlive the
//! process keep their reference (upstream lost them all on a kubelet
//! restart).
//!
//! # Save
//!
//! [`RefManager::save`] writes a new temporary file next to the target,
//! fsyncs it, renames it over the target and fsyncs the directory, so the
//! target is always the previous whole file or the new one, even if the
//! process is killed (see [`save`] for the temporary files). Saves share no
//! lock: concurrent saves to one path, from any threads or processes, are
//! safe, and the last rename wins. The manager is copied shard by shard
//! (each shard one consistent view, like enumeration), with no lock held
//! during I/O.
//!
//! # Load
//!
//! [`RefManager::load`] refuses anything but a regular file without
//! opening it, also when the path changes during the call (on Linux, where
//! `/proc` is mounted: see `format::open_regular`), and opens the file
//! without blocking; a symbolic link at the path is followed. It checks the header against the file's real size,
//! then makes two passes over the records through a fixed buffer: the first
//! checks every record and the checksum, the second applies them. Memory never depends on what
//! the header claims: at most one record's bytes are held at a time, so a
//! load needs little more than what the stored references themselves take.
//! A file that fails the first pass changes nothing.
//!
//! # Threat model
//!
//! Defended against: a symbolic link, FIFO, device or other file planted
//! at the target's name or at any name a save might use (a save creates its
//! temporary file exclusively and never through a link; a load refuses
//! anything but a regular file and never blocks on opening); a file that
//! lies about its length (the header is checked against the real size and
//! against what its record count can need before anything is read or
//! allocated); concurrent savers in several processes; a crash or kill at
//! any moment of a save; accidental damage (CRC-32 over the header and over
//! the records).
//!
//! Not defended against: someone who can write the snapshot file itself.
//! CRC-32 detects damage, it does not authenticate, so such a writer can
//! make the manager load any references. If the file is rewritten in place
//! between a load's two passes (kuberef's own saves never write in place),
//! the load reports [`Corrupt::Changed`] and may have applied part of it.

mod crc32;
mod format;
mod save;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use crc32::Crc32;
pub use format::{
    decode_header, encode_header, encode_record, Corrupt, Header, LoadError, RecordProblem,
    SnapshotReader, Truncated, FORMAT_VERSION, HEADER_LEN, MAGIC, MAX_RECORD, MIN_RECORD, PARTS,
    PART_NAMES,
};
pub use save::{SaveError, STALE_AFTER, TEMP_TAG};

use crate::manager::RefManager;

/// How [`RefManager::load`] combines the file with what is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadMode {
    /// The file's references are set over the stored ones (same IDs are
    /// overwritten, others kept).
    Merge,
    /// The file's references are set, then every reference stored before
    /// the load began is removed unless the load set it (so a reference in
    /// both is never missing to a concurrent reader). Without concurrent
    /// writers the manager then holds exactly the file's references;
    /// references other callers set while the load runs are kept.
    Replace,
}

impl RefManager {
    /// Writes every stored reference to `path` atomically (see the module
    /// docs) and returns how many were written. [`SaveError::Io`] means the
    /// file at `path` is as it was (and no temporary file is left);
    /// [`SaveError::NotDurable`] means it holds the new snapshot, but a crash
    /// may still bring the old one back.
    pub fn save(&self, path: &Path) -> Result<usize, SaveError> {
        save::save_random(self, path)
    }

    /// Restores the references saved in `path` and returns how many the
    /// file held (see the module docs). On any error the manager is
    /// unchanged, unless the file changes or a read fails after the first
    /// pass found it whole ([`Corrupt::Changed`], or [`LoadError::Io`] from
    /// the second pass): the manager may then hold part of the file.
    pub fn load(&self, path: &Path, mode: LoadMode) -> Result<usize, LoadError> {
        // Where the load begins for `Replace`: first, so that a reference
        // set while the file is checked is one set during the load (kept).
        let marks = self.store_marks();
        let mut file = SnapshotReader::open(path)?;
        file.verify()?;
        let applied = file.for_each_record(|_, id, r| {
            self.set(id, r).expect("the reader checked every length");
        });
        // After `verify`, a failure is `Changed` or `Io` (see
        // `for_each_record`).
        let n = applied?;
        if mode == LoadMode::Replace {
            self.remove_stored_before(&marks);
        }
        Ok(n as usize)
    }
}

/// A path given as bytes (Unix): empty or with a NUL byte is `None`.
pub fn path_from_bytes(bytes: &[u8]) -> Option<&Path> {
    if bytes.is_empty() || bytes.contains(&0) {
        None
    } else {
        Some(Path::new(OsStr::from_bytes(bytes)))
    }
}

#[cfg(test)]
mod tests;
