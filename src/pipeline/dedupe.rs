//! De-duplication of rows that hold the same record twice (one event in two exports, one
//! policy in a snapshot and a list).
//!
//! Each key column is read once, as its physical type, to give every row a 64-bit hash; rows
//! whose hashes meet are then compared on the whole key, so a hash collision can never merge two
//! different records. A frame stacked from a thousand files has a thousand chunks: the keys are
//! hashed where they lie, made one chunk only once two rows are to be compared, and the frame
//! is copied once, into one chunk per column, a column per core at a time; or, for a query
//! engine, which reads chunks as they are, left in its chunks ([`Shape::AsItCame`]).
//!
//! Hashing and grouping use every core: rows are hashed a range at a time, then parted by the
//! top bits of their hashes, so that equal keys fall in one part and each part, small enough to
//! stay in cache, is grouped on its own, its rows in their order, in a table each core reuses.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use anyhow::{Result, bail};

use super::settle::RowValues;
use crate::tables::builder::NOT_KEPT;
use polars::prelude::{
    BooleanChunked, ChunkedArray, Column, DataFrame, DataType, NewChunkedArray, PlSmallStr,
    PolarsDataType, PolarsResult, Series,
};
use rayon::prelude::*;

/// Keeps one row of each group of rows that agree on `key_columns` (nulls compare equal):
/// the one with the most non-null values, so when two sources hold the same record the richer
/// copy survives (a REST event with its properties over a portal CSV row without them); the
/// first of equals. Rows keep their order; the frame comes back as one chunk per column.
/// Returns the frame and how many rows it dropped.
///
/// A frame built with only some columns kept carries, per row, the count of values it did not
/// keep ([`NOT_KEPT`]): they are added to the row's score, so the copy kept is the one a frame
/// of every column would keep, and the count column is dropped.
pub fn dedupe(df: DataFrame, key_columns: &[&str]) -> Result<(DataFrame, usize)> {
    dedupe_with(df, key_columns, Shape::OneChunk)
}

/// What [`dedupe_with`] gives back besides the rows kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One chunk per column, for frames read row by row.
    OneChunk,
    /// [`Shape::OneChunk`], and of equally rich copies the one whose values come first is kept
    /// rather than the first in the frame, so that which spelling of a record survives (an
    /// id's case) does not depend on the order of the inputs. For the inventory and policy
    /// tables; not for `events`, where a load of some columns must keep the copy a load of all
    /// of them keeps, and so cannot look at values.
    Settled,
    /// The chunks the frame came in, without their dropped rows: no copy of a frame without
    /// duplicates (for a frame handed whole to a query engine, which reads chunks as they are).
    AsItCame,
    /// One chunk per column, with the counts of values not kept as the last column, for frames
    /// to be stacked and de-duplicated again.
    KeepingCounts,
}

/// [`dedupe`], giving the frame back in `shape`.
pub fn dedupe_with(
    df: DataFrame,
    key_columns: &[&str],
    shape: Shape,
) -> Result<(DataFrame, usize)> {
    dedupe_ranked(df, key_columns, shape, None)
}

