//! `jitaudit scan`: run the rule catalogue over the inputs and print the findings; the exit
//! code gates on `--fail-on`.

use anyhow::Result;

use crate::cli::{OutputFormat, ScanArgs};
use crate::exit::Exit;
use crate::output::findings::{FindingsCsv, FindingsJson, ScanTable};
use crate::output::load::print_errors;
use crate::output::{self, Export};
use crate::severity::Severity;
use crate::summary::report::gate_reached;

pub fn run(args: ScanArgs) -> Result<Exit> {
    let super::Judged {
        loaded, outcome, ..
    } = super::judge(
        &args.input,
        args.config.as_deref(),
        &args.window,
        args.state.as_deref(),
    )?;
    let min = args.min_severity.unwrap_or(Severity::Info);
    let shown: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.severity >= min)
        .cloned()
        .collect();
    let table;
    let exporter: &dyn Export = match args.format {
        OutputFormat::Table => {
            table = ScanTable {
                findings: &shown,
                requests: loaded.tables.requests.height(),
                counts_line: loaded.summary.counts_line(),
                expired: &outcome.expired,
                width: terminal_width(),
            };
            &table
        }
        OutputFormat::Csv => &FindingsCsv(&shown),
        OutputFormat::Json => &FindingsJson(&shown),
    };
    output::to_stdout(exporter)?;
    print_errors(&loaded.summary);
    if !loaded.summary.errors.is_empty() {
        return Ok(Exit::Error);
    }
    // The baseline moves on only after a run that read everything.
    if let Some(dir) = &args.state {
        outcome.baseline.write(dir)?;
    }
    let failed = args
        .fail_on
        .is_some_and(|gate| gate_reached(&outcome.findings, gate));
    Ok(if failed { Exit::Findings } else { Exit::Clean })
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(160)
}
