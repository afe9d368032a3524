//! One caller's investigation as `caller` writes it: a terminal view (a header of who and
//! what, then the timeline as a table), the timeline as CSV, and exporters for the JSON
//! ([`super::caller_json`]) and the HTML page ([`super::caller_html`]).

use std::io::Write;

use anyhow::Result;
use polars::prelude::{Column, DataFrame};

use super::{Export, caller_html, caller_json, frame};
use crate::normalize::format_time;
use crate::summary::caller::{Entry, Investigation};
use crate::terminal::clean;
use crate::window::Window;

/// The terminal view, its table cut to `width`.
pub struct CallerTable<'a> {
    pub investigation: &'a Investigation<'a>,
    pub width: usize,
}

impl Export for CallerTable<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        write_header(out, self.investigation)?;
        frame::write_table(out, &timeline_frame(self.investigation)?, self.width)
    }
}

/// The timeline as CSV.
pub struct CallerCsv<'a>(pub &'a Investigation<'a>);

impl Export for CallerCsv<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        frame::write_csv(out, &timeline_frame(self.0)?)
    }
}

/// The investigation as JSON.
pub struct CallerJson<'a>(pub &'a Investigation<'a>);

impl Export for CallerJson<'_> {
    fn export(&self, mut out: &mut dyn Write) -> Result<()> {
        caller_json::write(&mut out, self.0)
    }
}

/// The investigation as one HTML page, for the window it covers.
pub struct CallerHtml<'a> {
    pub investigation: &'a Investigation<'a>,
    pub window: &'a Window,
}

impl Export for CallerHtml<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        let html = caller_html::render(self.investigation, &describe_window(self.window))?;
        out.write_all(html.as_bytes())?;
        Ok(())
    }
}

pub fn describe_window(w: &Window) -> String {
    match (w.from, w.to) {
        (None, None) => "all input".to_string(),
        (f, t) => format!(
            "{} to {}",
            f.map(format_time).unwrap_or_else(|| "the start".into()),
            t.map(format_time).unwrap_or_else(|| "the end".into())
        ),
    }
}

fn write_header(w: &mut dyn Write, inv: &Investigation) -> Result<()> {
    let s = &inv.summary;
    // Every value comes from the inputs: escaped for the terminal.
    writeln!(w, "caller:          {}", clean(&s.caller))?;
    writeln!(w, "identities:      {}", clean(&s.identities.join(", ")))?;
    writeln!(
        w,
        "first / last:    {} / {}",
        s.first_activity, s.last_activity
    )?;
    writeln!(
        w,
        "JIT requests:    {} on {}",
        s.requests,
        if s.vms.is_empty() {
            "no VM".to_string()
        } else {
            clean(&s.vms.join(", ")).into_owned()
        }
    )?;
    writeln!(w, "other records:   {}", s.activity_records)?;
    writeln!(
        w,
        "odd hours:       {:.0}% of requests",
        s.odd_hour_share * 100.0
    )?;
    let findings: Vec<String> = s
        .findings_by_severity
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    writeln!(
        w,
        "findings:        {}",
        if findings.is_empty() {
            "none".to_string()
        } else {
            findings.join(", ")
        }
    )?;
    writeln!(w, "source addresses:")?;
    for a in &s.sources {
        writeln!(
            w,
            "  {:<18} {:>4} records  {} .. {}",
            clean(&a.address),
            a.count,
            a.first_seen,
            a.last_seen
        )?;
    }
    writeln!(w)?;
    Ok(())
}

fn timeline_frame(inv: &Investigation) -> Result<DataFrame> {
    let col = |name: &str, f: &dyn Fn(&Entry) -> String| {
        Column::new(
            name.into(),
            inv.timeline.iter().map(f).collect::<Vec<String>>(),
        )
    };
    let columns = vec![
        col("time_utc", &|e| e.time_utc.clone()),
        col("kind", &|e| e.kind.label().to_string()),
        col("what", &|e| e.what.to_string()),
        col("resource", &|e| e.resource.to_string()),
        col("status", &|e| e.status.to_string()),
        col("address", &|e| e.address.to_string()),
        col("detail", &|e| e.detail.to_string()),
        col("reference", &|e| e.reference.to_string()),
    ];
    Ok(DataFrame::new(inv.timeline.len(), columns)?)
}
