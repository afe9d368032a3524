//! The normalized tables as Polars frames: how they are stacked from several inputs,
//! de-duplicated, written to and read back from Parquet, and read column by column by the
//! Rust stages (ledger, enrichment) that need row access.

pub mod builder;
mod columns;
mod coverage;
mod digest;
mod strings;

use std::collections::BTreeSet;
use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result, bail};
use polars::prelude::{
    BooleanChunked, Column, DataFrame, Expr, Int64Chunked, LazyFrame, NewChunkedArray,
    ParquetReader, ParquetWriter, PlRefPath, PlSmallStr, ScanArgsParquet, SerReader,
    StatisticsOptions, StringChunked, col,
};

use crate::schema::{self, TableSpec};
pub use builder::TableBuilder;
pub use columns::EventColumns;
pub use coverage::{
    Cell, Coverage, activity_hours_frame, coverage_of_events, coverage_of_frame, hour_of,
};
pub use digest::{KEY_DIGEST, Key, digest_key, drop_digest, has_digest};

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
    pub public_ips: DataFrame,
    pub firewalls: DataFrame,
    pub role_assignments: DataFrame,
    pub role_definitions: DataFrame,
    pub group_members: DataFrame,
    pub management_groups: DataFrame,
    pub access: DataFrame,
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
            public_ips: empty(&schema::PUBLIC_IPS),
            firewalls: empty(&schema::FIREWALLS),
            role_assignments: empty(&schema::ROLE_ASSIGNMENTS),
            role_definitions: empty(&schema::ROLE_DEFINITIONS),
            group_members: empty(&schema::GROUP_MEMBERS),
            management_groups: empty(&schema::MANAGEMENT_GROUPS),
            access: empty(&schema::ACCESS_TABLE),
        }
    }
}

/// Rows below which a chunk is small (see [`Tables::compact`]).
pub const SMALL_CHUNK: usize = 8192;

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
            "public_ips" => &self.public_ips,
            "firewalls" => &self.firewalls,
            "role_assignments" => &self.role_assignments,
            "role_definitions" => &self.role_definitions,
            "group_members" => &self.group_members,
            "management_groups" => &self.management_groups,
            "access" => &self.access,
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
            "public_ips" => &mut self.public_ips,
            "firewalls" => &mut self.firewalls,
            "role_assignments" => &mut self.role_assignments,
            "role_definitions" => &mut self.role_definitions,
            "group_members" => &mut self.group_members,
            "management_groups" => &mut self.management_groups,
            "access" => &mut self.access,
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

    /// Makes each table of more than `max_chunks` small chunks (fewer than [`SMALL_CHUNK`]
    /// rows on average) one chunk again. Stacking a frame a file leaves a chunk a file;
    /// 40,000 hourly blobs left 40,000 small chunks a column, each with its own buffers, and a
    /// report over them peaked at 1.4 GB. Large chunks (a big file's windows) stay as they
    /// are: copying them would double the memory, and a query runs on them in parallel.
    pub fn compact(&mut self, max_chunks: usize) {
        for spec in schema::ALL_TABLES {
            let df = self.get_mut(spec.name).expect("every spec has a frame");
            let chunks = df.columns().first().map_or(0, |c| c.n_chunks());
            if chunks > max_chunks && df.height() / chunks < SMALL_CHUNK {
                df.rechunk_mut();
            }
        }
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
                EventColumns::Only(keep, _) | EventColumns::Key(keep, _)
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

/// Keeps of `events` the first row of each caller, object id and app id (nulls alike): what a
/// load asked only which names the inputs know needs of a part it read.
pub fn first_of_each_name(events: &mut DataFrame) -> Result<()> {
    let [caller, object, app] = [schema::CALLER, schema::OBJECT_ID, schema::APP_ID];
    let (caller, object, app) = (
        strs(events, caller)?,
        strs(events, object)?,
        strs(events, app)?,
    );
    let mut seen = std::collections::HashSet::new();
    let first: Vec<bool> = (caller.iter().zip(object.iter()).zip(app.iter()))
        .map(|((c, o), a)| seen.insert((c, o, a)))
        .collect();
    let first = BooleanChunked::from_slice(PlSmallStr::EMPTY, &first);
    *events = events.filter(&first)?;
    Ok(())
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
