//! The writers: everything jitaudit shows, as bytes. Every writer has one shape, [`Export`]:
//! a value holding what it shows (a summary, findings, a frame, an investigation), written to
//! any sink. The commands pick an exporter for the format asked and hand it a file or standard
//! output ([`to_file`], [`to_stdout`]); what is shown is computed below, in `summary`.
//!
//! - [`report`]: the weekly report (HTML, Markdown, `summary.json`, `requests.csv`), with
//!   [`charts`];
//! - [`findings`]: the findings contract as CSV, JSON and a terminal table (`scan`);
//! - [`frame`]: any table as a terminal table, CSV, JSON or Parquet (`query`);
//! - [`caller`], [`caller_json`], [`caller_html`]: one caller's timeline;
//! - [`load`]: the account of what a load read, used and rejected;
//! - [`rules_doc`], which writes `docs/rules.md`.

pub mod caller;
pub mod caller_html;
pub mod caller_json;
pub mod charts;
pub mod findings;
pub mod findings_view;
pub mod frame;
pub mod junit;
pub mod load;
pub mod ocsf;
pub mod report;
pub mod rules_doc;
pub mod timeline_chart;

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// One output: what it shows, written to `out`. Pure: the same value writes the same bytes.
pub trait Export {
    fn export(&self, out: &mut dyn Write) -> Result<()>;
}

/// Writes `what` to the file `path`, replacing it.
pub fn to_file(path: &Path, what: &dyn Export) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    what.export(&mut w)
        .and_then(|()| w.flush().map_err(Into::into))
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes `what` to standard output. Buffered: standard output is line-buffered, and a long
/// result would be one write per line.
pub fn to_stdout(what: &dyn Export) -> Result<()> {
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    what.export(&mut w)?;
    w.flush()?;
    Ok(())
}
