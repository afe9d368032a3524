//! Findings as CSV, JSON and a terminal table. CSV cells that a spreadsheet would run as a
//! formula (`=`, `+`, `-`, `@`, tab, carriage return first) are neutralised with a leading
//! apostrophe: Activity Log text reaches these cells.

use std::io::Write;

use anyhow::Result;

use super::Export;
use crate::config::Suppression;
use crate::normalize::name_of;
use crate::rules::Finding;
use crate::rules::finding::COLUMNS;
use crate::terminal::clean;

/// A cell safe to open in Excel or Sheets.
pub fn safe_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

pub fn write_csv(out: impl Write, findings: &[Finding]) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for f in findings {
        w.write_record(f.cells().iter().map(|c| safe_cell(&c.text())))?;
    }
    w.flush()?;
    Ok(())
}

pub fn write_json(mut out: impl Write, findings: &[Finding]) -> Result<()> {
    serde_json::to_writer_pretty(&mut out, findings)?;
    writeln!(out)?;
    Ok(())
}

/// A compact table for a terminal: one line per finding, the detail last and cut to `width`.
pub fn write_table(mut out: impl Write, findings: &[Finding], width: usize) -> Result<()> {
    if findings.is_empty() {
        writeln!(out, "no findings")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<8} {:<6} {:<20} {:<16} {:<24} DETAIL",
        "SEVERITY", "RULE", "TIME (UTC)", "VM", "CALLER"
    )?;
    for f in findings {
        let time = f
            .time_utc
            .get(..16)
            .unwrap_or(&f.time_utc)
            .replace('T', " ");
        let vm = name_of(&f.vm_id).unwrap_or("-");
        let mut sev = f.severity.to_string();
        if f.suppressed {
            sev.push('*');
        }
        // Values come from the inputs: escaped for the terminal.
        let (vm, caller) = (clean(vm), clean(&f.caller));
        let line = format!(
            "{:<8} {:<6} {:<20} {:<16} {:<24} {}",
            sev,
            clean(&f.rule_id),
            if time.is_empty() {
                "-".to_string()
            } else {
                time
            },
            cut(&vm, 16),
            cut(if caller.is_empty() { "-" } else { &caller }, 24),
            clean(&f.detail)
        );
        writeln!(out, "{}", cut(&line, width.max(60)))?;
    }
    if findings.iter().any(|f| f.suppressed) {
        writeln!(
            out,
            "* suppressed by the configuration; see --format csv for the reason"
        )?;
    }
    Ok(())
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The findings as `findings.csv` (the contract's columns).
pub struct FindingsCsv<'a>(pub &'a [Finding]);

impl Export for FindingsCsv<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        write_csv(out, self.0)
    }
}

/// The findings as a JSON array.
pub struct FindingsJson<'a>(pub &'a [Finding]);

impl Export for FindingsJson<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        write_json(out, self.0)
    }
}

/// `scan`'s terminal view: the findings shown, then a line of counts and the suppressions
/// that have expired.
pub struct ScanTable<'a> {
    pub findings: &'a [Finding],
    pub requests: usize,
    /// What the load read, used and rejected, in words.
    pub counts_line: String,
    pub expired: &'a [Suppression],
    pub width: usize,
}

impl Export for ScanTable<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        write_table(&mut *out, self.findings, self.width)?;
        writeln!(
            out,
            "\n{} finding(s) ({} suppressed) from {} requests; {}",
            self.findings.len(),
            self.findings.iter().filter(|f| f.suppressed).count(),
            self.requests,
            self.counts_line
        )?;
        for s in self.expired {
            writeln!(
                out,
                "expired suppression (no longer applied): {} line {}: {} ({})",
                s.rule,
                s.line,
                s.reason,
                s.expires.map(|d| d.to_string()).unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(safe_cell(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(safe_cell("CHG1 patch"), "CHG1 patch");
    }
}
