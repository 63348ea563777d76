//! Exit statuses and the one-line failures behind them.
//!
//! Every status but 0 and 1 names one class of failure, the same for every
//! command; a file's classes follow `kuberef_load`'s statuses, with its
//! `KUBEREF_FILE_CORRUPT` split in two (checksum, inconsistent).

use std::fmt;

use kuberef::persist::Corrupt;
use kuberef::LoadError;

/// What `kuberef` exits with (the table `--help` and docs/operating.md show).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Done: the file is whole (`verify`), the snapshots are equal (`diff`).
    Ok = 0,
    /// `diff` only: the snapshots differ.
    Differ = 1,
    /// The command line is wrong.
    Usage = 2,
    /// No file at that path (`KUBEREF_FILE_NOT_FOUND`).
    Missing = 3,
    /// A directory, FIFO, socket or device (`KUBEREF_FILE_NOT_REGULAR`).
    NotRegular = 4,
    /// The operating system refused to open or read it (`KUBEREF_IO_ERROR`).
    Unreadable = 5,
    /// Not a kuberef snapshot: no magic (`KUBEREF_FILE_FOREIGN`).
    Foreign = 6,
    /// A format version this tool does not read (`KUBEREF_FILE_VERSION`).
    Version = 7,
    /// The file ends before its header says (`KUBEREF_FILE_TRUNCATED`).
    Truncated = 8,
    /// The header's or the records' CRC-32 does not match (`KUBEREF_FILE_CORRUPT`).
    Checksum = 9,
    /// Lengths, counts or records that do not add up, reserved flags set, or
    /// a file that changed while it was read (`KUBEREF_FILE_CORRUPT`).
    Inconsistent = 10,
    /// Standard output could not be written (a closed pipe is not an error).
    Output = 11,
}

/// The exit statuses, as `--help` prints them.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
   0  done (verify: the file is whole; diff: the snapshots are equal)
   1  diff: the snapshots differ
   2  usage error
   3  no file at that path
   4  not a regular file (directory, FIFO, socket, device)
   5  the file cannot be opened or read
   6  not a kuberef snapshot file
   7  a snapshot format version this tool does not read
   8  truncated: shorter than its header says
   9  checksum mismatch (header or records)
  10  inconsistent: lengths, counts or records that do not add up,
      reserved flags set, or the file changed while it was read
  11  standard output cannot be written
Errors are one line on standard error.";

/// Why a command failed: its exit status and a one-line message.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    /// Standard output's reader has gone (EPIPE): not worth a message.
    pub pipe_closed: bool,
}

impl Failure {
    /// The failure of reading the snapshot `name`.
    pub fn load(name: &str, e: &LoadError) -> Self {
        Failure {
            exit: classify(e),
            message: format!("{name}: {e}"),
            pipe_closed: false,
        }
    }

    /// A failure to write standard output.
    pub fn output(e: &std::io::Error) -> Self {
        Failure {
            exit: Exit::Output,
            message: format!("cannot write the output: {e}"),
            pipe_closed: e.kind() == std::io::ErrorKind::BrokenPipe,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line whatever the message holds (a path may contain newlines).
        for c in self.message.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// The exit status of a load error.
pub fn classify(e: &LoadError) -> Exit {
    match e {
        LoadError::NotFound => Exit::Missing,
        LoadError::NotRegular => Exit::NotRegular,
        LoadError::Io(_) => Exit::Unreadable,
        LoadError::Foreign => Exit::Foreign,
        LoadError::Version(_) => Exit::Version,
        LoadError::Truncated(_) => Exit::Truncated,
        LoadError::Corrupt(Corrupt::HeaderChecksum { .. } | Corrupt::PayloadChecksum { .. }) => {
            Exit::Checksum
        }
        LoadError::Corrupt(_) => Exit::Inconsistent,
        // LoadError is non-exhaustive: a class added later is at least not "whole".
        _ => Exit::Inconsistent,
    }
}
