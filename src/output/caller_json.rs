//! The caller investigation as JSON, laid out exactly as `serde_json::to_writer_pretty` lays
//! it out, with the timeline's entries written on every core: a busy identity's timeline runs
//! to hundreds of megabytes, and writing it on one core was a tenth of `caller`'s time.

use std::io::Write;

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

use crate::summary::caller::{Entry, Investigation};

/// Entries written together by one task.
const ENTRIES_PER_TASK: usize = 2048;

/// Tasks written before their output goes out: memory holds this many tasks' output at most.
const TASKS_PER_WAVE: usize = 8;

pub fn write(w: &mut impl Write, inv: &Investigation) -> Result<()> {
    let mut summary = Vec::new();
    pretty_at(&mut summary, &inv.summary, 1)?;
    w.write_all(b"{\n  \"summary\": ")?;
    w.write_all(&summary)?;
    w.write_all(b",\n  \"timeline\": [")?;
    if inv.timeline.is_empty() {
        w.write_all(b"]")?;
    }
    let mut first = true;
    for wave in inv.timeline.chunks(ENTRIES_PER_TASK * TASKS_PER_WAVE) {
        let parts: Vec<Vec<u8>> = wave
            .par_chunks(ENTRIES_PER_TASK)
            .map(|entries| {
                let mut out = Vec::new();
                for entry in entries {
                    out.extend_from_slice(b",\n    ");
                    entry_at(&mut out, entry)?;
                }
                Ok(out)
            })
            .collect::<Result<_>>()?;
        for part in &parts {
            // The first entry follows the bracket without a comma.
            w.write_all(if first { &part[1..] } else { part })?;
            first = false;
        }
    }
    if !inv.timeline.is_empty() {
        w.write_all(b"\n  ]")?;
    }
    w.write_all(b"\n}\n")?;
    Ok(())
}

/// An entry as [`pretty_at`] writes it two levels in, field by field: serialized whole and
/// indented again, the entries were most of what `caller` spends after reading (issue 26).
fn entry_at(out: &mut Vec<u8>, entry: &Entry) -> Result<()> {
    for (i, (name, value)) in entry.fields().iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"{\n      " } else { b",\n      " });
        serde_json::to_writer(&mut *out, name)?;
        out.extend_from_slice(b": ");
        serde_json::to_writer(&mut *out, value)?;
    }
    out.extend_from_slice(b"\n    }");
    Ok(())
}

/// `value` pretty-printed as if `depth` levels into a document: a JSON string holds no raw
/// line break, so every line break is the layout's, and each is followed by the indentation
/// of the depth.
fn pretty_at(out: &mut Vec<u8>, value: &impl Serialize, depth: usize) -> Result<()> {
    let alone = serde_json::to_vec_pretty(value)?;
    let indent = "  ".repeat(depth);
    // The line breaks found a vector at a time (a closure per byte was a fifth of the time
    // `caller` spends after reading, issue 26).
    let mut from = 0;
    for at in memchr::memchr_iter(b'\n', &alone) {
        out.extend_from_slice(&alone[from..=at]);
        out.extend_from_slice(indent.as_bytes());
        from = at + 1;
    }
    out.extend_from_slice(&alone[from..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::summary::caller::{Entry, Kind, SourceSeen, Summary};

    fn investigation(entries: usize) -> Investigation<'static> {
        let entry = |i: usize| Entry {
            time: Some(i as i64 % 60 * 1_000_000_000),
            end: None,
            kind: if i.is_multiple_of(2) {
                Kind::Activity
            } else {
                Kind::JitRequest
            },
            what: format!("op {i} \"quoted\"\nwith a line break\tand a tab, é, \u{1f600}").into(),
            resource: "/subscriptions/s/resourceGroups/rg".into(),
            status: "".into(),
            address: "203.0.113.11".into(),
            detail: "back\\slash".into(),
            reference: format!("c-{i}").into(),
            line: String::new(),
        };
        Investigation {
            summary: Summary {
                caller: "bob@contoso.com".to_string(),
                identities: vec!["bob@contoso.com".to_string(), "b2b2".to_string()],
                first_activity: "2026-11-05T02:00:00Z".to_string(),
                last_activity: String::new(),
                requests: 3,
                activity_records: entries,
                sources: vec![SourceSeen {
                    address: "203.0.113.11".to_string(),
                    first_seen: "a".to_string(),
                    last_seen: "b".to_string(),
                    count: 2,
                }],
                vms: Vec::new(),
                odd_hour_share: 0.25,
                findings_by_severity: BTreeMap::from([("high".to_string(), 1)]),
                rights: Vec::new(),
            },
            timeline: (0..entries).map(entry).collect(),
        }
    }

    #[test]
    fn the_layout_is_serde_jsons_pretty_one() {
        // None, one, enough entries for several tasks (the last one short), and for two waves.
        for entries in [
            0,
            1,
            2 * ENTRIES_PER_TASK + 3,
            ENTRIES_PER_TASK * TASKS_PER_WAVE + 1,
        ] {
            let inv = investigation(entries);
            let mut ours = Vec::new();
            write(&mut ours, &inv).unwrap();
            let mut theirs = serde_json::to_vec_pretty(&inv).unwrap();
            theirs.push(b'\n');
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap(),
                "{entries} entries"
            );
        }
    }
}
