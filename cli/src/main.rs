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
    // clap quotes the offending argument as given: escaped like a path.
    format!(
        "{} (see --help)",
        kuberef_cli::text::printable(joined.as_bytes())
    )
}

fn main() -> ExitCode {
    let version: &'static str = Box::leak(version().into_boxed_str());
    let matches = Cli::command().version(version).try_get_matches();
    let cli = match matches.and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                return match e.print() {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(err) => failed(&kuberef_cli::exit::Failure::output(&err)),
                };
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                say("a command is needed: dump, verify, stats or diff (see --help)");
                return ExitCode::from(Exit::Usage as u8);
            }
            _ => {
                say(&one_line(&e));
                return ExitCode::from(Exit::Usage as u8);
            }
        },
    };
    let terminals = Terminals {
        stdout: io::stdout().is_terminal(),
        stderr: io::stderr().is_terminal(),
    };
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    match run(cli.command, &mut out, terminals) {
        Ok(exit) => match out.flush() {
            // A reader that went away after the command had its answer
            // (`kuberef diff A B | head`) leaves the answer as it is.
            Err(e) if !kuberef_cli::exit::Failure::output(&e).pipe_closed => {
                failed(&kuberef_cli::exit::Failure::output(&e))
            }
            _ => ExitCode::from(exit as u8),
        },
        Err(f) => failed(&f),
    }
}

/// The exit of a failed command: its message on standard error, and its
/// status; a closed pipe (`kuberef dump FILE | head`) ends it quietly, with 0.
fn failed(f: &kuberef_cli::exit::Failure) -> ExitCode {
    if f.pipe_closed {
        return ExitCode::SUCCESS;
    }
    say(&f.to_string());
    ExitCode::from(f.exit as u8)
}

/// Writes `kuberef: MESSAGE` on standard error. A standard error that
/// cannot be written (`2>/dev/full`, a closed pipe) loses the message, not
/// the exit status: the caller returns the status either way.
fn say(message: &str) {
    let _ = writeln!(io::stderr(), "kuberef: {message}");
}