/// [`dedupe_with`], where of equally rich copies the one of the lowest `rank` is kept (rather
/// than the first in the frame): a rank that does not depend on the order of the inputs makes
/// the copy kept not depend on it either, whichever columns the frame holds.
pub fn dedupe_ranked(
    mut df: DataFrame,
    key_columns: &[&str],
    shape: Shape,
    rank: Option<&(dyn Fn(usize) -> u64 + Sync)>,
) -> Result<(DataFrame, usize)> {
    let not_kept = match df.get_column_index(NOT_KEPT) {
        Some(_) => Some(df.drop_in_place(NOT_KEPT)?),
        None => None,
    };
    let keys = key_columns
        .iter()
        .map(|name| Key::of(df.column(name)?))
        .collect::<Result<Vec<_>>>()?;
    let hashes = row_hashes(&keys, df.height());
    // Scores are needed only once a key repeats; then they are counted for every row at once,
    // column by column (reading one row of a many-chunk frame walks its chunks).
    let scores = OnceLock::new();
    // Of equally rich copies the first in the frame is kept, or, settled, the one whose values
    // come first (see `Shape::Settled`).
    let values = OnceLock::new();
    let before = |a: usize, b: usize| match rank {
        Some(rank) => rank(a) < rank(b),
        None => {
            shape == Shape::Settled
                && values
                    .get_or_init(|| RowValues::of(&df))
                    .first_is_less(a, b)
        }
    };
    let score = |row: usize| {
        scores.get_or_init(|| {
            let mut scores = non_nulls(&df);
            if let Some(extra) = &not_kept {
                let extra = extra.as_materialized_series().rechunk();
                for (score, n) in scores.iter_mut().zip(extra.u32().expect("counts").iter()) {
                    *score += n.unwrap_or(0);
                }
            }
            scores
        })[row] as usize
    };
    let dropped_rows = dropped_rows(&keys, &hashes, score, before);
    drop(keys);
    let dropped = dropped_rows.len();
    let kept = df.height() - dropped;
    let mask = (dropped > 0).then(|| {
        let mut keep = vec![true; df.height()];
        for row in dropped_rows {
            keep[row] = false;
        }
        BooleanChunked::from_slice(PlSmallStr::from_static("keep"), &keep)
    });
    // Column by column, each old column freed as its new one is made, on every core: memory
    // peaks at the frame and a column per core, not two frames (a full `query` holds
    // gigabytes of events).
    let mut columns = df.into_columns();
    if shape == Shape::KeepingCounts
        && let Some(not_kept) = not_kept
    {
        columns.push(not_kept);
    }
    columns.par_iter_mut().try_for_each(|column| {
        *column = match (&mask, shape) {
            // A column without values stays one null repeated (see `stack`).
            _ if crate::tables::is_all_null(column) => {
                Column::full_null(column.name().clone(), kept, column.dtype())
            }
            (Some(mask), Shape::AsItCame) => column.filter(mask)?,
            (None, Shape::AsItCame) => return Ok(()),
            (Some(mask), _) => column.filter(mask)?.rechunk(),
            (None, _) => column.rechunk(),
        };
        PolarsResult::Ok(())
    })?;
    Ok((DataFrame::new(kept, columns)?, dropped))
}

/// One key column in its physical type: as the chunks it came in, for hashing, and as one
/// chunk, made on the first comparison of two of its rows (reading a row of a thousand chunks
/// walks them; a frame without duplicates is never compared, nor copied).
struct Key {
    chunks: KeyValues,
    whole: OnceLock<KeyValues>,
}

enum KeyValues {
    Str(ChunkedArray<polars::prelude::StringType>),
    Int(ChunkedArray<polars::prelude::Int64Type>),
    Int32(ChunkedArray<polars::prelude::Int32Type>),
    Bool(BooleanChunked),
}

impl KeyValues {
    fn of(series: &Series, name: &str) -> Result<KeyValues> {
        Ok(match series.dtype() {
            DataType::String => KeyValues::Str(series.str()?.clone()),
            DataType::Int64 => KeyValues::Int(series.i64()?.clone()),
            DataType::Int32 => KeyValues::Int32(series.i32()?.clone()),
            DataType::Boolean => KeyValues::Bool(series.bool()?.clone()),
            other => bail!("cannot de-duplicate on a {other} column ({name})"),
        })
    }

    fn rechunk(&self) -> KeyValues {
        match self {
            KeyValues::Str(ca) => KeyValues::Str(ca.rechunk().into_owned()),
            KeyValues::Int(ca) => KeyValues::Int(ca.rechunk().into_owned()),
            KeyValues::Int32(ca) => KeyValues::Int32(ca.rechunk().into_owned()),
            KeyValues::Bool(ca) => KeyValues::Bool(ca.rechunk().into_owned()),
        }
    }
}

