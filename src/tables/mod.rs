//! The normalized tables as Polars frames: how they are stacked from several inputs,
//! de-duplicated, written to and read back from Parquet, and read column by column by the
//! Rust stages (ledger, enrichment) that need row access.

pub mod builder;
mod dedupe;
mod strings;

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result, bail};
use polars::prelude::{
    BooleanChunked, Column, DataFrame, Expr, Int64Chunked, LazyFrame, ParquetReader, ParquetWriter,
    PlRefPath, PlSmallStr, ScanArgsParquet, SerReader, StatisticsOptions, StringChunked, col,
};

use polars_arrow::array::Array;

use crate::schema::{self, TableSpec};
use crate::sources::EventColumns;
use crate::sources::prefilter::{self, Cell, Coverage};
pub use builder::TableBuilder;
pub use dedupe::{Shape, dedupe, dedupe_with};

/// One frame per canonical table. Every frame always has exactly its spec's columns, in
/// order, with its spec's types, even when it has no rows.
#[derive(Clone)]
pub struct Tables {
    pub events: DataFrame,
    pub activity_hours: DataFrame,
    pub requests: DataFrame,
    pub policy_requests: DataFrame,
    pub policies: DataFrame,
    pub subscriptions: DataFrame,
    pub vms: DataFrame,
    pub nics: DataFrame,
    pub nsg_rules: DataFrame,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            events: empty(&schema::EVENTS),
            activity_hours: empty(&schema::ACTIVITY_HOURS),
            requests: empty(&schema::REQUESTS),
            policy_requests: empty(&schema::POLICY_REQUESTS),
            policies: empty(&schema::POLICIES),
            subscriptions: empty(&schema::SUBSCRIPTIONS),
            vms: empty(&schema::VMS),
            nics: empty(&schema::NICS),
            nsg_rules: empty(&schema::NSG_RULES),
        }
    }
}

