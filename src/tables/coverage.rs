//! `activity_hours` as counts: Activity Log records per UTC hour and subscription, with the
//! first and last record time. Parsers count what they read into a [`Coverage`] (the prefilter
//! counts the lines it passes over), and loads add theirs together before the frame is made.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use polars::prelude::DataFrame;
use polars_arrow::array::Array;

use super::{TableBuilder, ints, strs, times};
use crate::schema;

/// Records per UTC hour and subscription, with the first and last record time: what
/// `activity_hours` holds.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub cells: BTreeMap<(i64, Option<String>), Cell>,
}

#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub records: u64,
    pub first: i64,
    pub last: i64,
}

pub const HOUR_NS: i64 = 3_600_000_000_000;

impl Cell {
    /// One record at `time`.
    pub fn at(time: i64) -> Cell {
        Cell {
            records: 1,
            first: time,
            last: time,
        }
    }

    /// Adds the records of `other`.
    pub fn merge(&mut self, other: Cell) {
        self.records += other.records;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// The UTC hour of `time`, as its first instant.
pub fn hour_of(time: i64) -> i64 {
    time.div_euclid(HOUR_NS) * HOUR_NS
}

impl Coverage {
    #[cfg(test)]
    pub fn add(&mut self, time: i64, subscription: Option<String>, records: u64) {
        self.add_cell(
            hour_of(time),
            subscription,
            Cell {
                records,
                ..Cell::at(time)
            },
        );
    }

    pub fn add_cell(&mut self, hour: i64, subscription: Option<String>, cell: Cell) {
        self.cells
            .entry((hour, subscription))
            .and_modify(|c| c.merge(cell))
            .or_insert(cell);
    }

    pub fn merge(&mut self, other: Coverage) {
        for ((hour, sub), cell) in other.cells {
            self.add_cell(hour, sub, cell);
        }
    }
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
                .entry((hour_of(t), view))
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

    use super::*;
    use crate::tables::TableBuilder;

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
        let mut b = TableBuilder::new(&schema::EVENTS);
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
            let counted = coverage_of_events(&frame);
            assert_eq!(cells(&counted), cells(&one_by_one));
        }
    }
}
