//! Builds a canonical table row by row. Sources address columns by their names from
//! [`crate::schema`], so a source can never write a column the contract does not have, and
//! every column the source leaves unset is null rather than missing.
//!
//! A builder may keep only some columns (a query that reads few of them): the others come out
//! all null, and the values offered for them are counted per row instead, in a column named
//! [`NOT_KEPT`], so that de-duplication can still tell the richest copy of a record as if every
//! column had been kept. De-duplication removes that column. A lean builder keeps every
//! column, but only some of them for the rows written as lean, counting the rest alike. A
//! builder for a table read only for columns on which every copy of a record agrees (the key
//! it is de-duplicated by) need not count: whichever copy is kept, what is read is the same.
//! Such a builder may also hold, instead of the key's long columns nothing reads, each row's
//! digest of the key, given by the row's writer ([`TableBuilder::digesting`]).

use polars::prelude::*;

use super::strings::StrColumn;
use crate::schema::{ColumnKind, TableSpec};

// Most columns are strings, and a table has a few dozen columns: the size of the others
// does not matter, and a box would be one more pointer to follow per value.
#[allow(clippy::large_enum_variant)]
enum Data {
    /// Straight into Polars' string buffers, repeats sharing their bytes.
    Str(StrColumn),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Time(Vec<Option<i64>>),
}

impl Data {
    fn new(kind: ColumnKind) -> Self {
        match kind {
            ColumnKind::Str => Data::Str(StrColumn::default()),
            ColumnKind::Int => Data::Int(Vec::new()),
            ColumnKind::Bool => Data::Bool(Vec::new()),
            ColumnKind::Time => Data::Time(Vec::new()),
        }
    }

    fn push_null(&mut self) {
        match self {
            Data::Str(v) => v.push_null(),
            Data::Int(v) | Data::Time(v) => v.push(None),
            Data::Bool(v) => v.push(None),
        }
    }
}

/// The column of a projected table that counts, per row, the values given for the columns
/// it did not keep.
pub const NOT_KEPT: &str = "__values_not_kept";

/// Accumulates rows for one table.
pub struct TableBuilder {
    spec: &'static TableSpec,
    data: Vec<Data>,
    /// Values in each column kept so far: the row being written pads the columns it left
    /// unset.
    lens: Vec<usize>,
    /// The columns kept, whose values are held, in order.
    with_values: Vec<usize>,
    rows: usize,
    /// Which of the spec's columns are kept; `None`: all of them.
    kept: Option<Vec<bool>>,
    /// Which columns a lean row keeps; `None`: rows are never lean.
    lean: Option<Vec<bool>>,
    /// Per row, the values given for columns not kept (only when some are not, and `counts`).
    not_kept: Vec<u32>,
    counts: bool,
    /// Per row, the digest of its de-duplication key, given by the row's writer (see
    /// [`TableBuilder::digesting`]).
    digests: Option<[Vec<i64>; 2]>,
}

impl TableBuilder {
    /// A builder for `spec`; its columns are allocated by the first row (most files fill
    /// few of the tables: `report` makes one batch of every table per file it reads).
    pub fn new(spec: &'static TableSpec) -> Self {
        TableBuilder {
            spec,
            data: Vec::new(),
            lens: Vec::new(),
            with_values: Vec::new(),
            rows: 0,
            kept: None,
            lean: None,
            not_kept: Vec::new(),
            counts: true,
            digests: None,
        }
    }

    /// A builder that keeps only the columns `keep` says yes to; see the module's notes.
    pub fn keeping(spec: &'static TableSpec, keep: impl Fn(&str) -> bool) -> Self {
        let kept: Vec<bool> = spec.columns.iter().map(|c| keep(c.name)).collect();
        TableBuilder {
            kept: kept.contains(&false).then_some(kept),
            ..TableBuilder::new(spec)
        }
    }

    /// A builder whose lean rows keep only the columns `keep` says yes to; other rows keep all.
    pub fn lean(spec: &'static TableSpec, keep: impl Fn(&str) -> bool) -> Self {
        TableBuilder {
            lean: Some(spec.columns.iter().map(|c| keep(c.name)).collect()),
            ..TableBuilder::new(spec)
        }
    }