impl Tables {
    pub fn get(&self, name: &str) -> Option<&DataFrame> {
        Some(match name {
            "events" => &self.events,
            "activity_hours" => &self.activity_hours,
            "requests" => &self.requests,
            "policy_requests" => &self.policy_requests,
            "policies" => &self.policies,
            "subscriptions" => &self.subscriptions,
            "vms" => &self.vms,
            "nics" => &self.nics,
            "nsg_rules" => &self.nsg_rules,
            _ => return None,
        })
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut DataFrame> {
        Some(match name {
            "events" => &mut self.events,
            "activity_hours" => &mut self.activity_hours,
            "requests" => &mut self.requests,
            "policy_requests" => &mut self.policy_requests,
            "policies" => &mut self.policies,
            "subscriptions" => &mut self.subscriptions,
            "vms" => &mut self.vms,
            "nics" => &mut self.nics,
            "nsg_rules" => &mut self.nsg_rules,
            _ => return None,
        })
    }

    /// Appends another set of tables to this one (no de-duplication yet).
    pub fn append(&mut self, other: &Tables) -> Result<()> {
        for spec in schema::ALL_TABLES {
            let ours = self.get_mut(spec.name).expect("every spec has a frame");
            let theirs = other.get(spec.name).expect("every spec has a frame");
            stack(ours, theirs).with_context(|| format!("stacking table {}", spec.name))?;
        }
        Ok(())
    }

    /// Writes every table as `<table>.parquet` into `dir`.
    pub fn write_parquet(&mut self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for spec in schema::ALL_TABLES {
            let path = dir.join(spec.parquet_file());
            let df = self.get_mut(spec.name).expect("every spec has a frame");
            df.rechunk_mut();
            let file =
                File::create(&path).with_context(|| format!("creating {}", path.display()))?;
            ParquetWriter::new(file)
                .with_statistics(StatisticsOptions::full())
                .finish(df)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }

    /// Reads the tables of a directory written by [`Tables::write_parquet`]. A table file that
    /// is missing is an error: a partial directory would silently lose data.
    pub fn read_parquet(dir: &Path) -> Result<Tables> {
        Tables::read_parquet_keeping(dir, &EventColumns::All)
    }

    /// [`Tables::read_parquet`], reading only `events` columns of `events` (the others are
    /// null). Only for a directory read on its own: stacked with other inputs, its rows would
    /// need the values of the other columns counted for de-duplication.
    pub fn read_parquet_keeping(dir: &Path, events: &EventColumns) -> Result<Tables> {
        let mut tables = Tables::default();
        for spec in schema::ALL_TABLES {
            let path = table_file(dir, spec)?;
            let df = match events {
                EventColumns::Only(keep) | EventColumns::Key(keep)
                    if spec.name == schema::EVENTS.name =>
                {
                    read_table_columns(&path, spec, keep)?
                }
                _ => read_table_file(&path, spec)?,
            };
            *tables.get_mut(spec.name).expect("every spec has a frame") = df;
        }
        Ok(tables)
    }
}

/// The file of `spec`'s table in a directory `ingest` wrote. A table file that is missing is
/// an error: a partial directory would silently lose data.
fn table_file(dir: &Path, spec: &TableSpec) -> Result<std::path::PathBuf> {
    let path = dir.join(spec.parquet_file());
    if !path.is_file() {
        bail!(
            "{}: the ingested directory has no {} table; it is incomplete or was written by an older jitaudit: run `jitaudit ingest` on the original files again",
            dir.display(),
            spec.name
        );
    }
    Ok(path)
}

/// The tables of a directory written by [`Tables::write_parquet`], each as a scan of its file:
/// what is collected from them reads only the columns and row groups it needs, so a question
/// over an ingested directory costs what it asks, not the whole of the directory. Each file's
/// columns are checked against its spec here, from the file's metadata.
pub fn scan_parquet(dir: &Path) -> Result<Vec<(&'static str, LazyFrame)>> {
    schema::ALL_TABLES
        .iter()
        .map(|spec| {
            let path = table_file(dir, spec)?;
            let scanned = || -> Result<LazyFrame> {
                let args = ScanArgsParquet {
                    // A directory's name is a path, never a pattern.
                    glob: false,
                    ..ScanArgsParquet::default()
                };
                let mut lf = LazyFrame::scan_parquet(PlRefPath::try_from_path(&path)?, args)?;
                let have = lf.collect_schema()?;
                let missing: Vec<&str> = spec
                    .column_names()
                    .filter(|c| have.get(c).is_none())
                    .collect();
                if !missing.is_empty() {
                    bail!("missing columns: {}", missing.join(", "));
                }
                // Exactly the spec's columns, in its order and of its types (as `conform`).
                let columns: Vec<Expr> = spec
                    .columns
                    .iter()
                    .map(|c| match have.get(c.name) {
                        Some(t) if *t == c.kind.dtype() => col(c.name),
                        _ => col(c.name).strict_cast(c.kind.dtype()),
                    })
                    .collect();
                Ok(lf.select(columns))
            };
            let lf = scanned().with_context(|| {
                format!("{} is not a jitaudit {} table", path.display(), spec.name)
            })?;
            Ok((spec.name, lf))
        })
        .collect()
}

/// Stacks `theirs` under `ours`, two frames of one table.
pub fn stack(ours: &mut DataFrame, theirs: &DataFrame) -> Result<()> {
    if theirs.height() == 0 {
        // Nothing to add (most files fill few tables), and nothing to check: every frame is
        // built from the same schema.
        return Ok(());
    }
    // A frame built with some columns not kept carries a count of them (see `builder`); a
    // frame of every column, stacked with one, counts none.
    let theirs = match (has_not_kept(ours), has_not_kept(theirs)) {
        _ if ours.height() == 0 => {
            *ours = theirs.clone();
            return Ok(());
        }
        (true, false) => &with_not_kept(theirs)?,
        (false, true) => {
            *ours = with_not_kept(ours)?;
            theirs
        }
        _ => theirs,
    };
    let height = ours.height() + theirs.height();
    let mut columns = std::mem::take(ours).into_columns();
    for (left, right) in columns.iter_mut().zip(theirs.columns()) {
        if left.name() != right.name() || left.dtype() != right.dtype() {
            bail!(
                "column {} ({}) does not stack with column {} ({})",
                left.name(),
                left.dtype(),
                right.name(),
                right.dtype()
            );
        }
        if is_all_null(left) && is_all_null(right) {
            // A column no row has a value in (one a query does not read) stays one null
            // repeated, not a null per row: Polars' stacking would write out each of them.
            *left = Column::full_null(left.name().clone(), height, left.dtype());
        } else {
            left.append(right)?;
        }
    }
    *ours = DataFrame::new(height, columns)?;
    Ok(())
}

/// Whether no row of the column has a value.
pub fn is_all_null(column: &Column) -> bool {
    column.null_count() == column.len()
}

/// Drops the counts of values not kept (see `builder`), if `df` has them.
pub fn drop_not_kept(df: &mut DataFrame) -> Result<()> {
    if has_not_kept(df) {
        df.drop_in_place(builder::NOT_KEPT)?;
    }
    Ok(())
}

fn has_not_kept(df: &DataFrame) -> bool {
    df.get_column_index(builder::NOT_KEPT).is_some()
}

/// `df` with a count of values not kept, of nought, per row.
fn with_not_kept(df: &DataFrame) -> Result<DataFrame> {
    let mut out = df.clone();
    out.with_column(Column::new(
        PlSmallStr::from_static(builder::NOT_KEPT),
        vec![0u32; df.height()],
    ))?;
    Ok(out)
}

/// Reads one `<table>.parquet` file and checks it against the table's spec.
pub fn read_table_file(path: &Path, spec: &TableSpec) -> Result<DataFrame> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let df = ParquetReader::new(file)
        .finish()
        .with_context(|| format!("reading Parquet table {}", path.display()))?;
    conform(df, spec)
        .with_context(|| format!("{} is not a jitaudit {} table", path.display(), spec.name))
}

/// [`read_table_file`], reading only the columns in `keep`; the others are null. The file must
/// still have every column.
fn read_table_columns(path: &Path, spec: &TableSpec, keep: &BTreeSet<&str>) -> Result<DataFrame> {
    let not_a_table = || format!("{} is not a jitaudit {} table", path.display(), spec.name);
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = ParquetReader::new(file);
    let schema = reader
        .schema()
        .with_context(|| format!("reading Parquet table {}", path.display()))?;
    let missing: Vec<&str> = (spec.column_names())
        .filter(|c| !schema.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(anyhow::anyhow!("missing columns: {}", missing.join(", ")))
            .with_context(not_a_table);
    }
    let kept: Vec<String> = (spec.column_names())
        .filter(|c| keep.contains(c))
        .map(str::to_string)
        .collect();
    let mut df = reader
        .with_columns(Some(kept))
        .finish()
        .with_context(|| format!("reading Parquet table {}", path.display()))?;
    let height = df.height();
    for c in spec.columns.iter().filter(|c| !keep.contains(c.name)) {
        df.with_column(Column::full_null(
            PlSmallStr::from_static(c.name),
            height,
            &c.kind.dtype(),
        ))?;
    }
    conform(df, spec).with_context(not_a_table)
}

/// Checks that `df` has every column of `spec` with the right type and returns it with exactly
/// those columns in spec order.
pub fn conform(df: DataFrame, spec: &TableSpec) -> Result<DataFrame> {
    let mut missing = Vec::new();
    let mut columns = Vec::with_capacity(spec.columns.len());
    for c in spec.columns {
        match df.column(c.name) {
            Ok(column) => {
                let want = c.kind.dtype();
                if column.dtype() != &want {
                    let cast = column.cast(&want).with_context(|| {
                        format!("column {} is {}, expected {want}", c.name, column.dtype())
                    })?;
                    columns.push(cast);
                } else {
                    columns.push(column.clone());
                }
            }
            Err(_) => missing.push(c.name),
        }
    }
    if !missing.is_empty() {
        bail!("missing columns: {}", missing.join(", "));
    }
    Ok(DataFrame::new(df.height(), columns)?)
}

/// An empty frame with the spec's columns and types.
pub fn empty(spec: &'static TableSpec) -> DataFrame {
    TableBuilder::new(spec).finish()
}

/// Row access to a string column.
pub fn strs<'a>(df: &'a DataFrame, name: &str) -> Result<&'a StringChunked> {
    Ok(df.column(name)?.str()?)
}

