//! One large JSON Lines file, parsed on several threads a window at a time.
//!
//! The reading thread ([`super::reader`]) reads, hashes and cuts the file into windows of whole
//! lines; here each window is parsed by whichever parsing thread is free, its lines numbered
//! from its own start and renumbered once the windows before it are counted, and the parts are
//! put back in the file's order. The rows, their line numbers and the file's report are then
//! what one thread reading the windows one after another makes (the plain twin,
//! `workers == 1`, which a test below holds equal). One big file used one core of many: this
//! puts the others to work while the reading thread hashes (issue 26; figures in
//! docs/performance.md).

use std::sync::{Condvar, Mutex};

use anyhow::{Context, Result};
use polars::prelude::IntoColumn;

use super::reader::Windows;
use super::{LoadOptions, Prefilter};
use crate::schema;
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
    parse_in_runs(windows, report, opts, filter, workers, RUN)
}

/// [`parse`], its parts made one chunk `run` at a time.
fn parse_in_runs(
    windows: &mut Windows,
    report: &mut FileReport,
    opts: &LoadOptions,
    filter: Option<&Prefilter>,
    workers: usize,
    run: usize,
) -> Result<Tables> {
    // A read of names only keeps a row per name of each window (`Batch::names_only`): its
    // windows are parsed apart even on one thread.
    if workers <= 1 && !opts.names_only {
        return in_turn(windows, report, &opts.events, filter);
    }
    let next = Mutex::new(Next {
        windows,
        index: 0,
        failed: None,
    });
    let counted = Counted::default();
    let assembly = Mutex::new(Assembly::new(run));
    let path = report.path.clone();
    let parse_at = |window: &[u8], first_line: u64| {
        let mut batch = Batch::keeping(&opts.events).names_only(opts.names_only);
        let mut part = FileReport::new(path.clone(), String::new(), 0);
        let end = detect::read_json_lines(window, first_line, &mut batch, &mut part, filter);
        (batch, part, end - first_line)
    };
    let work = || {
        loop {
            let (window, index) = {
                let mut next = next.lock().expect("no parser panics holding it");
                if next.failed.is_some() {
                    return;
                }
                match next.windows.next_window() {
                    Ok(Some(w)) => {
                        next.index += 1;
                        (w, next.index - 1)
                    }
                    Ok(None) => return,
                    Err(e) => {
                        next.failed = Some(e);
                        return;
                    }
                }
            };
            // A window's first line is known once the windows before it are counted, which
            // their own parsers do: it is parsed numbered from its own start (the file's first
            // from 1, where a byte order mark may stand; the others from 2, where none is
            // read), and renumbered when the parts are put together. Counting each window's
            // lines before parsing it was 5% of `query`'s time on one big file (issue 26).
            let base = if index == 0 { 1 } else { 2 };
            let (mut batch, mut part, lines) = parse_at(&window, base);
            counted.publish(index, lines);
            // A rejection or a note names its line in words: such a window (rare) waits for
            // the count of those before it and is parsed again, numbered from its first line.
            let mut shift = Some(base);
            if part.records_rejected > 0 || !part.notes.is_empty() {
                let first = 1 + counted.before(index);
                (batch, part, _) = parse_at(&window, first);
                shift = None;
            }
            drop(window);
            let tables = batch.finish();
            let part = Part {
                index,
                tables,
                report: part,
                shift,
            };
            let mut assembly = assembly.lock().expect("no parser panics holding it");
            if let Err(e) = assembly.add(part, &counted) {
                assembly.failed.get_or_insert(e);
            }
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
    let assembly = assembly.into_inner().expect("no parser panicked");
    assembly.finish(report)
}

/// Parts put together in the file's order as they come, a run of [`RUN`] at a time made one
/// chunk. Held until the end and made one chunk then, the parts of one 5 GB file (a caller's
/// 400,000 records in 2,400 windows) had their small buffers scattered between what each
/// window's parse had freed, and the copy came on top: 528 MB at the peak (issue 26).
struct Assembly {
    /// Parts parsed before the ones before them, by index.
    waiting: std::collections::BTreeMap<usize, Part>,
    /// The index of the next part in the file's order.
    next: usize,
    /// The line the next part starts at.
    first_line: u64,
    /// The parts of the current run, stacked.
    run: Tables,
    /// Parts a run makes one chunk of ([`RUN`]).
    run_length: usize,
    done: Tables,
    /// The parts' counts, added up in the file's order.
    report: FileReport,
    failed: Option<anyhow::Error>,
}

/// Parts a run makes one chunk of: 64 windows of 2 MiB, chunks large enough that the load
/// leaves them as they are (see `Tables::compact`).
const RUN: usize = 64;

impl Assembly {
    fn new(run_length: usize) -> Assembly {
        Assembly {
            run_length,
            waiting: Default::default(),
            next: 0,
            first_line: 1,
            run: Tables::default(),
            done: Tables::default(),
            report: FileReport::new(String::new(), String::new(), 0),
            failed: None,
        }
    }

    fn add(&mut self, part: Part, counted: &Counted) -> Result<()> {
        self.waiting.insert(part.index, part);
        while let Some(mut part) = self.waiting.remove(&self.next) {
            if let Some(base) = part.shift {
                renumber(&mut part.tables, self.first_line - base)?;
            }
            self.first_line += counted.of(part.index);
            self.next += 1;
            self.run.append(&part.tables)?;
            self.report.absorb(part.report);
            if self.next.is_multiple_of(self.run_length) {
                self.end_run()?;
            }
        }
        Ok(())
    }

    fn end_run(&mut self) -> Result<()> {
        let mut run = std::mem::take(&mut self.run);
        run.compact(0);
        self.done.append(&run)?;
        Ok(())
    }

    /// The tables of every part, the parts' counts added into `report`.
    fn finish(mut self, report: &mut FileReport) -> Result<Tables> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        assert!(
            self.waiting.is_empty(),
            "every part follows the ones before it"
        );
        self.end_run()?;
        report.absorb(self.report);
        Ok(self.done)
    }
}

/// Adds `by` to the line numbers of a part's events.
fn renumber(tables: &mut Tables, by: u64) -> Result<()> {
    let events = &mut tables.events;
    let line = events.column(schema::SOURCE_LINE)?;
    if by == 0 || line.null_count() == line.len() {
        return Ok(());
    }
    let shifted = (line.as_materialized_series() + by as i64).with_name(line.name().clone());
    events.with_column(shifted.into_column())?;
    Ok(())
}

/// The lines of each window, as its parser counted them.
#[derive(Default)]
struct Counted {
    lines: Mutex<Vec<Option<u64>>>,
    ready: Condvar,
}

impl Counted {
    fn publish(&self, index: usize, lines: u64) {
        let mut all = self.lines.lock().expect("no parser panics holding it");
        if all.len() <= index {
            all.resize(index + 1, None);
        }
        all[index] = Some(lines);
        self.ready.notify_all();
    }

    /// The lines of the windows before `index`, once every one of them is counted (each is
    /// held by a parser that counts it without waiting on a later window).
    fn before(&self, index: usize) -> u64 {
        let mut all = self.lines.lock().expect("no parser panics holding it");
        loop {
            let known = all.get(..index).filter(|w| w.iter().all(Option::is_some));
            if let Some(known) = known {
                return known.iter().flatten().sum();
            }
            all = self.ready.wait(all).expect("no parser panics holding it");
        }
    }

    fn of(&self, index: usize) -> u64 {
        let all = self.lines.lock().expect("no parser panics holding it");
        all.get(index).copied().flatten().unwrap_or(0)
    }
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
    failed: Option<std::io::Error>,
}

struct Part {
    index: usize,
    tables: Tables,
    report: FileReport,
    /// The line its rows were numbered from, when that was not the window's first line.
    shift: Option<u64>,
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
            // Rejected lines of two kinds, and a blank one, here and there in the first windows
            // (parsed again once their first line is known); the last windows have none
            // (renumbered).
            let clean = data.len() > 2 * WINDOW;
            match n % 599 {
                _ if clean => data.push_str(&lines[n % lines.len()]),
                17 => data.push_str("not json"),
                200 => data.push_str(r#"{"time":"yesterday","operationName":"x"}"#),
                300 => {}
                _ => data.push_str(&lines[n % lines.len()]),
            }
            data.push('\n');
            n += 1;
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &data).unwrap();
        let read = |workers: usize, run: usize| {
            let (Opened::Lines(mut windows), _) = reader::open(file.path(), true, workers).unwrap()
            else {
                panic!("read in windows")
            };
            let mut report = FileReport::new("f.json".into(), String::new(), 0);
            let opts = LoadOptions::default();
            let tables =
                parse_in_runs(&mut windows, &mut report, &opts, None, workers, run).unwrap();
            (report.sha256, report.bytes) = windows.finish();
            (tables, report)
        };
        // Each window counts its own hours; the load adds them up (`finish_tables`).
        let hours = |t: &Tables| {
            crate::tables::activity_hours_frame(
                &crate::tables::coverage_of_frame(&t.activity_hours).unwrap(),
            )
        };
        let (one, plain) = read(1, RUN);
        assert!(plain.records_rejected > 6, "{:?}", plain.rejections);
        assert!(one.events.height() > 3_000);
        // Parts made one chunk a run at a time, of one part, of two (the last run short), of
        // all: the same rows in the same order.
        for (workers, run) in [(2, RUN), (3, RUN), (2, 1), (3, 2), (2, 3)] {
            let (several, report) = read(workers, run);
            assert!(
                several.events.equals_missing(&one.events),
                "{workers} threads, runs of {run}"
            );
            assert!(hours(&several).equals_missing(&hours(&one)));
            assert_eq!(
                serde_json::to_value(&report).unwrap(),
                serde_json::to_value(&plain).unwrap()
            );
        }
    }
}
