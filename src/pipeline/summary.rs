//! The account of a load: `ingest-summary.json`, what every command says it read, used,
//! rejected and passed over, and why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::exit::Exit;
use crate::sources::FileReport;

/// `ingest-summary.json`: one entry per input file, plus what happened across files.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IngestSummary {
    pub files: Vec<FileReport>,
    /// Files passed over while walking directories (documentation, metadata), with why.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// Files that could not be read at all; a run with any exits with an error.
    #[serde(default)]
    pub errors: Vec<FileError>,
    /// Rows per table after de-duplication.
    #[serde(default)]
    pub rows: BTreeMap<String, u64>,
    /// Rows dropped per table because another input held the same record.
    #[serde(default)]
    pub duplicates_merged: BTreeMap<String, u64>,
    /// What the inputs say about themselves that a reader must know: a `collect` snapshot
    /// that is partial or was stopped before it finished.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Values in which credentials pasted into the data were masked (`--no-redact` keeps them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub credentials_masked: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileError {
    pub path: String,
    pub error: String,
}

impl IngestSummary {
    /// Records read, used, rejected and skipped, in words, for the line each command prints.
    pub fn counts_line(&self) -> String {
        let (read, used, rejected) = self.totals();
        let skipped: u64 = self.files.iter().map(|f| f.records_skipped).sum();
        let mut line = format!("{read} records read, {used} used, {rejected} rejected");
        if skipped > 0 {
            line.push_str(&format!(
                ", {skipped} passed over unparsed as not JIT-related (--no-prefilter parses them)"
            ));
        }
        line
    }

    /// Files that could not be read make the run an error, after everything else is written.
    pub fn exit(&self) -> Exit {
        if self.errors.is_empty() {
            Exit::Clean
        } else {
            Exit::Error
        }
    }

    pub fn totals(&self) -> (u64, u64, u64) {
        self.files.iter().fold((0, 0, 0), |(r, u, j), f| {
            (
                r + f.records_read,
                u + f.records_used,
                j + f.records_rejected,
            )
        })
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
