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
    allocator::return_freed_memory_sooner();
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

/// The allocator's settings.
mod allocator {
    use std::ffi::{c_int, c_long};

    // mimalloc's C API (`include/mimalloc.h` of the v3 sources libmimalloc-sys 0.1.49 builds);
    // the Rust bindings declare these only with a feature that adds a dependency.
    unsafe extern "C" {
        fn mi_option_set(option: c_int, value: c_long);
        #[cfg(test)]
        fn mi_option_get(option: c_int) -> c_long;
    }

    /// `mi_option_purge_delay`: the sixteenth of `enum mi_option_e` in v3's `mimalloc.h`
    /// (`show_errors` is 0; the test below holds it to the option's default).
    const PURGE_DELAY: c_int = 15;

    /// Memory freed is given back to the system after 100 ms instead of mimalloc v3's 1 s.
    /// A load frees much as it goes (the parts of each file, the buffers of each window, the
    /// columns de-duplication copies): held for a second, freed memory was a fifth of the peak.
    /// At 5 GB, `caller` peaked at 480 to 600 MB and `query` at 370 to 570 MB, and at 370 to 450
    /// and 340 to 435 MB with this, in the same time (docs/performance.md, issue 26).
    pub fn return_freed_memory_sooner() {
        // SAFETY: setting an option is allowed at any time; the value is a delay in ms.
        unsafe { mi_option_set(PURGE_DELAY, 100) };
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The option set is the purge delay: no other option of v3 defaults to 1000.
        #[test]
        fn the_option_is_the_purge_delay() {
            // SAFETY: reading an option is allowed at any time.
            assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, 1000);
        }
    }
}