    /// This builder, not counting the values of the columns it does not keep: for a table read
    /// only for columns on which every copy of a record agrees (see the module's notes).
    pub fn without_counts(self) -> Self {
        TableBuilder {
            counts: false,
            ..self
        }
    }

    /// This builder, not keeping the columns `drop` but holding each row's digest of the
    /// de-duplication key instead, which the row's writer gives ([`TableBuilder::push_digest`]):
    /// what [`crate::tables::digest_key`] makes of the whole columns afterwards, without
    /// holding their values first (issue 26). For a builder without counts only: the values
    /// of the columns dropped are not counted.
    pub fn digesting(self, drop: &std::collections::BTreeSet<&'static str>) -> Self {
        assert!(!self.counts, "a digesting builder counts no values");
        let kept: Vec<bool> = (self.spec.columns.iter().enumerate())
            .map(|(i, c)| self.kept.as_ref().is_none_or(|k| k[i]) && !drop.contains(c.name))
            .collect();
        TableBuilder {
            kept: Some(kept),
            digests: Some([Vec::new(), Vec::new()]),
            ..self
        }
    }

    /// Whether rows are given the digest of their key (see [`TableBuilder::digesting`]).
    pub fn is_digesting(&self) -> bool {
        self.digests.is_some()
    }

    /// The digest of the row about to be written (see [`TableBuilder::digesting`]).
    pub fn push_digest(&mut self, digest: [i64; 2]) {
        if let Some(digests) = &mut self.digests {
            for (column, value) in digests.iter_mut().zip(digest) {
                column.push(value);
            }
        }
    }

    /// Whether the values of columns not kept are counted (and must then all be worked out).
    pub fn counts_not_kept(&self) -> bool {
        self.counts && (self.kept.is_some() || self.lean.is_some())
    }

    /// Whether some columns are not kept by any row (see [`TableBuilder::keeping`]).
    pub fn is_projected(&self) -> bool {
        self.kept.is_some()
    }

    /// Whether some rows may keep only some columns (see [`TableBuilder::lean`]).
    pub fn is_lean(&self) -> bool {
        self.lean.is_some()
    }

    /// Whether the column named `name` is kept (by every row).
    pub fn keeps(&self, name: &str) -> bool {
        self.kept.as_ref().is_none_or(|k| k[self.index(name)])
    }

    /// Starts a row; the row is complete when the returned writer is dropped.
    pub fn row(&mut self) -> RowWriter<'_> {
        self.row_lean(false)
    }

    /// Starts a row that keeps only the lean columns when `lean` (and the builder is lean).
    pub fn row_lean(&mut self, lean: bool) -> RowWriter<'_> {
        if self.data.is_empty() {
            self.data = (self.spec.columns.iter())
                .map(|c| Data::new(c.kind))
                .collect();
            self.lens = vec![0; self.spec.columns.len()];
            self.with_values = (0..self.spec.columns.len())
                .filter(|&i| self.kept.as_ref().is_none_or(|k| k[i]))
                .collect();
        }
        let lean = lean && self.lean.is_some();
        RowWriter {
            builder: self,
            lean,
            not_kept: 0,
            next: 0,
        }
    }

    fn index(&self, name: &str) -> usize {
        self.index_from(name, 0)
    }

    /// The index of column `name`, looked for first at `hint` (a row written in the spec's
    /// order finds each column at the first try: `events` has two dozen).
    fn index_from(&self, name: &str, hint: usize) -> usize {
        // Column names are compile-time constants from `schema`; a miss is a programming error
        // that every test touching the table would reveal at once.
        let columns = self.spec.columns;
        if columns.get(hint).is_some_and(|c| c.name == name) {
            return hint;
        }
        (columns.iter())
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("table {} has no column {name}", self.spec.name))
    }

    pub fn finish(self) -> DataFrame {
        let height = self.rows;
        if self.data.is_empty() {
            let columns = (self.spec.columns.iter())
                .map(|c| Column::new_empty(PlSmallStr::from_static(c.name), &c.kind.dtype()))
                .collect();
            return DataFrame::new(0, columns).expect("empty columns");
        }
        let counts = self.counts_not_kept();
        let kept = self.kept;
        let mut columns: Vec<Column> = self
            .spec
            .columns
            .iter()
            .zip(self.data)
            .enumerate()
            .map(|(i, (spec, data))| {
                let name = PlSmallStr::from_static(spec.name);
                if kept.as_ref().is_some_and(|k| !k[i]) {
                    return Column::full_null(name, height, &spec.kind.dtype());
                }
                let series = match data {
                    Data::Str(v) => v.finish(name).into_series(),
                    Data::Int(v) => Series::new(name, v),
                    Data::Bool(v) => Series::new(name, v),
                    Data::Time(v) => Int64Chunked::new(name, &v)
                        .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
                        .into_series(),
                };
                series.into_column()
            })
            .collect();
        if let Some(digests) = self.digests {
            for (name, values) in super::KEY_DIGEST.iter().zip(digests) {
                assert_eq!(values.len(), height, "a digest for every row");
                columns.push(Column::new(PlSmallStr::from_static(name), values));
            }
        }
        if counts {
            columns.push(Column::new(
                PlSmallStr::from_static(NOT_KEPT),
                self.not_kept,
            ));
        }
        // Every column has exactly `height` values: RowWriter pads each row on drop.
        DataFrame::new(height, columns).expect("columns built to the same height")
    }
}