/// Row access to an integer column.
pub fn ints<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Int64Chunked> {
    Ok(df.column(name)?.i64()?)
}

/// Row access to a boolean column.
pub fn bools<'a>(df: &'a DataFrame, name: &str) -> Result<&'a BooleanChunked> {
    Ok(df.column(name)?.bool()?)
}

/// Row access to a time column, as nanoseconds since the epoch.
pub fn times<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Int64Chunked> {
    Ok(df.column(name)?.datetime()?.physical())
}

/// The events of a frame counted per UTC hour and subscription.
pub fn coverage_of_events(events: &DataFrame) -> Coverage {
    let mut c = Coverage::default();
    let (Ok(time), Ok(sub)) = (
        times(events, schema::TIME),
        strs(events, schema::SUBSCRIPTION_ID),
    ) else {
        return c;
    };
    // Rows grouped by their subscription's view, without hashing its bytes: equal short
    // values have equal views, and a long value stored once in its column (see `strings`) has
    // one view, so a cell's rows share one. A value stored twice makes two cells, added
    // together by their strings below. A batch's frame is one chunk.
    let (time, sub) = (time.rechunk(), sub.rechunk());
    let (Some(times), Some(subs)) = (time.downcast_iter().next(), sub.downcast_iter().next())
    else {
        return c;
    };
    let mut cells: HashMap<(i64, Option<u128>), (usize, Cell), foldhash::fast::RandomState> =
        HashMap::default();
    for (row, t) in times.iter().enumerate() {
        if let Some(&t) = t {
            let view = subs.is_valid(row).then(|| subs.views()[row].as_u128());
            cells
                .entry((prefilter::hour_of(t), view))
                .and_modify(|(_, c)| c.merge(Cell::at(t)))
                .or_insert((row, Cell::at(t)));
        }
    }
    for ((hour, view), (row, cell)) in cells {
        let sub = view.map(|_| subs.value(row).to_string());
        c.add_cell(hour, sub, cell);
    }
    c
}

