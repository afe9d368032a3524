//! Exit codes, one place: what a scheduler or pipeline gates on.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked and nothing reached the gate.
    Clean = 0,
    /// Findings at or above `--fail-on`.
    Findings = 1,
    /// Bad input, bad configuration, or a file that could not be read.
    Error = 2,
    /// `collect` got some of what it was asked for: the manifest says what failed.
    Partial = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}