/// A column of a table addressed by its position (see [`TableSpec::position`]): the rows a
/// source writes by the million skip the lookup of each column by name.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub index: usize,
    pub name: &'static str,
}

impl At {
    /// Column `name` of `spec`; in a `const { .. }`, worked out when the program is built.
    pub const fn of(spec: &TableSpec, name: &'static str) -> At {
        At {
            index: spec.position(name),
            name,
        }
    }
}

/// How a row addresses a column: by name, or by position.
pub trait ColumnId: Copy {
    fn name(self) -> &'static str;
    /// The column's index in `builder`'s table, looked for first at `hint`.
    fn locate(self, builder: &TableBuilder, hint: usize) -> usize;
}

impl ColumnId for &'static str {
    fn name(self) -> &'static str {
        self
    }

    fn locate(self, builder: &TableBuilder, hint: usize) -> usize {
        builder.index_from(self, hint)
    }
}

impl ColumnId for At {
    fn name(self) -> &'static str {
        self.name
    }

    fn locate(self, builder: &TableBuilder, _hint: usize) -> usize {
        debug_assert_eq!(
            builder.spec.columns.get(self.index).map(|c| c.name),
            Some(self.name),
            "a position of another table"
        );
        self.index
    }
}

/// Writes one row; columns not set are null.
pub struct RowWriter<'a> {
    builder: &'a mut TableBuilder,
    /// The row keeps only the builder's lean columns.
    lean: bool,
    /// Values given in this row for columns not kept.
    not_kept: u32,
    /// The column after the one set last, where the next is looked for first.
    next: usize,
}

impl RowWriter<'_> {
    /// The column's data, checked to be unset in this row; `None` for a column not kept, whose
    /// value (when `present`) is counted instead.
    #[inline(always)]
    fn slot(&mut self, column: impl ColumnId, present: bool) -> Option<&mut Data> {
        let i = column.locate(self.builder, self.next);
        let name = column.name();
        self.next = i + 1;
        // A column not kept has no values to count (most of a projected table's columns).
        if self.builder.kept.as_ref().is_some_and(|k| !k[i]) {
            self.not_kept += u32::from(present);
            return None;
        }
        debug_assert_eq!(
            self.builder.lens[i], self.builder.rows,
            "column {name} set twice in one row"
        );
        self.builder.lens[i] += 1;
        if self.lean && self.builder.lean.as_ref().is_some_and(|k| !k[i]) {
            self.not_kept += u32::from(present);
            self.builder.data[i].push_null();
            return None;
        }
        Some(&mut self.builder.data[i])
    }

    /// A string; empty is null.
    #[inline(always)]
    pub fn str(&mut self, column: impl ColumnId, value: Option<impl AsRef<str>>) -> &mut Self {
        let value = value.as_ref().map(AsRef::as_ref).filter(|s| !s.is_empty());
        match self.slot(column, value.is_some()) {
            Some(Data::Str(v)) => v.push_option(value),
            None => {}
            _ => panic!("column {} is not a string column", column.name()),
        }
        self
    }

    /// A string worked out only when the column is kept (a digest, a serialization): `present`
    /// says whether it has one, and `value` must then give a non-empty string.
    pub fn str_with(
        &mut self,
        column: impl ColumnId,
        present: bool,
        value: impl FnOnce() -> String,
    ) -> &mut Self {
        match self.slot(column, present) {
            Some(Data::Str(v)) => {
                v.push_option(present.then(value).as_deref().filter(|s| !s.is_empty()))
            }
            None => {}
            _ => panic!("column {} is not a string column", column.name()),
        }
        self
    }

    #[inline(always)]
    pub fn int(&mut self, column: impl ColumnId, value: Option<i64>) -> &mut Self {
        match self.slot(column, value.is_some()) {
            Some(Data::Int(v)) => v.push(value),
            None => {}
            _ => panic!("column {} is not an integer column", column.name()),
        }
        self
    }

    pub fn bool(&mut self, column: impl ColumnId, value: Option<bool>) -> &mut Self {
        match self.slot(column, value.is_some()) {
            Some(Data::Bool(v)) => v.push(value),
            None => {}
            _ => panic!("column {} is not a boolean column", column.name()),
        }
        self
    }

    /// A UTC instant in nanoseconds since the Unix epoch.
    #[inline(always)]
    pub fn time(&mut self, column: impl ColumnId, value: Option<i64>) -> &mut Self {
        match self.slot(column, value.is_some()) {
            Some(Data::Time(v)) => v.push(value),
            None => {}
            _ => panic!("column {} is not a time column", column.name()),
        }
        self
    }
}