/// An `activity_hours` frame read back as counts (to add several together).
pub fn coverage_of_frame(df: &DataFrame) -> Result<Coverage> {
    let hour = times(df, schema::HOUR)?;
    let sub = strs(df, schema::SUBSCRIPTION_ID)?;
    let records = ints(df, schema::RECORDS)?;
    let first = times(df, schema::FIRST_TIME)?;
    let last = times(df, schema::LAST_TIME)?;
    let mut c = Coverage::default();
    for i in 0..df.height() {
        if let (Some(h), Some(n), Some(f), Some(l)) =
            (hour.get(i), records.get(i), first.get(i), last.get(i))
        {
            let cell = Cell {
                records: n as u64,
                first: f,
                last: l,
            };
            c.add_cell(h, sub.get(i).map(str::to_string), cell);
        }
    }
    Ok(c)
}

/// Counts as an `activity_hours` frame, in hour then subscription order.
pub fn activity_hours_frame(c: &Coverage) -> DataFrame {
    let mut b = TableBuilder::new(&schema::ACTIVITY_HOURS);
    for ((hour, sub), cell) in &c.cells {
        b.row()
            .time(schema::HOUR, Some(*hour))
            .str(schema::SUBSCRIPTION_ID, sub.as_deref())
            .int(schema::RECORDS, Some(cell.records as i64))
            .time(schema::FIRST_TIME, Some(cell.first))
            .time(schema::LAST_TIME, Some(cell.last));
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::{dedupe, stack};
    use crate::schema;
    use crate::sources::prefilter::Coverage;

    /// Events counted per hour and subscription give what adding them one by one gives: rows
    /// of hours and subscriptions interleaved, short and long subscriptions, a null one, a row
    /// without a time; in a frame a builder made (a long value stored once) and in one each of
    /// whose long values is stored apart.
    #[test]
    fn events_are_counted_per_hour_and_subscription() {
        const NS: i64 = 1_000_000_000;
        let long = "11111111-aaaa-4bbb-8ccc-000000000001";
        let rows: Vec<(Option<i64>, Option<&str>)> = (0..500i64)
            .map(|i| {
                let time = (i % 97 != 0).then_some(1_800_000_000 * NS + i * 97 * NS);
                let sub = ["a", long, "b", ""][(i % 4) as usize];
                (time, (!sub.is_empty()).then_some(sub))
            })
            .collect();
        let mut one_by_one = Coverage::default();
        let mut b = super::TableBuilder::new(&schema::EVENTS);
        for (time, sub) in &rows {
            b.row()
                .time(schema::TIME, *time)
                .str(schema::SUBSCRIPTION_ID, *sub);
            if let Some(t) = time {
                one_by_one.add(*t, sub.map(str::to_string), 1);
            }
        }
        let built = b.finish();
        let times: Vec<Option<i64>> = rows.iter().map(|r| r.0).collect();
        let subs: Vec<Option<&str>> = rows.iter().map(|r| r.1).collect();
        let apart = df!(
            schema::TIME => Int64Chunked::new(PlSmallStr::from_static(schema::TIME), &times)
                .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
                .into_series(),
            schema::SUBSCRIPTION_ID => subs,
        )
        .unwrap();
        let cells = |c: &Coverage| {
            (c.cells.iter())
                .map(|(k, v)| (k.clone(), v.records, v.first, v.last))
                .collect::<Vec<_>>()
        };
        assert!(one_by_one.cells.len() > 12, "{:?}", cells(&one_by_one));
        for frame in [built, apart] {
            let counted = super::coverage_of_events(&frame);
            assert_eq!(cells(&counted), cells(&one_by_one));
        }
    }

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
