//! Loading for one caller ([`Need::Caller`]): the JIT records and every record that names the
//! caller. A record can name the identity by another of its names (a user's object id where
//! the UPN was given). The names its first records show are looked up before the full read,
//! which keeps the records of all of them; when the records read pair the caller with still
//! other names, the inputs are read again for those. A pipe can be read only once: then every
//! record is read, in one pass.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::inputs::{self, Input, Listed};
use super::{LoadOptions, Loaded, dedupe, load_listed, load_once, reader};
use crate::derive::identities::{aliases, aliases_seen};
use crate::schema::{self, EVENT_KEY};
use crate::sources::fast::prefilter::Need;
use crate::sources::fast::prefilter::Prefilter;
use crate::sources::{Batch, FileReport, detect};
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
    // Listed once for all the reads.
    let listed = inputs::list(paths);
    let names = early_names(&listed, id)?;
    let lean = EventColumns::lean(schema::ACTIVITY_COLUMNS);
    let mut first = load_listed(
        listed.clone(),
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
    let second = load_listed(
        listed,
        LoadOptions {
            need: Need::NewFor {
                names: others,
                already: names,
            },
            events: lean,
            // The same inputs: their warnings are the first read's.
            quiet: true,
            ..opts
        },
    )?;
    let t = &mut first.tables;
    tables::stack(&mut t.events, &second.tables.events)?;
    t.events = dedupe(std::mem::take(&mut t.events), EVENT_KEY)?.0;
    Ok(first)
}

/// `id` and the other names the caller goes by in the first records that name it, read (with
/// the prefilter, and of the records other than JIT ones only the columns the full read fills)
/// until a record names it, within a sixteenth of the input's bytes: files read whole a few at
/// a time (as many as there are threads), and a file read in windows a window at a time. Found
/// here, those names spare a second read of the whole input; a name this misses, the second
/// read finds.
fn early_names(listed: &Listed, id: &str) -> Result<Vec<String>> {
    let mut budget = listed.files().map(|(_, size)| size).sum::<u64>() / 16;
    let lower = id.to_ascii_lowercase();
    let named = |aliases: BTreeSet<String>| {
        let mut names = vec![id.to_string()];
        names.extend(aliases.into_iter().filter(|n| *n != lower));
        names
    };
    let at_once = rayon::current_num_threads();
    let mut whole: Vec<(&Path, u64)> = Vec::new();
    for (path, size) in listed.files() {
        if budget == 0 {
            break;
        }
        // A large file stops being read at the first window that names the caller: read whole
        // (the first of 24 files of a 5 GB log, 218 MB) or to the end of the budget (a fifth
        // of a second over one 5 GB file), the look cost more than the window it needed.
        if size > reader::WINDOW as u64 {
            if let Some(aliases) = look_in_files(&std::mem::take(&mut whole), id)? {
                return Ok(named(aliases));
            }
            match look_in_windows(path, budget, id)? {
                Look::Named(aliases) => return Ok(named(aliases)),
                Look::Unnamed(read) => {
                    budget = budget.saturating_sub(read);
                    continue;
                }
                Look::NotInWindows => {}
            }
        }
        if size > budget {
            break;
        }
        budget -= size;
        whole.push((path, size));
        if whole.len() == at_once
            && let Some(aliases) = look_in_files(&std::mem::take(&mut whole), id)?
        {
            return Ok(named(aliases));
        }
    }
    match look_in_files(&whole, id)? {
        Some(aliases) => Ok(named(aliases)),
        None => Ok(vec![id.to_string()]),
    }
}

/// Reads `files` whole, side by side, filtered for `id` and the JIT records: the other names
/// of `id` when one of their records names it.
fn look_in_files(files: &[(&Path, u64)], id: &str) -> Result<Option<BTreeSet<String>>> {
    if files.is_empty() {
        return Ok(None);
    }
    let listed = Listed {
        inputs: (files.iter())
            .map(|(p, _)| Input::File(p.to_path_buf()))
            .collect(),
        sizes: files.iter().map(|(_, s)| *s).collect(),
        summary: Default::default(),
    };
    // Errors are the full read's to report.
    let Ok(some) = load_listed(
        listed,
        LoadOptions {
            need: Need::JitAnd(vec![id.to_string()]),
            hash: false,
            events: EventColumns::lean(schema::ACTIVITY_COLUMNS),
            // A file of role assignments read alone names roles another file defines.
            quiet: true,
            ..LoadOptions::default()
        },
    ) else {
        return Ok(None);
    };
    let (aliases, seen) = aliases_seen(&some.tables, id)?;
    Ok(seen.then_some(aliases))
}

