//! `jitaudit scan`: run the rule catalogue over the inputs and print the findings; the exit
//! code gates on `--fail-on`.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::cli::{OutputFormat, ScanArgs};
use crate::config::Config;
use crate::exit::Exit;
use crate::output::findings as out;
use crate::rules::{self, finding::rank, stateful::Baseline};
use crate::sources::prefilter::Need;
use crate::window::{self, Window};

const STATE_FILE: &str = "baseline.json";

pub fn run(args: ScanArgs) -> Result<Exit> {
    let config = Config::load(args.config.as_deref())?;
    let window = Window::from_args(&args.window)?;
    let loaded = super::ingest::load_for(&args.input, Need::Jit)?;
    let state = args.state.as_deref().map(read_state).transpose()?.flatten();
    let today = window::now()?.date_naive();
    let outcome = rules::run(&loaded.tables, &config, &window, today, state.as_ref())?;
    let min = args.min_severity.map(|s| rank(s.name())).unwrap_or(0);
    let shown: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| rank(&f.severity) >= min)
        .cloned()
        .collect();
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    match args.format {
        OutputFormat::Table => {
            let width = terminal_width();
            out::write_table(&mut w, &shown, width)?;
            writeln!(
                w,
                "\n{} finding(s) ({} suppressed) from {} requests; {}",
                shown.len(),
                shown.iter().filter(|f| f.suppressed).count(),
                loaded.tables.requests.height(),
                loaded.summary.counts_line()
            )?;
            for s in &outcome.expired {
                writeln!(
                    w,
                    "expired suppression (no longer applied): {} line {}: {} ({})",
                    s.rule,
                    s.line,
                    s.reason,
                    s.expires.map(|d| d.to_string()).unwrap_or_default()
                )?;
            }
        }
        OutputFormat::Csv => out::write_csv(&mut w, &shown)?,
        OutputFormat::Json => out::write_json(&mut w, &shown)?,
    }
    w.flush()?;
    super::ingest::print_errors(&loaded.summary);
    if !loaded.summary.errors.is_empty() {
        return Ok(Exit::Error);
    }
    // The baseline moves on only after a run that read everything.
    if let Some(dir) = &args.state {
        write_state(dir, &outcome.baseline)?;
    }
    let gate = args.fail_on.map(|s| rank(s.name()));
    let failed = gate.is_some_and(|g| {
        outcome
            .findings
            .iter()
            .any(|f| !f.suppressed && rank(&f.severity) >= g)
    });
    Ok(if failed { Exit::Findings } else { Exit::Clean })
}

pub fn read_state(dir: &Path) -> Result<Option<Baseline>> {
    crate::state::read(dir, STATE_FILE, "baseline")
}

pub fn write_state(dir: &Path, baseline: &Baseline) -> Result<()> {
    crate::state::write(dir, STATE_FILE, baseline)
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(160)
}