impl Key {
    fn of(column: &Column) -> Result<Key> {
        let series = column.as_materialized_series().to_physical_repr();
        Ok(Key {
            chunks: KeyValues::of(&series, column.name())?,
            whole: OnceLock::new(),
        })
    }

    fn same(&self, a: usize, b: usize) -> bool {
        fn same<T: PolarsDataType>(ca: &ChunkedArray<T>, a: usize, b: usize) -> bool
        where
            for<'x> T::Physical<'x>: PartialEq,
        {
            ca.get(a) == ca.get(b)
        }
        match self.whole.get_or_init(|| self.chunks.rechunk()) {
            KeyValues::Str(ca) => same(ca, a, b),
            KeyValues::Int(ca) => same(ca, a, b),
            KeyValues::Int32(ca) => same(ca, a, b),
            KeyValues::Bool(ca) => same(ca, a, b),
        }
    }
}

/// A hash of each row's key, column by column, a range of rows per task. Null hashes apart
/// from every value.
fn row_hashes(keys: &[Key], height: usize) -> Vec<u64> {
    const ROWS_PER_TASK: usize = 1 << 16;
    let mut hashes = vec![0u64; height];
    hashes
        .par_chunks_mut(ROWS_PER_TASK)
        .enumerate()
        .for_each(|(task, hashes)| {
            let offset = (task * ROWS_PER_TASK) as i64;
            for key in keys {
                match &key.chunks {
                    // A long string (a resource key) by its sampled bytes: a hash two keys
                    // share is told apart by comparing them whole.
                    KeyValues::Str(ca) => mix(hashes, ca, offset, |s| {
                        crate::bytes::sampled_hash(s.as_bytes())
                    }),
                    KeyValues::Int(ca) => mix(hashes, ca, offset, |v| STATE.hash_one(v)),
                    KeyValues::Int32(ca) => mix(hashes, ca, offset, |v| STATE.hash_one(v)),
                    KeyValues::Bool(ca) => mix(hashes, ca, offset, |v| STATE.hash_one(v)),
                }
            }
        });
    hashes
}

/// The hasher of de-duplication's row hashes.
const STATE: foldhash::fast::FixedState =
    foldhash::fast::FixedState::with_seed(0x6a69_7461_7564_6974);

