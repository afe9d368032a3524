//! The account of a load, as every command prints it: files read, records read, used and
//! rejected, tables and duplicates merged, on standard output; files that could not be read
//! and records left out of an answer, on standard error. Text from the inputs (paths, reasons,
//! record details) is shown escaped ([`clean`]).

use std::io::Write;

use anyhow::Result;

use super::Export;
use crate::pipeline::IngestSummary;
use crate::sources::rejection_totals;
use crate::terminal::clean;

/// Files that could not be read, on standard error, where a scheduler looks.
pub fn print_errors(summary: &IngestSummary) {
    for e in &summary.errors {
        eprintln!("jitaudit: error: {}: {}", clean(&e.path), clean(&e.error));
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
        eprintln!("jitaudit: warning: {}", clean(&line));
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

/// The short account of a load, as `ingest` prints it: files and records read, used and
/// rejected, rows per table, reasons, notes and files passed over.
pub struct LoadAccount<'a>(pub &'a IngestSummary);

impl Export for LoadAccount<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        write_account(out, self.0)
    }
}

fn write_account(out: &mut dyn Write, summary: &IngestSummary) -> Result<()> {
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
        writeln!(out, "{}", clean(&line))?;
    }
    for f in &summary.files {
        for note in &f.notes {
            writeln!(out, "note: {}: {}", clean(&f.path), clean(note))?;
        }
    }
    for s in &summary.skipped {
        writeln!(out, "skipped {}: {}", clean(&s.path), clean(&s.reason))?;
    }
    Ok(())
}
