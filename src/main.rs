//! jitaudit: audits Azure Just-In-Time VM access. `main` is a table of contents: parse the
//! command line, run the command, print any error with its whole cause chain, exit with the
//! command's code.

use std::process::ExitCode;

use clap::Parser;
use jitaudit::cli::{Cli, Command};
use jitaudit::cmd;
use jitaudit::exit::Exit;
use jitaudit::terminal::clean;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => cmd::ingest::run(args),
        Command::Sample(args) => cmd::sample::run(args),
        Command::Scan(args) => cmd::scan::run(args),
        Command::Rules(args) => cmd::rules::run(args),
        Command::Query(args) => cmd::query::run(args),
        Command::Queries => cmd::queries::run(),
        Command::Caller(args) => cmd::caller::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Collect(args) => cmd::collect::run(args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) if is_broken_pipe(&err) => Exit::Clean.into(),
        Err(err) => {
            // The message can quote the inputs (a path, a record): shown escaped.
            eprintln!("jitaudit: error: {}", clean(&format!("{err:#}")));
            Exit::Error.into()
        }
    }
}

/// `jitaudit ... | head` closing the pipe early is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