/// What the early look found in a file.
enum Look {
    /// A record names the caller: its other names.
    Named(BTreeSet<String>),
    /// Read this many bytes (to the budget or the end) without a record that names it.
    Unnamed(u64),
    /// The file is not read in windows (or cannot be opened): it is read whole, if at all.
    NotInWindows,
}

/// Reads a JSON Lines file read in windows a window at a time, filtered for `id` and the JIT
/// records, until a window names `id` or about `budget` bytes are read.
fn look_in_windows(path: &std::path::Path, budget: u64, id: &str) -> Result<Look> {
    let Ok((reader::Opened::Lines(mut windows), _)) = reader::open(path, false, 1) else {
        return Ok(Look::NotInWindows);
    };
    let filter = Prefilter::for_need(&Need::JitAnd(vec![id.to_string()]));
    let events = EventColumns::lean(schema::ACTIVITY_COLUMNS);
    let mut report = FileReport::new(path.display().to_string(), String::new(), 0);
    let mut read = 0;
    while read < budget {
        // Errors are the full read's to report.
        let Ok(Some(window)) = windows.next_window() else {
            break;
        };
        read += window.len() as u64;
        // A slice of whole lines at a time: the caller's records are usually in the first
        // few (a window whole was 25 ms on one thread before the full read).
        let mut rest: &[u8] = &window;
        while !rest.is_empty() {
            let cut = match rest.get(LOOK_SLICE..) {
                Some(after) => {
                    memchr::memchr(b'\n', after).map_or(rest.len(), |i| LOOK_SLICE + i + 1)
                }
                None => rest.len(),
            };
            let (slice, after) = rest.split_at(cut);
            rest = after;
            let mut batch = Batch::keeping(&events);
            detect::read_json_lines(slice, 1, &mut batch, &mut report, filter.as_ref());
            if let (aliases, true) = aliases_seen(&batch.finish(), id)? {
                return Ok(Look::Named(aliases));
            }
        }
    }
    Ok(Look::Unnamed(read))
}

/// The bytes of whole lines the early look parses before it asks whether they name the caller.
const LOOK_SLICE: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    /// The early look in a file read in windows stops at the first window that names the
    /// caller, and reads no further than its budget when none does.
    #[test]
    fn the_early_look_stops_at_the_first_window_naming_the_caller() {
        let line = |upn: &str| {
            format!(
                r#"{{"time":"2026-11-05T16:18:09Z","resourceId":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a","operationName":"Microsoft.Storage/storageAccounts/listKeys/action","resultType":"Success","correlationId":"c","identity":{{"claims":{{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"{upn}","http://schemas.microsoft.com/identity/claims/objectidentifier":"0b0b0b0b-0000-4000-8000-000000000001"}}}}}}"#
            )
        };
        let mut data = line("ann@contoso.com");
        data.push('\n');
        let filler = line("zoe@contoso.com");
        while data.len() < 3 * reader::WINDOW {
            data.push_str(&filler);
            data.push('\n');
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &data).unwrap();
        match look_in_windows(file.path(), u64::MAX, "ANN@contoso.com").unwrap() {
            Look::Named(names) => assert!(
                names.contains("0b0b0b0b-0000-4000-8000-000000000001"),
                "{names:?}"
            ),
            _ => panic!("named in the first window"),
        }
        let window = reader::WINDOW as u64;
        match look_in_windows(file.path(), window + 1, "bob@contoso.com").unwrap() {
            // Two windows: the budget is past the first.
            Look::Unnamed(read) => assert!(read > window && read <= 2 * window + 4096, "{read}"),
            _ => panic!("bob is nowhere"),
        }
        match look_in_windows(file.path(), u64::MAX, "bob@contoso.com").unwrap() {
            Look::Unnamed(read) => assert_eq!(read, data.len() as u64),
            _ => panic!("bob is nowhere"),
        }
        let small = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(small.path(), line("ann@contoso.com")).unwrap();
        assert!(matches!(
            look_in_windows(small.path(), u64::MAX, "ann@contoso.com").unwrap(),
            Look::NotInWindows
        ));
    }
}
