//! A digest of the de-duplication key, for a load that reads few columns (`query`): the key's
//! columns that no statement reads are then held as 16 bytes a row instead of their values
//! (a resource key and a correlation id are about a hundred bytes a record, which made
//! `query` over 5 GB of JSON hold 550 MB; issue 26).
//!
//! The digest is two 64-bit hashes of the whole key (time, resource key, operation, status,
//! correlation id, a null told from every value), each seeded at random once per process:
//! two different keys meet in both only by chance (about one in 2^128 for a pair), and nobody
//! can make records that collide on purpose without the seeds. Records with the same key have
//! the same digest, so de-duplication by the digest keeps exactly the rows it keeps by the key.

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use anyhow::Result;
use polars::prelude::{Column, DataFrame, DataType, NamedFrom, PlSmallStr, Series};

use super::builder::NOT_KEPT;
use super::{strs, times};
use crate::schema;

/// The two columns the digest is held in, beside the table's own.
pub const KEY_DIGEST: [&str; 2] = ["__key_digest_1", "__key_digest_2"];

fn states() -> &'static [foldhash::quality::FixedState; 2] {
    static STATES: OnceLock<[foldhash::quality::FixedState; 2]> = OnceLock::new();
    STATES.get_or_init(|| {
        let random = foldhash::quality::RandomState::default();
        [1u64, 2].map(|n| foldhash::quality::FixedState::with_seed(random.hash_one(n)))
    })
}

thread_local! {
    /// A key written out to be hashed (see [`Key::digest`]), kept for the next.
    static KEY_BYTES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One row's de-duplication key, as its columns hold it (an empty string is null).
pub struct Key<'a> {
    pub time: Option<i64>,
    pub resource: Option<&'a str>,
    pub operation: Option<&'a str>,
    pub status: Option<&'a str>,
    pub correlation: Option<&'a str>,
}

impl Key<'_> {
    /// The key's digest: what [`digest_key`] adds for a row holding it, and what a builder
    /// that digests as it goes ([`crate::tables::TableBuilder::digesting`]) holds for it.
    pub fn digest(&self) -> [i64; 2] {
        // The key written out once, so that each state hashes it in one pass: hashed part by
        // part, the two hashes were 5% of the instructions of `query` over one column (issue
        // 26). Each part is told from the next: a tag or a length before it, and a null's
        // length is one no string has.
        KEY_BYTES.with_borrow_mut(|buf| {
            buf.clear();
            buf.push(u8::from(self.time.is_some()));
            buf.extend_from_slice(&self.time.unwrap_or(0).to_le_bytes());
            for part in [self.resource, self.operation, self.status, self.correlation] {
                let (tag, bytes) = match part {
                    Some(s) => (
                        u32::try_from(s.len()).expect("a string under 4 GiB"),
                        s.as_bytes(),
                    ),
                    None => (u32::MAX, &[][..]),
                };
                buf.extend_from_slice(&tag.to_le_bytes());
                buf.extend_from_slice(bytes);
            }
            // As an i64, the type de-duplication compares: the bits are what matter.
            states()
                .each_ref()
                .map(|state| state.hash_one(&buf[..]) as i64)
        })
    }
}

/// Adds the digest of each row's key to `events` and empties the key columns in `drop` (they
/// become all null, which Polars holds without a value per row).
pub fn digest_key(events: &mut DataFrame, drop: &BTreeSet<&'static str>) -> Result<()> {
    let time = times(events, schema::TIME)?;
    let [resource, operation, status, correlation] = [
        schema::RESOURCE_KEY,
        schema::OPERATION_ID,
        schema::STATUS,
        schema::CORRELATION_ID,
    ]
    .map(|c| strs(events, c));
    let (resource, operation, status, correlation) = (resource?, operation?, status?, correlation?);
    let mut digests = [
        Vec::with_capacity(events.height()),
        Vec::with_capacity(events.height()),
    ];
    for i in 0..events.height() {
        let key = Key {
            time: time.get(i),
            resource: resource.get(i),
            operation: operation.get(i),
            status: status.get(i),
            correlation: correlation.get(i),
        };
        for (out, value) in digests.iter_mut().zip(key.digest()) {
            out.push(value);
        }
    }
    let height = events.height();
    for (name, values) in KEY_DIGEST.iter().zip(digests) {
        events.with_column(Column::from(Series::new(
            PlSmallStr::from_static(name),
            values,
        )))?;
    }
    // The count of values not kept stays the last column, where a frame stacked with this
    // one gets its own (`stack`).
    if events.get_column_index(NOT_KEPT).is_some() {
        let counts = events.drop_in_place(NOT_KEPT)?;
        events.with_column(counts)?;
    }
    for name in drop {
        events.with_column(Column::full_null(
            PlSmallStr::from_static(name),
            height,
            &DataType::String,
        ))?;
    }
    Ok(())
}

/// Whether `events` holds the digest of its key (see [`digest_key`]).
pub fn has_digest(events: &DataFrame) -> bool {
    events.get_column_index(KEY_DIGEST[0]).is_some()
}

