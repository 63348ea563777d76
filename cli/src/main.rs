//! The `kuberef` command (see the library, `src/lib.rs`, for the commands).

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};
use kuberef_cli::args::Cli;
use kuberef_cli::exit::Exit;
use kuberef_cli::{run, version, Terminals};

/// A clap error as one line: its message and tips, without the usage block.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let head = text.split("\nUsage:").next().unwrap_or(&text);
    let parts: Vec<&str> = head
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let joined = parts.join(" ");
    let joined = joined.strip_prefix("error: ").unwrap_or(&joined);
    let joined = joined
        .trim_end_matches("For more information, try '--help'.")
        .trim_end();
    format!("{joined} (see --help)")
}

fn main() -> ExitCode {
    let version: &'static str = Box::leak(version().into_boxed_str());
    let matches = Cli::command().version(version).try_get_matches();
    let cli = match matches.and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                eprintln!("kuberef: a command is needed: dump, verify, stats or diff (see --help)");
                return ExitCode::from(Exit::Usage as u8);
            }
            _ => {
                eprintln!("kuberef: {}", one_line(&e));
                return ExitCode::from(Exit::Usage as u8);
            }
        },
    };
    let terminals = Terminals {
        stdout: io::stdout().is_terminal(),
        stderr: io::stderr().is_terminal(),
    };
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let result = run(cli.command, &mut out, terminals).and_then(|exit| {
        out.flush()
            .map(|()| exit)
            .map_err(|e| kuberef_cli::exit::Failure::output(&e))
    });
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        // The reader went away (`kuberef dump FILE | head`): stop quietly.
        Err(f) if f.pipe_closed => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("kuberef: {f}");
            ExitCode::from(f.exit as u8)
        }
    }
}
