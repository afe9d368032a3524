//! One large JSON Lines file, parsed on several threads a window at a time.
//!
//! The reading thread ([`super::reader`]) reads, hashes and cuts the file into windows of whole
//! lines; here each window is numbered (its first line is counted from the windows before it)
//! and parsed by whichever parsing thread is free, and the parts are put back in the file's
//! order. The rows, their line numbers and the file's report are then what one thread reading
//! the windows one after another makes (the plain twin, `workers == 1`, which a test below
//! holds equal). One big file used one core of many: this puts the others to work while the
//! reading thread hashes (issue 26; figures in docs/performance.md).

use std::sync::Mutex;

use anyhow::{Context, Result};

use super::reader::Windows;
use super::{LoadOptions, Prefilter};
use crate::sources::{Batch, FileReport, detect};
use crate::tables::Tables;

/// Parses every window of `windows` into tables, counting into `report`, on `workers` threads
/// (this one among them).
pub(super) fn parse(
    windows: &mut Windows,
    report: &mut FileReport,
    opts: &LoadOptions,
    filter: Option<&Prefilter>,
    workers: usize,
) -> Result<Tables> {
    if workers <= 1 {
        let mut batch = Batch::keeping(&opts.events);
        let mut line = 1;
        while let Some(w) = windows.next_window().context("cannot read file")? {
            line = detect::read_json_lines(&w, line, &mut batch, report, filter);
        }
        return Ok(batch.finish());
    }
    let next = Mutex::new(Next {
        windows,
        index: 0,
        line: 1,
        failed: None,
    });
    let parts: Mutex<Vec<Part>> = Mutex::new(Vec::new());
    let path = report.path.clone();
    let work = || {
        loop {
            // Taken one at a time: a window's first line is known once the one before it is
            // counted (a newline count, a millisecond for 16 MiB).
            let (window, index, line) = {
                let mut next = next.lock().expect("no parser panics holding it");
                if next.failed.is_some() {
                    return;
                }
                match next.windows.next_window() {
                    Ok(Some(w)) => {
                        let at = (next.index, next.line);
                        next.index += 1;
                        next.line += memchr::memchr_iter(b'\n', &w).count() as u64;
                        (w, at.0, at.1)
                    }
                    Ok(None) => return,
                    Err(e) => {
                        next.failed = Some(e);
                        return;
                    }
                }
            };
            let mut batch = Batch::keeping(&opts.events);
            let mut part = FileReport::new(path.clone(), String::new(), 0);
            detect::read_json_lines(&window, line, &mut batch, &mut part, filter);
            drop(window);
            let tables = batch.finish();
            (parts.lock().expect("no parser panics holding it")).push(Part {
                index,
                tables,
                report: part,
            });
        }
    };
    std::thread::scope(|s| {
        for _ in 1..workers {
            s.spawn(work);
        }
        work();
    });
    let next = next.into_inner().expect("no parser panicked");
    if let Some(e) = next.failed {
        return Err(anyhow::Error::new(e).context("cannot read file"));
    }
    let mut parts = parts.into_inner().expect("no parser panicked");
    parts.sort_by_key(|p| p.index);
    let mut tables = Tables::default();
    for part in parts {
        tables.append(&part.tables)?;
        report.absorb(part.report);
    }
    Ok(tables)
}

struct Next<'w> {
    windows: &'w mut Windows,
    index: usize,
    line: u64,
    failed: Option<std::io::Error>,
}

struct Part {
    index: usize,
    tables: Tables,
    report: FileReport,
}