/// Mixes into `hashes` the values of `column` from row `offset` on, one per hash, each hashed
/// by `value`.
fn mix<T: PolarsDataType>(
    hashes: &mut [u64],
    column: &ChunkedArray<T>,
    offset: i64,
    value: impl Fn(T::Physical<'_>) -> u64,
) {
    const NULL: u64 = 0x9e37_79b9_7f4a_7c15;
    let part = column.slice(offset, hashes.len());
    for (h, v) in hashes.iter_mut().zip(part.iter()) {
        *h = STATE.hash_one((*h, v.map_or(NULL, &value)));
    }
}

/// Which rows to drop: all but one per distinct key, the one kept being the row with the
/// highest `score` (the first of equals). `score` is asked only of rows whose key was seen
/// before. The rows dropped, not those kept, are listed: most frames have few duplicates or
/// none, and a list of every row kept was 8 bytes a row of fresh memory to fill and read.
///
/// Rows are parted by the top bits of their hashes (equal keys have equal hashes, so a key's
/// rows are all in one part), in row order within each part; the parts are grouped in
/// parallel, each with a table small enough to stay in cache.
fn dropped_rows(
    keys: &[Key],
    hashes: &[u64],
    score: impl Fn(usize) -> usize + Sync,
    before: impl Fn(usize, usize) -> bool + Sync,
) -> Vec<usize> {
    // A part per 16k rows or so, up to 1024; one part for a small table.
    let bits = (hashes.len() >> 14).max(1).ilog2().min(10);
    let part_of = |hash: u64| {
        if bits == 0 {
            0
        } else {
            (hash >> (64 - bits)) as usize
        }
    };
    let mut starts = vec![0usize; (1 << bits) + 1];
    for &hash in hashes {
        starts[part_of(hash) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    // Each part's rows with their hashes side by side, so that a part reads only its own.
    let mut rows = vec![(0u64, 0usize); hashes.len()];
    let mut next = starts.clone();
    for (row, &hash) in hashes.iter().enumerate() {
        let part = part_of(hash);
        rows[next[part]] = (hash, row);
        next[part] += 1;
    }
    let dropped: Vec<Vec<usize>> = starts
        .par_windows(2)
        .map_init(Scratch::default, |scratch, w| {
            drop_in_part(keys, &rows[w[0]..w[1]], &score, &before, scratch)
        })
        .collect();
    let mut dropped: Vec<usize> = dropped.into_iter().flatten().collect();
    dropped.sort_unstable();
    dropped
}

/// The room [`drop_in_part`] groups a part in, used again for the next part: a table made
/// for each part was fresh memory each time, and the kernel's zeroing of it cost more than
/// the grouping.
#[derive(Default)]
struct Scratch {
    /// Open addressing by the hash's low bits (its top bits chose the part): the index in
    /// `groups` of the distinct key there, `EMPTY` for none.
    slots: Vec<u32>,
    groups: Vec<Group>,
}

/// A distinct key: its hash, the row kept so far and its score once asked.
struct Group {
    hash: u64,
    row: usize,
    score: Option<usize>,
}

const EMPTY: u32 = u32::MAX;

/// [`dropped_rows`] of one part: its rows, in increasing order, with their hashes; the rows
/// dropped.
fn drop_in_part(
    keys: &[Key],
    rows: &[(u64, usize)],
    score: &impl Fn(usize) -> usize,
    before: &impl Fn(usize, usize) -> bool,
    scratch: &mut Scratch,
) -> Vec<usize> {
    let same_key = |a: usize, b: usize| keys.iter().all(|k| k.same(a, b));
    let Scratch { slots, groups } = scratch;
    let mask = (2 * rows.len()).next_power_of_two().max(16) - 1;
    slots.clear();
    slots.resize(mask + 1, EMPTY);
    groups.clear();
    let mut dropped = Vec::new();
    for &(hash, row) in rows {
        let mut at = hash as usize & mask;
        loop {
            let g = slots[at];
            if g == EMPTY {
                slots[at] = u32::try_from(groups.len()).expect("a part of fewer than 2^32 rows");
                groups.push(Group {
                    hash,
                    row,
                    score: None,
                });
                break;
            }
            let group = &mut groups[g as usize];
            if group.hash == hash && same_key(group.row, row) {
                let held = *group.score.get_or_insert_with(|| score(group.row));
                let challenger = score(row);
                if challenger > held || (challenger == held && before(row, group.row)) {
                    dropped.push(group.row);
                    group.row = row;
                    group.score = Some(challenger);
                } else {
                    dropped.push(row);
                }
                break;
            }
            // Another key here (another hash, or the same hash told apart by the key).
            at = (at + 1) & mask;
        }
    }
    dropped
}

/// How many of each row's values are not null.
fn non_nulls(df: &DataFrame) -> Vec<u32> {
    let mut counts = vec![0u32; df.height()];
    for column in df.columns() {
        let present = column.is_not_null();
        for (count, p) in counts.iter_mut().zip(present.iter()) {
            *count += u32::from(p == Some(true));
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{IntoColumn, NamedFrom};
    use std::collections::HashMap;

    fn frame() -> DataFrame {
        let id = Series::new(
            "id".into(),
            &[Some("a"), Some("b"), Some("a"), None, None, Some("b")],
        );
        let n = Series::new(
            "n".into(),
            &[Some(1i64), Some(2), Some(1), None, None, Some(3)],
        );
        let extra = Series::new(
            "extra".into(),
            &[None, Some("x"), Some("rich"), None, Some("y"), None],
        );
        DataFrame::new(
            6,
            vec![id.into_column(), n.into_column(), extra.into_column()],
        )
        .unwrap()
    }

    #[test]
    fn the_richest_copy_of_each_key_is_kept_in_order() {
        let (out, dropped) = dedupe(frame(), &["id", "n"]).unwrap();
        assert_eq!(dropped, 2);
        let extra: Vec<_> = out.column("extra").unwrap().str().unwrap().iter().collect();
        // ("a",1) keeps its richer second copy; (null,null) twice keeps the second, richer;
        // ("b",2) and ("b",3) differ.
        assert_eq!(extra, vec![Some("x"), Some("rich"), Some("y"), None]);
    }

    #[test]
    fn duplicates_across_the_chunks_of_a_stacked_frame_are_found() {
        // Three chunks, as from three files; the copies of ("a",1) lie in different chunks.
        let mut df = frame().slice(0, 2);
        df.vstack_mut(&frame().slice(2, 2)).unwrap();
        df.vstack_mut(&frame().slice(4, 2)).unwrap();
        assert_eq!(df.column("id").unwrap().n_chunks(), 3);
        let (out, dropped) = dedupe(df, &["id", "n"]).unwrap();
        assert_eq!(dropped, 2);
        let extra: Vec<_> = out.column("extra").unwrap().str().unwrap().iter().collect();
        assert_eq!(extra, vec![Some("x"), Some("rich"), Some("y"), None]);
        assert!(out.columns().iter().all(|c| c.n_chunks() == 1));
        // Without duplicates, nothing is compared and the frame still comes back whole.
        let mut df = frame().slice(0, 2);
        df.vstack_mut(&frame().slice(4, 2)).unwrap();
        let (out, dropped) = dedupe(df, &["id", "n"]).unwrap();
        assert_eq!((dropped, out.height()), (0, 4));
        assert!(out.columns().iter().all(|c| c.n_chunks() == 1));
    }

    #[test]
    fn a_frame_for_the_query_engine_keeps_its_chunks() {
        let stacked = |parts: &[(i64, usize)]| {
            let mut df = frame().slice(parts[0].0, parts[0].1);
            for &(at, len) in &parts[1..] {
                df.vstack_mut(&frame().slice(at, len)).unwrap();
            }
            df
        };
        // The same rows as one chunk would hold, in the chunks they came in.
        let three = [(0, 2), (2, 2), (4, 2)];
        let (out, dropped) = dedupe_with(stacked(&three), &["id", "n"], Shape::AsItCame).unwrap();
        let (whole, _) = dedupe(stacked(&three), &["id", "n"]).unwrap();
        assert_eq!(dropped, 2);
        assert!(out.equals_missing(&whole));
        assert!(out.columns().iter().all(|c| c.n_chunks() == 3));
        // Without duplicates, the frame comes back as it was: its chunks, not copied.
        let two = [(0, 2), (4, 2)];
        let df = stacked(&two);
        let before = df.column("extra").unwrap().str().unwrap().clone();
        let (out, dropped) = dedupe_with(df, &["id", "n"], Shape::AsItCame).unwrap();
        assert_eq!((dropped, out.height()), (0, 4));
        let after = out.column("extra").unwrap().str().unwrap();
        assert_eq!(after.chunks().len(), 2);
        for (a, b) in before.downcast_iter().zip(after.downcast_iter()) {
            assert!(std::ptr::eq(a.views().as_ptr(), b.views().as_ptr()));
        }
    }

    #[test]
    fn a_table_parted_for_many_cores_keeps_what_one_pass_would() {
        // 70k rows (four parts), keys repeating across the whole frame in three chunks, and a
        // score that varies, so that which copy wins is tested, not only which keys survive.
        let n = 70_000usize;
        let id: Vec<Option<String>> = (0..n)
            .map(|i| (i % 97 != 0).then(|| format!("key-{}", (i * 7919) % 40_000)))
            .collect();
        let extra: Vec<Option<&str>> = (0..n).map(|i| (i % 3 == 1).then_some("x")).collect();
        let frame = |lo: usize, hi: usize| {
            DataFrame::new(
                hi - lo,
                vec![
                    Series::new("id".into(), &id[lo..hi]).into_column(),
                    Series::new("extra".into(), &extra[lo..hi]).into_column(),
                ],
            )
            .unwrap()
        };
        let mut df = frame(0, 20_000);
        df.vstack_mut(&frame(20_000, 50_000)).unwrap();
        df.vstack_mut(&frame(50_000, n)).unwrap();
        // One pass, by hand: per key the first row of the highest score.
        let mut best: HashMap<&Option<String>, usize> = HashMap::new();
        for row in 0..n {
            let score = |r: usize| usize::from(id[r].is_some()) + usize::from(extra[r].is_some());
            best.entry(&id[row])
                .and_modify(|held| {
                    if score(row) > score(*held) {
                        *held = row;
                    }
                })
                .or_insert(row);
        }
        let mut expected: Vec<usize> = best.into_values().collect();
        expected.sort_unstable();
        let (out, dropped) = dedupe(df, &["id"]).unwrap();
        assert_eq!(dropped, n - expected.len());
        let ids: Vec<_> = out.column("id").unwrap().str().unwrap().iter().collect();
        let extras: Vec<_> = out.column("extra").unwrap().str().unwrap().iter().collect();
        let want_ids: Vec<_> = expected.iter().map(|&r| id[r].as_deref()).collect();
        let want_extras: Vec<_> = expected.iter().map(|&r| extra[r]).collect();
        assert_eq!(ids, want_ids);
        assert_eq!(extras, want_extras);
    }

    #[test]
    fn rows_whose_hashes_meet_are_told_apart_by_their_keys() {
        let df = frame();
        let keys = vec![Key::of(df.column("id").unwrap()).unwrap()];
        // Every row given the same hash: only the key comparison separates them.
        let scores = non_nulls(&df);
        let dropped = dropped_rows(&keys, &[7; 6], |row| scores[row] as usize, |_, _| false);
        assert_eq!(dropped, vec![0, 3, 5]);
    }
}

#[cfg(test)]
mod stacking_tests {
    use polars::prelude::*;

    use super::dedupe;
    use crate::tables::stack;

    fn frame(ids: &[&str]) -> DataFrame {
        let n = ids.len();
        DataFrame::new(
            n,
            vec![
                Column::new(PlSmallStr::from_static("id"), ids),
                Column::full_null(PlSmallStr::from_static("unread"), n, &DataType::String),
            ],
        )
        .unwrap()
    }

    /// A column nobody read stays one null repeated through stacking and de-duplication, which
    /// would otherwise write out a null per row (a query over gigabytes reads few columns).
    #[test]
    fn columns_without_values_stay_one_null_repeated() {
        let mut ours = frame(&["a", "b"]);
        stack(&mut ours, &frame(&["b", "c"])).unwrap();
        let unread = ours.column("unread").unwrap();
        assert!(matches!(unread, Column::Scalar(_)), "{unread:?}");
        assert_eq!((unread.len(), unread.null_count()), (4, 4));
        let (deduped, dropped) = dedupe(ours, &["id"]).unwrap();
        assert_eq!(dropped, 1);
        let unread = deduped.column("unread").unwrap();
        assert!(matches!(unread, Column::Scalar(_)), "{unread:?}");
        assert_eq!((unread.len(), unread.null_count()), (3, 3));
        let ids: Vec<_> = deduped
            .column("id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ids, [Some("a"), Some("b"), Some("c")]);
        // Stacked with values, the column has them.
        let mut with_values = frame(&["d"]);
        let filled = Column::new(PlSmallStr::from_static("unread"), ["v"]);
        with_values.replace("unread", filled).unwrap();
        stack(&mut with_values, &frame(&["e"])).unwrap();
        let unread: Vec<_> = with_values
            .column("unread")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(unread, [Some("v"), None]);
    }

    #[test]
    fn frames_of_other_columns_do_not_stack() {
        let mut ours = frame(&["a"]);
        let other = frame(&["b"]).select(["unread", "id"]).unwrap();
        let err = stack(&mut ours, &other).unwrap_err();
        assert!(err.to_string().contains("does not stack"), "{err}");
    }
}
