//! Findings as CSV, JSON and a terminal table. CSV cells that a spreadsheet would run as a
//! formula (`=`, `+`, `-`, `@`, tab, carriage return first) are neutralised with a leading
//! apostrophe: Activity Log text reaches these cells.

use std::io::Write;

use anyhow::Result;

use crate::normalize::name_of;
use crate::rules::Finding;

/// The findings CSV columns, in contract order.
pub const CSV_COLUMNS: &[&str] = &[
    "rule_id",
    "severity",
    "title",
    "time_utc",
    "subscription_id",
    "vm_id",
    "caller",
    "source",
    "port",
    "detail",
    "evidence",
    "recommendation",
    "suppressed",
    "suppression_reason",
];

/// A cell safe to open in Excel or Sheets.
pub fn safe_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

pub fn write_csv(out: impl Write, findings: &[Finding]) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_COLUMNS)?;
    for f in findings {
        let port = f.port.map(|p| p.to_string()).unwrap_or_default();
        let suppressed = f.suppressed.to_string();
        let cells = [
            &f.rule_id,
            &f.severity,
            &f.title,
            &f.time_utc,
            &f.subscription_id,
            &f.vm_id,
            &f.caller,
            &f.source,
            &port,
            &f.detail,
            &f.evidence,
            &f.recommendation,
            &suppressed,
            &f.suppression_reason,
        ];
        w.write_record(cells.iter().map(|c| safe_cell(c)))?;
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
        let mut sev = f.severity.clone();
        if f.suppressed {
            sev.push('*');
        }
        let line = format!(
            "{:<8} {:<6} {:<20} {:<16} {:<24} {}",
            sev,
            f.rule_id,
            if time.is_empty() {
                "-".to_string()
            } else {
                time
            },
            cut(vm, 16),
            cut(if f.caller.is_empty() { "-" } else { &f.caller }, 24),
            f.detail
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
