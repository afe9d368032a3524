//! `jitaudit scan`: run the rule catalogue over the inputs and print the findings; the exit
//! code gates on `--fail-on`.

use anyhow::Result;

use crate::cli::{ScanArgs, ScanFormat};
use crate::exit::Exit;
use crate::output::findings::{FindingsCsv, FindingsJson, ScanTable};
use crate::output::junit::FindingsJunit;
use crate::output::load::print_errors;
use crate::output::ocsf::FindingsOcsf;
use crate::output::{self, Export};
use crate::severity::Severity;
use crate::summary::report::gate_reached;

pub fn run(args: ScanArgs) -> Result<Exit> {
    let super::Judged {
        loaded,
        outcome,
        now,
        ..
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
    let (table, ocsf, junit);
    let generated_at = crate::normalize::format_time(now.timestamp_nanos_opt().unwrap_or(0));
    let exporter: &dyn Export = match args.format {
        ScanFormat::Table => {
            table = ScanTable {
                findings: &shown,
                requests: loaded.tables.requests.height(),
                counts_line: loaded.summary.counts_line(),
                expired: &outcome.expired,
                width: terminal_width(),
            };
            &table
        }
        ScanFormat::Csv => &FindingsCsv(&shown),
        ScanFormat::Json => &FindingsJson(&shown),
        ScanFormat::Ocsf => {
            ocsf = FindingsOcsf {
                findings: &shown,
                created_ms: now.timestamp_millis(),
            };
            &ocsf
        }
        ScanFormat::Junit => {
            junit = FindingsJunit {
                findings: &shown,
                gate: args.fail_on,
                title: "jitaudit scan",
                generated_at: &generated_at,
            };
            &junit
        }
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
