//! Loading for one caller ([`Need::Caller`]): the JIT records and every record that names the
//! caller. A record can name the identity by another of its names (a user's object id where
//! the UPN was given). The names its first records show are looked up before the full read,
//! which keeps the records of all of them; when the records read pair the caller with still
//! other names, the inputs are read again for those. A pipe can be read only once: then every
//! record is read, in one pass.

use std::path::PathBuf;

use anyhow::Result;

use super::{LoadOptions, Loaded, dedupe, inputs, load_once, reader, windows};
use crate::derive::identities::{aliases, aliases_seen};
use crate::schema::{self, EVENT_KEY};
use crate::sources::FileReport;
use crate::sources::fast::prefilter::Need;
use crate::sources::fast::prefilter::Prefilter;
use crate::tables::{self, EventColumns};

/// Loads what `caller` shows of `id`. The view cites no file hashes (reports do), so no read
/// takes them; and of the records other than JIT policy and NSG ones it shows a few columns,
/// so only those are filled.
pub(super) fn load(paths: &[PathBuf], opts: LoadOptions, id: &str) -> Result<Loaded> {
    let opts = LoadOptions {
        hash: false,
        ..opts
    };
    if !inputs::rereadable(paths) {
        return load_once(
            paths,
            LoadOptions {
                need: Need::All,
                ..opts
            },
        );
    }
    let names = early_names(paths, id)?;
    let lean = EventColumns::lean(schema::ACTIVITY_COLUMNS);
    let mut first = load_once(
        paths,
        LoadOptions {
            need: Need::JitAnd(names.clone()),
            events: lean.clone(),
            ..opts.clone()
        },
    )?;
    let others: Vec<String> = aliases(&first.tables, id)?
        .into_iter()
        .filter(|n| !names.iter().any(|m| m.eq_ignore_ascii_case(n)))
        .collect();
    if others.is_empty() {
        tables::drop_not_kept(&mut first.tables.events)?;
        return Ok(first);
    }
    // The second read parses only the records that name another of the names and that the
    // first read passed over; it adds events (none of them JIT records) and nothing else.
    let second = load_once(
        paths,
        LoadOptions {
            need: Need::NewFor {
                names: others,
                already: names,
            },
            events: lean,
            ..opts
        },
    )?;
    let t = &mut first.tables;
    tables::stack(&mut t.events, &second.tables.events)?;
    t.events = dedupe(std::mem::take(&mut t.events), EVENT_KEY)?.0;
    Ok(first)
}

/// `id` and the other names the caller goes by in the first records that name it: input files
/// are read whole (with the prefilter, and of the records other than JIT ones only the columns
/// the full read fills: with every column, the first of 24 files of a 5 GB log held 120 MB)
/// until one has such a record, within a sixteenth of the input's bytes. Found here, those names spare a second read of the whole input; a name this
/// misses, the second read finds.
fn early_names(paths: &[PathBuf], id: &str) -> Result<Vec<String>> {
    let files = inputs::input_files(paths)?;
    let mut budget = files.iter().map(|(_, size)| size).sum::<u64>() / 16;
    let lower = id.to_ascii_lowercase();
    for (path, size) in files {
        if size > budget {
            // A file larger than what is left (one big export) is looked at as far as the
            // budget goes, when it is read in windows: a second read of the whole was half the
            // time of `caller` on one big file (issue 26).
            if let Some(head) = head_of(&path, budget, id)
                && let (aliases, true) = aliases_seen(&head, id)?
            {
                let mut names = vec![id.to_string()];
                names.extend(aliases.into_iter().filter(|n| *n != lower));
                return Ok(names);
            }
            break;
        }
        budget -= size;
        // Errors are the full read's to report.
        let Ok(some) = load_once(
            &[path],
            LoadOptions {
                need: Need::JitAnd(vec![id.to_string()]),
                hash: false,
                events: EventColumns::lean(schema::ACTIVITY_COLUMNS),
                ..LoadOptions::default()
            },
        ) else {
            continue;
        };
        let (aliases, seen) = aliases_seen(&some.tables, id)?;
        if seen {
            let mut names = vec![id.to_string()];
            names.extend(aliases.into_iter().filter(|n| *n != lower));
            return Ok(names);
        }
    }
    Ok(vec![id.to_string()])
}

/// The tables of the first windows of a JSON Lines file read in windows, up to about `budget`
/// bytes, filtered for `id` and the JIT records; none for a file read whole or unreadable.
fn head_of(path: &std::path::Path, budget: u64, id: &str) -> Option<tables::Tables> {
    let (reader::Opened::Lines(mut windows), _) = reader::open(path, false, 1).ok()? else {
        return None;
    };
    let filter = Prefilter::for_need(&Need::JitAnd(vec![id.to_string()]));
    let mut report = FileReport::new(path.display().to_string(), String::new(), 0);
    windows::in_turn(
        &mut windows,
        &mut report,
        &EventColumns::lean(schema::ACTIVITY_COLUMNS),
        filter.as_ref(),
        budget,
    )
    .ok()
}
