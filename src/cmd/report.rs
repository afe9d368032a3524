//! `jitaudit report`: the weekly compliance run. Writes the report files into DIR, then exits
//! 0, 1 when unsuppressed findings reach `--fail-on`, or 2 on error, so a scheduler can gate.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{ReportArgs, ReportFormat};
use crate::exit::Exit;
use crate::normalize::format_time;
use crate::output::findings::FindingsCsv;
use crate::output::junit::FindingsJunit;
use crate::output::load::print_errors;
use crate::output::ocsf::FindingsOcsf;
use crate::output::report::{LedgerCsv, ReportHtml, ReportText, TextForm};
use crate::output::{self, Export};
use crate::summary::history;
use crate::summary::report as summary;

pub fn run(args: ReportArgs) -> Result<Exit> {
    let super::Judged {
        config,
        window,
        loaded,
        now,
        outcome,
    } = super::judge(
        &args.input,
        args.config.as_deref(),
        &args.window,
        args.state.as_deref(),
    )?;
    print_errors(&loaded.summary);
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
    // Without a state directory there are no past runs: the trend is the window's weeks.
    let past = match &args.state {
        Some(dir) => history::read(dir)?,
        None => Vec::new(),
    };
    let runs = history::apply(&mut s, past);
    let generated_at = format_time(now.timestamp_nanos_opt().context("now out of range")?);
    let ledger = summary::window_requests(&loaded.tables, &window)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
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
    let (html, md, json) = (
        ReportHtml {
            summary: &s,
            ledger: &ledger,
            generated_at: &generated_at,
        },
        ReportText {
            summary: &s,
            generated_at: &generated_at,
            form: TextForm::Markdown,
        },
        ReportText {
            summary: &s,
            generated_at: &generated_at,
            form: TextForm::Json,
        },
    );
    let (findings_csv, ledger_csv) = (FindingsCsv(&s.findings), LedgerCsv(&ledger));
    let ocsf = FindingsOcsf {
        findings: &s.findings,
        created_ms: now.timestamp_millis(),
    };
    let junit = FindingsJunit {
        findings: &s.findings,
        gate: args.fail_on,
        title: &title,
        generated_at: &generated_at,
    };
    let mut written = Vec::new();
    for f in formats {
        let files: Vec<(&str, &dyn Export)> = match f {
            ReportFormat::Html => vec![("report.html", &html)],
            ReportFormat::Csv => vec![
                ("findings.csv", &findings_csv),
                ("requests.csv", &ledger_csv),
            ],
            ReportFormat::Json => vec![("summary.json", &json)],
            ReportFormat::Md => vec![("report.md", &md)],
            ReportFormat::Ocsf => vec![("findings.ocsf.jsonl", &ocsf)],
            ReportFormat::Junit => vec![("findings.junit.xml", &junit)],
        };
        for (name, what) in files {
            output::to_file(&args.out.join(name), what)?;
            written.push(name);
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
        outcome.baseline.write(dir)?;
        history::keep(dir, &runs)?;
    }
    let failed = args
        .fail_on
        .is_some_and(|g| summary::gate_reached(&s.findings, g));
    Ok(if failed { Exit::Findings } else { Exit::Clean })
}
