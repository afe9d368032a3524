//! `jitaudit report`: the weekly compliance run. Writes the report files into DIR, then exits
//! 0, 1 when unsuppressed findings reach `--fail-on`, or 2 on error, so a scheduler can gate.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{ReportArgs, ReportFormat};
use crate::config::Config;
use crate::exit::Exit;
use crate::normalize::format_time;
use crate::report::{self, summary};
use crate::rules;
use crate::sources::prefilter::Need;
use crate::window::{self, Window};

const LAST_SUMMARY: &str = "last-summary.json";

pub fn run(args: ReportArgs) -> Result<Exit> {
    let config = Config::load(args.config.as_deref())?;
    let window = Window::from_args(&args.window)?;
    let loaded = super::ingest::load_for(&args.input, Need::Jit)?;
    super::ingest::print_errors(&loaded.summary);
    let state = args
        .state
        .as_deref()
        .map(super::scan::read_state)
        .transpose()?
        .flatten();
    let now = window::now()?;
    let outcome = rules::run(
        &loaded.tables,
        &config,
        &window,
        now.date_naive(),
        state.as_ref(),
    )?;
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| "JIT access review".to_string());
    let mut s = summary::build(
        &loaded.tables,
        &loaded.summary,
        &outcome,
        &config,
        &window,
        &title,
    )?;
    if let Some(dir) = &args.state {
        s.change = previous(dir)?.map(|p| summary::Change {
            findings: s.counts.findings as i64 - p.counts.findings as i64,
            requests: s.counts.requests as i64 - p.counts.requests as i64,
            vms_without_jit: (s.counts.vms - s.counts.vms_with_jit) as i64
                - (p.counts.vms - p.counts.vms_with_jit) as i64,
            previous_generated: p.window_to,
        });
    }
    let generated_at = format_time(now.timestamp_nanos_opt().context("now out of range")?);
    let ledger = summary::window_requests(&loaded.tables, &window)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let write = |name: &str, text: String| -> Result<()> {
        let path = args.out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    let formats = if args.format.is_empty() {
        vec![
            ReportFormat::Html,
            ReportFormat::Csv,
            ReportFormat::Json,
            ReportFormat::Md,
        ]
    } else {
        args.format.clone()
    };
    let mut written = Vec::new();
    for f in formats {
        match f {
            ReportFormat::Html => {
                write("report.html", report::html(&s, &ledger, &generated_at)?)?;
                written.push("report.html");
            }
            ReportFormat::Csv => {
                report::findings_csv(&args.out.join("findings.csv"), &s)?;
                report::requests_csv(&args.out.join("requests.csv"), &ledger)?;
                written.extend(["findings.csv", "requests.csv"]);
            }
            ReportFormat::Json => {
                write("summary.json", report::json(&s, &generated_at)?)?;
                written.push("summary.json");
            }
            ReportFormat::Md => {
                write("report.md", report::markdown(&s, &generated_at))?;
                written.push("report.md");
            }
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} finding(s) ({} suppressed), {} requests, {} of {} VMs with JIT; {}; wrote {} to {}",
        s.counts.findings,
        s.counts.suppressed,
        s.counts.requests,
        s.counts.vms_with_jit,
        s.counts.vms,
        loaded.summary.counts_line(),
        written.join(", "),
        args.out.display()
    )?;
    if !loaded.summary.errors.is_empty() {
        return Ok(Exit::Error);
    }
    if let Some(dir) = &args.state {
        super::scan::write_state(dir, &outcome.baseline)?;
        crate::state::write(dir, LAST_SUMMARY, &s)?;
    }
    let failed = args
        .fail_on
        .is_some_and(|g| summary::gate_reached(&s.findings, g.name()));
    Ok(if failed { Exit::Findings } else { Exit::Clean })
}

fn previous(dir: &Path) -> Result<Option<summary::ReportSummary>> {
    crate::state::read(dir, LAST_SUMMARY, "summary")
}