impl Drop for RowWriter<'_> {
    fn drop(&mut self) {
        let b = &mut *self.builder;
        let target = b.rows + 1;
        for &i in &b.with_values {
            if b.lens[i] < target {
                b.data[i].push_null();
                b.lens[i] = target;
            }
        }
        if b.counts_not_kept() {
            b.not_kept.push(self.not_kept);
        }
        b.rows = target;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{self, SUBSCRIPTIONS};

    #[test]
    fn unset_columns_are_null_and_empty_strings_become_null() {
        let mut b = TableBuilder::new(&SUBSCRIPTIONS);
        b.row()
            .str(schema::SUBSCRIPTION_ID, Some("a"))
            .str(schema::DISPLAY_NAME, Some(""));
        b.row().str(schema::STATE, Some("Enabled"));
        let df = b.finish();
        assert_eq!(df.height(), 2);
        let ids = df.column(schema::SUBSCRIPTION_ID).unwrap().str().unwrap();
        assert_eq!(ids.get(0), Some("a"));
        assert_eq!(ids.get(1), None);
        let names = df.column(schema::DISPLAY_NAME).unwrap().str().unwrap();
        assert_eq!(names.get(0), None);
    }

    #[test]
    fn columns_by_position_are_the_columns_by_name() {
        const STATE: At = At::of(&SUBSCRIPTIONS, schema::STATE);
        assert_eq!(
            SUBSCRIPTIONS.columns[STATE.index].name,
            schema::STATE,
            "the position is the column's"
        );
        let write = |by_position: bool| {
            let mut b = TableBuilder::keeping(&SUBSCRIPTIONS, |c| c != schema::DISPLAY_NAME);
            let mut row = b.row();
            if by_position {
                row.str(
                    const { At::of(&SUBSCRIPTIONS, schema::SUBSCRIPTION_ID) },
                    Some("a"),
                )
                .str(
                    const { At::of(&SUBSCRIPTIONS, schema::DISPLAY_NAME) },
                    Some("n"),
                )
                .str(STATE, Some("Enabled"));
            } else {
                row.str(schema::SUBSCRIPTION_ID, Some("a"))
                    .str(schema::DISPLAY_NAME, Some("n"))
                    .str(schema::STATE, Some("Enabled"));
            }
            drop(row);
            b.finish()
        };
        assert!(write(true).equals_missing(&write(false)));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "a position of another table")]
    fn a_position_of_another_table_is_caught_in_tests() {
        let mut b = TableBuilder::new(&SUBSCRIPTIONS);
        b.row()
            .str(const { At::of(&schema::EVENTS, schema::CALLER) }, Some("x"));
    }

    #[test]
    fn a_projected_table_counts_what_it_does_not_keep() {
        let mut b = TableBuilder::keeping(&SUBSCRIPTIONS, |c| c == schema::SUBSCRIPTION_ID);
        assert!(b.keeps(schema::SUBSCRIPTION_ID) && !b.keeps(schema::STATE));
        assert!(b.counts_not_kept());
        b.row()
            .str(schema::SUBSCRIPTION_ID, Some("a"))
            .str(schema::DISPLAY_NAME, Some("Prod"))
            .str(schema::STATE, Some(""))
            .str_with(schema::TENANT_ID, true, || {
                unreachable!("not kept: not worked out")
            });
        b.row().str(schema::STATE, None::<&str>);
        let df = b.finish();
        let ids = df.column(schema::SUBSCRIPTION_ID).unwrap().str().unwrap();
        assert_eq!(ids.iter().collect::<Vec<_>>(), vec![Some("a"), None]);
        let names = df.column(schema::DISPLAY_NAME).unwrap();
        assert_eq!(names.null_count(), 2);
        assert_eq!(names.dtype(), &polars::prelude::DataType::String);
        // The display name and the tenant id; the empty state is null, as if kept.
        let counts = df.column(NOT_KEPT).unwrap().u32().unwrap();
        assert_eq!(counts.iter().collect::<Vec<_>>(), vec![Some(2), Some(0)]);
        assert_eq!(df.width(), SUBSCRIPTIONS.columns.len() + 1);
        // Without counts, the same columns and no count column.
        let mut quiet = TableBuilder::keeping(&SUBSCRIPTIONS, |c| c == schema::SUBSCRIPTION_ID)
            .without_counts();
        assert!(!quiet.counts_not_kept());
        quiet
            .row()
            .str(schema::SUBSCRIPTION_ID, Some("a"))
            .str(schema::DISPLAY_NAME, Some("Prod"));
        let quiet = quiet.finish();
        assert!(quiet.column(NOT_KEPT).is_err());
        assert!(quiet.equals_missing(&df.drop(NOT_KEPT).unwrap().head(Some(1))));
        // Keeping every column is the plain builder.
        let mut all = TableBuilder::keeping(&SUBSCRIPTIONS, |_| true);
        all.row().str(schema::STATE, Some("Enabled"));
        assert!(all.finish().column(NOT_KEPT).is_err());
    }

    #[test]
    fn a_lean_row_keeps_the_lean_columns_and_counts_the_rest() {
        let mut b = TableBuilder::lean(&SUBSCRIPTIONS, |c| c == schema::SUBSCRIPTION_ID);
        assert!(b.is_lean() && b.keeps(schema::STATE));
        b.row()
            .str(schema::SUBSCRIPTION_ID, Some("a"))
            .str(schema::STATE, Some("Enabled"));
        b.row_lean(true)
            .str(schema::SUBSCRIPTION_ID, Some("b"))
            .str(schema::STATE, Some("Disabled"))
            .str(schema::DISPLAY_NAME, None::<&str>)
            .str_with(schema::TENANT_ID, true, || {
                unreachable!("not kept: not worked out")
            });
        let df = b.finish();
        let ids = df.column(schema::SUBSCRIPTION_ID).unwrap().str().unwrap();
        assert_eq!(ids.iter().collect::<Vec<_>>(), vec![Some("a"), Some("b")]);
        let states = df.column(schema::STATE).unwrap().str().unwrap();
        assert_eq!(
            states.iter().collect::<Vec<_>>(),
            vec![Some("Enabled"), None]
        );
        let counts = df.column(NOT_KEPT).unwrap().u32().unwrap();
        assert_eq!(counts.iter().collect::<Vec<_>>(), vec![Some(0), Some(2)]);
        // Without a lean set, no row is lean.
        let mut plain = TableBuilder::new(&SUBSCRIPTIONS);
        plain.row_lean(true).str(schema::STATE, Some("Enabled"));
        let df = plain.finish();
        assert!(df.column(NOT_KEPT).is_err());
        assert_eq!(df.column(schema::STATE).unwrap().null_count(), 0);
    }

    #[test]
    fn a_table_without_rows_has_the_schema_of_one_with_rows() {
        for spec in schema::ALL_TABLES {
            let mut b = TableBuilder::new(spec);
            b.row();
            let one = b.finish();
            let none = TableBuilder::new(spec).finish();
            assert_eq!(one.height(), 1);
            assert_eq!(none.height(), 0);
            assert_eq!(one.schema(), none.schema(), "{}", spec.name);
        }
    }
}
