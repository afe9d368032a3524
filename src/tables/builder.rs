//! Builds a canonical table row by row. Sources address columns by their names from
//! [`crate::schema`], so a source can never write a column the contract does not have, and
//! every column the source leaves unset is null rather than missing.

use polars::prelude::*;

use crate::schema::{ColumnKind, TableSpec};

enum Data {
    /// Straight into Polars' string buffers: no allocation kept per value.
    Str(StringChunkedBuilder),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Time(Vec<Option<i64>>),
}

impl Data {
    fn new(name: &'static str, kind: ColumnKind) -> Self {
        match kind {
            ColumnKind::Str => {
                Data::Str(StringChunkedBuilder::new(PlSmallStr::from_static(name), 0))
            }
            ColumnKind::Int => Data::Int(Vec::new()),
            ColumnKind::Bool => Data::Bool(Vec::new()),
            ColumnKind::Time => Data::Time(Vec::new()),
        }
    }

    fn push_null(&mut self) {
        match self {
            Data::Str(v) => v.append_null(),
            Data::Int(v) | Data::Time(v) => v.push(None),
            Data::Bool(v) => v.push(None),
        }
    }
}

/// Accumulates rows for one table.
pub struct TableBuilder {
    spec: &'static TableSpec,
    data: Vec<Data>,
    /// Values in each column so far: the row being written pads the columns it left unset.
    lens: Vec<usize>,
    rows: usize,
}

impl TableBuilder {
    /// A builder for `spec`; its columns are allocated by the first row (most files fill
    /// few of the tables: `report` makes one batch of every table per file it reads).
    pub fn new(spec: &'static TableSpec) -> Self {
        TableBuilder {
            spec,
            data: Vec::new(),
            lens: Vec::new(),
            rows: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Starts a row; the row is complete when the returned writer is dropped.
    pub fn row(&mut self) -> RowWriter<'_> {
        if self.data.is_empty() {
            self.data = (self.spec.columns.iter())
                .map(|c| Data::new(c.name, c.kind))
                .collect();
            self.lens = vec![0; self.spec.columns.len()];
        }
        RowWriter { builder: self }
    }

    fn index(&self, name: &str) -> usize {
        // Column names are compile-time constants from `schema`; a miss is a programming error
        // that every test touching the table would reveal at once.
        self.spec
            .columns
            .iter()
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
        let columns = self
            .spec
            .columns
            .iter()
            .zip(self.data)
            .map(|(spec, data)| {
                let name = PlSmallStr::from_static(spec.name);
                let series = match data {
                    Data::Str(v) => v.finish().into_series(),
                    Data::Int(v) => Series::new(name, v),
                    Data::Bool(v) => Series::new(name, v),
                    Data::Time(v) => Int64Chunked::new(name, &v)
                        .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
                        .into_series(),
                };
                series.into_column()
            })
            .collect();
        // Every column has exactly `height` values: RowWriter pads each row on drop.
        DataFrame::new(height, columns).expect("columns built to the same height")
    }
}

/// Writes one row; columns not set are null.
pub struct RowWriter<'a> {
    builder: &'a mut TableBuilder,
}

impl RowWriter<'_> {
    /// The column's data, checked to be unset in this row.
    fn slot(&mut self, name: &str) -> &mut Data {
        let i = self.builder.index(name);
        debug_assert_eq!(
            self.builder.lens[i], self.builder.rows,
            "column {name} set twice in one row"
        );
        self.builder.lens[i] += 1;
        &mut self.builder.data[i]
    }

    /// A string; empty is null.
    pub fn str(&mut self, name: &str, value: Option<impl AsRef<str>>) -> &mut Self {
        match self.slot(name) {
            Data::Str(v) => {
                v.append_option(value.as_ref().map(AsRef::as_ref).filter(|s| !s.is_empty()))
            }
            _ => panic!("column {name} is not a string column"),
        }
        self
    }

    pub fn int(&mut self, name: &str, value: Option<i64>) -> &mut Self {
        match self.slot(name) {
            Data::Int(v) => v.push(value),
            _ => panic!("column {name} is not an integer column"),
        }
        self
    }

    pub fn bool(&mut self, name: &str, value: Option<bool>) -> &mut Self {
        match self.slot(name) {
            Data::Bool(v) => v.push(value),
            _ => panic!("column {name} is not a boolean column"),
        }
        self
    }

    /// A UTC instant in nanoseconds since the Unix epoch.
    pub fn time(&mut self, name: &str, value: Option<i64>) -> &mut Self {
        match self.slot(name) {
            Data::Time(v) => v.push(value),
            _ => panic!("column {name} is not a time column"),
        }
        self
    }
}

impl Drop for RowWriter<'_> {
    fn drop(&mut self) {
        let target = self.builder.rows + 1;
        for (data, len) in self.builder.data.iter_mut().zip(&mut self.builder.lens) {
            if *len < target {
                data.push_null();
                *len = target;
            }
        }
        self.builder.rows = target;
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
