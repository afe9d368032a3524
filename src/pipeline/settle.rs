//! How equally rich copies of one record are told apart, so that which one a load keeps does not
//! depend on the order the inputs were given in: the inventory and policy tables by their
//! values ([`RowValues`]), events by the path of their input and their place in it
//! ([`InputOrder`]).

use polars::prelude::{ChunkedArray, DataFrame, DataType, PolarsDataType, Series};

/// Every column's values in one chunk, for ordering two rows by their values: strings by
/// their bytes, numbers and booleans by value, a null first.
pub(super) struct RowValues(Vec<Series>);

impl RowValues {
    pub(super) fn of(df: &DataFrame) -> RowValues {
        RowValues(
            df.columns()
                .iter()
                .map(|c| c.as_materialized_series().to_physical_repr().rechunk())
                .collect(),
        )
    }

    /// Whether row `a`'s values come before row `b`'s, column by column.
    pub(super) fn first_is_less(&self, a: usize, b: usize) -> bool {
        use std::cmp::Ordering;
        fn order<T: PolarsDataType>(ca: &ChunkedArray<T>, a: usize, b: usize) -> Ordering
        where
            for<'x> T::Physical<'x>: PartialOrd,
        {
            ca.get(a).partial_cmp(&ca.get(b)).unwrap_or(Ordering::Equal)
        }
        for s in &self.0 {
            let o = match s.dtype() {
                DataType::String => s.str().map(|ca| order(ca, a, b)),
                DataType::Int64 => s.i64().map(|ca| order(ca, a, b)),
                DataType::Int32 => s.i32().map(|ca| order(ca, a, b)),
                DataType::UInt32 => s.u32().map(|ca| order(ca, a, b)),
                DataType::Boolean => s.bool().map(|ca| order(ca, a, b)),
                _ => Ok(Ordering::Equal),
            }
            .unwrap_or(Ordering::Equal);
            if o != Ordering::Equal {
                return o == Ordering::Less;
            }
        }
        false
    }
}

/// An order of the stacked events that does not depend on the order of the inputs: by the
/// path of the input a row came from, then by its place in that input.
pub(super) struct InputOrder {
    starts: Vec<usize>,
    ranks: Vec<u64>,
}

impl InputOrder {
    pub(super) fn new(mut inputs: Vec<(usize, String)>) -> InputOrder {
        let mut paths: Vec<&String> = inputs.iter().map(|(_, p)| p).collect();
        paths.sort();
        paths.dedup();
        let ranks = inputs
            .iter()
            .map(|(_, p)| paths.binary_search(&p).unwrap_or(0) as u64)
            .collect();
        let starts = inputs.drain(..).map(|(start, _)| start).collect();
        InputOrder { starts, ranks }
    }

    /// Row `row`'s place: its input's rank by path, then its place in that input.
    pub(super) fn rank(&self, row: usize) -> u64 {
        let i = self.starts.partition_point(|&s| s <= row).saturating_sub(1);
        match (self.starts.get(i), self.ranks.get(i)) {
            (Some(&start), Some(&rank)) => (rank << 40) | (row - start) as u64,
            _ => row as u64,
        }
    }
}
