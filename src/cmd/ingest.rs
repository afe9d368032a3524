//! `jitaudit ingest`: read every input into the normalized tables and write them as Parquet,
//! with `ingest-summary.json` saying what was read, used and rejected per file.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};

use crate::cli::{IngestArgs, InputArgs};
use crate::exit::Exit;
use crate::schema::INGEST_SUMMARY_FILE;
use crate::sources::EventColumns;
use crate::sources::load::{self, IngestSummary, LoadOptions, Loaded};
use crate::sources::prefilter::Need;
use crate::sources::rejection_totals;

pub fn run(args: IngestArgs) -> Result<Exit> {
    let Loaded {
        mut tables,
        summary,
    } = load_inputs(&args.input)?;
    tables.write_parquet(&args.out)?;
    let path = args.out.join(INGEST_SUMMARY_FILE);
    let json = serde_json::to_string_pretty(&summary)?;
    std::fs::write(&path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    print_summary(&mut out, &summary)?;
    writeln!(
        out,
        "wrote {} tables and {}",
        crate::schema::ALL_TABLES.len(),
        path.display()
    )?;
    print_errors(&summary);
    Ok(exit_for(&summary))
}

/// Loads the inputs as every command does.
pub fn load_inputs(input: &InputArgs) -> Result<Loaded> {
    load_for(input, Need::All)
}

/// Loads for a command that needs only `need` of the Activity Log (unless --no-prefilter).
pub fn load_for(input: &InputArgs, need: Need) -> Result<Loaded> {
    load_hashing(input, need, true)
}

/// [`load_for`], taking each file's SHA-256 only when `hash` (the `files` table has none then).
pub fn load_hashing(input: &InputArgs, need: Need, hash: bool) -> Result<Loaded> {
    load_columns(input, need, hash, EventColumns::All)
}

/// [`load_hashing`], filling only `events` columns of `events`.
pub fn load_columns(
    input: &InputArgs,
    need: Need,
    hash: bool,
    events: EventColumns,
) -> Result<Loaded> {
    load::load(
        &input.paths,
        LoadOptions {
            strict: input.strict,
            skip_unknown: input.skip_unknown,
            progress: std::io::stderr().is_terminal(),
            need: if input.no_prefilter { Need::All } else { need },
            hash,
            events,
        },
    )
}

/// Files that could not be read make the run an error, after everything else is written.
pub fn exit_for(summary: &IngestSummary) -> Exit {
    if summary.errors.is_empty() {
        Exit::Clean
    } else {
        Exit::Error
    }
}

/// Files that could not be read, on standard error, where a scheduler looks.
pub fn print_errors(summary: &IngestSummary) {
    for e in &summary.errors {
        eprintln!("jitaudit: error: {}: {}", e.path, e.error);
    }
}

/// Records a command left out of its answer, on standard error beside it (a query's rows, a
/// caller's timeline, which standard output holds): how many, and each reason with its first
/// place, so that an answer is never short without saying so.
pub fn print_rejections(summary: &IngestSummary) {
    let (read, _, rejected) = summary.totals();
    if rejected == 0 {
        return;
    }
    eprintln!("jitaudit: warning: {rejected} of {read} records rejected, left out of the answer");
    for line in rejection_lines(summary) {
        eprintln!("jitaudit: warning: {line}");
    }
}

/// Per rejection reason: the count and the first place (`file:line: detail`).
fn rejection_lines(summary: &IngestSummary) -> Vec<String> {
    rejection_totals(&summary.files)
        .into_iter()
        .map(|(reason, count)| {
            let first = summary
                .files
                .iter()
                .flat_map(|f| &f.rejections)
                .find(|r| r.reason == reason)
                .and_then(|r| r.locations.first())
                .cloned()
                .unwrap_or_default();
            format!("rejected {count}: {reason} (first at {first})")
        })
        .collect()
}

/// The short account of a load every command prints.
pub fn print_summary(out: &mut impl Write, summary: &IngestSummary) -> Result<()> {
    let (read, used, rejected) = summary.totals();
    writeln!(
        out,
        "read {} file(s): {read} records read, {used} used, {rejected} rejected",
        summary.files.len()
    )?;
    let rows: Vec<String> = summary
        .rows
        .iter()
        .map(|(table, n)| match summary.duplicates_merged.get(table) {
            Some(d) => format!("{table} {n} ({d} duplicates merged)"),
            None => format!("{table} {n}"),
        })
        .collect();
    writeln!(out, "tables: {}", rows.join(", "))?;
    for line in rejection_lines(summary) {
        writeln!(out, "{line}")?;
    }
    for f in &summary.files {
        for note in &f.notes {
            writeln!(out, "note: {}: {note}", f.path)?;
        }
    }
    for s in &summary.skipped {
        writeln!(out, "skipped {}: {}", s.path, s.reason)?;
    }
    Ok(())
}
