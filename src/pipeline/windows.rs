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
use crate::tables::{EventColumns, Tables};

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
        return in_turn(windows, report, &opts.events, filter);
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

/// The plain twin: the windows one after another on this thread.
fn in_turn(
    windows: &mut Windows,
    report: &mut FileReport,
    events: &EventColumns,
    filter: Option<&Prefilter>,
) -> Result<Tables> {
    let mut batch = Batch::keeping(events);
    let mut line = 1;
    while let Some(w) = windows.next_window().context("cannot read file")? {
        line = detect::read_json_lines(&w, line, &mut batch, report, filter);
    }
    Ok(batch.finish())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::reader::{self, Opened, WINDOW};

    /// The windows parsed on several threads make the rows, line numbers and file report one
    /// thread makes (the plain twin), with rejected lines in several windows.
    #[test]
    fn several_threads_read_what_one_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
        let mut lines = Vec::new();
        for entry in walkdir::WalkDir::new(dir.join("insights-activity-logs")) {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                lines.extend(text.lines().map(str::to_string));
            }
        }
        let mut data = String::new();
        let mut n = 0;
        while data.len() < 3 * WINDOW + WINDOW / 2 {
            match n % 9_973 {
                // Rejected lines of two kinds, and a blank one, here and there.
                17 => data.push_str("not json"),
                4_000 => data.push_str(r#"{"time":"yesterday","operationName":"x"}"#),
                5_000 => {}
                _ => data.push_str(&lines[n % lines.len()]),
            }
            data.push('\n');
            n += 1;
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &data).unwrap();
        let read = |workers: usize| {
            let (Opened::Lines(mut windows), _) = reader::open(file.path(), true, workers).unwrap()
            else {
                panic!("read in windows")
            };
            let mut report = FileReport::new("f.json".into(), String::new(), 0);
            let opts = LoadOptions::default();
            let tables = parse(&mut windows, &mut report, &opts, None, workers).unwrap();
            (report.sha256, report.bytes) = windows.finish();
            (tables, report)
        };
        // Each window counts its own hours; the load adds them up (`finish_tables`).
        let hours = |t: &Tables| {
            crate::tables::activity_hours_frame(
                &crate::tables::coverage_of_frame(&t.activity_hours).unwrap(),
            )
        };
        let (one, plain) = read(1);
        assert!(plain.records_rejected > 6, "{:?}", plain.rejections);
        assert!(one.events.height() > 20_000);
        for workers in [2, 3] {
            let (several, report) = read(workers);
            assert!(
                several.events.equals_missing(&one.events),
                "{workers} threads"
            );
            assert!(hours(&several).equals_missing(&hours(&one)));
            assert_eq!(
                serde_json::to_value(&report).unwrap(),
                serde_json::to_value(&plain).unwrap()
            );
        }
    }
}
