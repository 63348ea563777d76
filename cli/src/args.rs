//! The command line (clap derive).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_STATUS_HELP;

/// Look into kuberef snapshot files (what kuberef_save writes and
/// kuberef_load restores)
#[derive(Parser, Debug)]
#[command(
    name = "kuberef",
    after_help = EXIT_STATUS_HELP,
    subcommand_required = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for a person (control characters escaped)
    Table,
    /// JSON (lines), strings escaped exactly as Go's json.Marshal does
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print every stored reference, in file order
    ///
    /// A table on a terminal; otherwise (or with --format json) one JSON
    /// object per line, {"containerID":"TYPE://ID","reference":{...}}, the
    /// reference exactly as kuberef_ref_to_json writes it. The file is
    /// checked whole first.
    #[command(after_help = EXIT_STATUS_HELP)]
    Dump(DumpArgs),
    /// Check that a snapshot file is whole
    ///
    /// Checks what a load checks (magic, version, header CRC-32, lengths,
    /// every record, the records' CRC-32) and prints what it found; a file
    /// that is not whole gets the precise reason on one line of standard
    /// error and the exit status of its class.
    #[command(after_help = EXIT_STATUS_HELP)]
    Verify {
        /// The snapshot file
        file: PathBuf,
    },
    /// Count what a snapshot holds
    ///
    /// Records, bytes, the memory its references take once loaded,
    /// references per runtime and per pod, and the pods with the most.
    #[command(after_help = EXIT_STATUS_HELP)]
    Stats {
        /// The snapshot file
        file: PathBuf,
        #[command(flatten)]
        format: FormatArg,
        /// How many runtimes and pods to list, most references first (0: all)
        #[arg(long, value_name = "N", default_value_t = 10)]
        top: usize,
    },
    /// List the references added, removed or changed from snapshot A to B
    ///
    /// Compares what a load of each would restore, by container ID. Exit
    /// status 0 if they are equal, 1 if they differ.
    #[command(after_help = EXIT_STATUS_HELP)]
    Diff {
        /// The earlier snapshot
        a: PathBuf,
        /// The later snapshot
        b: PathBuf,
        #[command(flatten)]
        format: FormatArg,
    },
}

#[derive(Args, Debug)]
pub struct FormatArg {
    /// Output format [default: table on a terminal, json otherwise]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

impl FormatArg {
    /// The format to use when standard output is (`tty`) or is not a terminal.
    pub fn resolve(&self, tty: bool) -> Format {
        self.format
            .unwrap_or(if tty { Format::Table } else { Format::Json })
    }
}

#[derive(Args, Debug)]
pub struct DumpArgs {
    /// The snapshot file
    pub file: PathBuf,
    #[command(flatten)]
    pub format: FormatArg,
    /// Only references whose uid (the pod's UID) is U
    #[arg(long, value_name = "U")]
    pub pod_uid: Option<OsString>,
    /// Only references in namespace N
    #[arg(long, value_name = "N")]
    pub namespace: Option<OsString>,
    /// Only containers of runtime R (the container ID's type: containerd, docker, ...)
    #[arg(long, value_name = "R")]
    pub runtime: Option<OsString>,
}