/// Takes the digest's columns out of `events`, once duplicates are gone.
pub fn drop_digest(events: &mut DataFrame) -> Result<()> {
    for name in KEY_DIGEST {
        if events.get_column_index(name).is_some() {
            events.drop_in_place(name)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::TableBuilder;

    /// Rows with the same key have the same digest; a row that differs in any column of the
    /// key, or has a null where another has a value, has another.
    #[test]
    fn the_digest_tells_keys_apart_as_the_key_does() {
        let mut b = TableBuilder::new(&schema::EVENTS);
        let rows: [(i64, Option<&str>, &str); 5] = [
            (1, Some("/r/a"), "c1"),
            (1, Some("/r/a"), "c1"),
            (2, Some("/r/a"), "c1"),
            (1, Some("/r/a"), "c2"),
            (1, None, "c1"),
        ];
        for (time, resource, correlation) in rows {
            b.row()
                .time(schema::TIME, Some(time))
                .str(schema::RESOURCE_KEY, resource)
                .str(schema::OPERATION_ID, Some("op"))
                .str(schema::STATUS, Some("Succeeded"))
                .str(schema::CORRELATION_ID, Some(correlation));
        }
        let mut df = b.finish();
        let drop = BTreeSet::from([schema::RESOURCE_KEY, schema::CORRELATION_ID]);
        digest_key(&mut df, &drop).unwrap();
        let digest =
            |i: usize| KEY_DIGEST.map(|c| df.column(c).unwrap().i64().unwrap().get(i).unwrap());
        assert_eq!(digest(0), digest(1));
        for other in 2..5 {
            assert_ne!(digest(0), digest(other), "row {other}");
        }
        assert_eq!(df.column(schema::CORRELATION_ID).unwrap().null_count(), 5);
        assert!(has_digest(&df));
        drop_digest(&mut df).unwrap();
        assert!(!has_digest(&df));
    }

    /// The key is written out whole before it is hashed: parts that share their bytes
    /// differently, a null beside an empty string, and keys of 600 bytes that differ only at
    /// their end are all told apart, and the same key hashed again is the same.
    #[test]
    fn the_parts_of_a_key_are_told_apart() {
        let key = |resource, operation, correlation| Key {
            time: Some(1),
            resource,
            operation,
            status: Some("Succeeded"),
            correlation,
        };
        let long = "x".repeat(600);
        let keys = [
            key(Some("ab"), Some("c"), Some("d")),
            key(Some("a"), Some("bc"), Some("d")),
            key(Some(""), Some("abc"), Some("d")),
            key(None, Some("abc"), Some("d")),
            key(Some("abc"), None, Some("d")),
            key(Some(&long), Some("c"), Some("d")),
            key(Some(&long), Some("c"), Some("e")),
            Key {
                time: None,
                ..key(Some("ab"), Some("c"), Some("d"))
            },
            Key {
                time: Some(0),
                ..key(Some("ab"), Some("c"), Some("d"))
            },
        ];
        let digests: BTreeSet<[i64; 2]> = keys.iter().map(Key::digest).collect();
        assert_eq!(digests.len(), keys.len());
        assert_eq!(
            keys[5].digest(),
            key(Some(&long), Some("c"), Some("d")).digest()
        );
    }

    /// A builder that digests as rows are written makes the frame that `digest_key` makes of
    /// the whole columns afterwards (empty strings are null in both).
    #[test]
    fn digesting_as_rows_are_written_is_digesting_afterwards() {
        let drop = BTreeSet::from([schema::RESOURCE_KEY, schema::CORRELATION_ID]);
        let keep = |c: &str| schema::EVENT_KEY.contains(&c) || c == schema::SUBSCRIPTION_ID;
        let mut after = TableBuilder::keeping(&schema::EVENTS, keep).without_counts();
        let mut going = TableBuilder::keeping(&schema::EVENTS, keep)
            .without_counts()
            .digesting(&drop);
        let rows = [
            (
                Some(1),
                Some("/r/a"),
                Some("op"),
                Some("Succeeded"),
                Some("c1"),
            ),
            (Some(1), Some(""), Some("op"), None, Some("c1")),
            (None, None, Some("op"), Some(""), None),
            (Some(2), Some("/r/b"), None, Some("Failed"), Some("")),
        ];
        for (time, resource, operation, status, correlation) in rows {
            let text = |s: Option<&'static str>| s.filter(|s| !s.is_empty());
            going.push_digest(
                Key {
                    time,
                    resource: text(resource),
                    operation: text(operation),
                    status: text(status),
                    correlation: text(correlation),
                }
                .digest(),
            );
            for b in [&mut after, &mut going] {
                b.row()
                    .time(schema::TIME, time)
                    .str(schema::SUBSCRIPTION_ID, Some("s"))
                    .str(schema::RESOURCE_KEY, resource)
                    .str(schema::OPERATION_ID, operation)
                    .str(schema::STATUS, status)
                    .str(schema::CORRELATION_ID, correlation);
            }
        }
        let mut after = after.finish();
        digest_key(&mut after, &drop).unwrap();
        let going = going.finish();
        assert!(has_digest(&going));
        assert_eq!(after.get_column_names(), going.get_column_names());
        assert!(after.equals_missing(&going), "{after}\n{going}");
    }
}
