//! Any query result as a terminal table, CSV, JSON or Parquet. Times print as RFC 3339 UTC;
//! CSV cells a spreadsheet would run as formulas are neutralised as in the findings CSV.

use std::io::Write;

use anyhow::Result;
use polars::prelude::{AnyValue, DataFrame, ParquetWriter, TimeUnit};
use serde_json::{Map, Value};

use super::Export;
use super::findings::safe_cell;
use crate::normalize::format_time;
use crate::terminal::clean;

fn nanos(v: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => v,
        TimeUnit::Microseconds => v.saturating_mul(1_000),
        TimeUnit::Milliseconds => v.saturating_mul(1_000_000),
    }
}

/// A cell as text ("" for null).
pub fn cell_text(v: &AnyValue<'_>) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Datetime(t, unit, _) => format_time(nanos(*t, *unit)),
        AnyValue::DatetimeOwned(t, unit, _) => format_time(nanos(*t, *unit)),
        AnyValue::Boolean(b) => b.to_string(),
        other => other.to_string().trim_matches('"').to_string(),
    }
}

fn cell_json(v: &AnyValue<'_>) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::Int8(_)
        | AnyValue::Int16(_)
        | AnyValue::Int32(_)
        | AnyValue::Int64(_)
        | AnyValue::UInt8(_)
        | AnyValue::UInt16(_)
        | AnyValue::UInt32(_)
        | AnyValue::UInt64(_) => cell_text(v)
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(cell_text(v))),
        AnyValue::Float32(f) => {
            serde_json::Number::from_f64(*f as f64).map_or(Value::Null, Value::Number)
        }
        AnyValue::Float64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        _ => Value::String(cell_text(v)),
    }
}

fn rows(df: &DataFrame) -> impl Iterator<Item = Result<Vec<AnyValue<'_>>>> + '_ {
    (0..df.height()).map(move |i| {
        df.columns()
            .iter()
            .map(|c| c.get(i).map_err(anyhow::Error::from))
            .collect()
    })
}

pub fn write_csv(out: impl Write, df: &DataFrame) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(df.get_column_names().iter().map(|n| n.as_str()))?;
    for row in rows(df) {
        w.write_record(row?.iter().map(|v| safe_cell(&cell_text(v))))?;
    }
    w.flush()?;
    Ok(())
}

/// JSON: an array of objects, one per row, keys in column order.
pub fn write_json(mut out: impl Write, df: &DataFrame) -> Result<()> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| clean(n).into_owned())
        .collect();
    writeln!(out, "[")?;
    for (i, row) in rows(df).enumerate() {
        let obj: Map<String, Value> = names
            .iter()
            .cloned()
            .zip(row?.iter().map(cell_json))
            .collect();
        let sep = if i + 1 < df.height() { "," } else { "" };
        writeln!(
            out,
            "  {}{sep}",
            serde_json::to_string(&Value::Object(obj))?
        )?;
    }
    writeln!(out, "]")?;
    Ok(())
}

pub fn write_parquet(out: impl Write, df: &DataFrame) -> Result<()> {
    let mut df = df.clone();
    ParquetWriter::new(out).finish(&mut df)?;
    Ok(())
}

/// A table that fits `width` columns: each column gets its widest value up to a fair share of
/// the width, longer values are cut with an ellipsis; every row is printed, its text escaped
/// for the terminal ([`clean`]).
pub fn write_table(mut out: impl Write, df: &DataFrame, width: usize) -> Result<()> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    if names.is_empty() {
        writeln!(out, "(no columns)")?;
        return Ok(());
    }
    let cells: Vec<Vec<String>> = rows(df)
        .map(|r| {
            r.map(|r| {
                r.iter()
                    .map(|v| clean(&cell_text(v)).into_owned())
                    .collect()
            })
        })
        .collect::<Result<_>>()?;
    let mut widths: Vec<usize> = names
        .iter()
        .enumerate()
        .map(|(c, n)| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .chain([n.chars().count()])
                .max()
                .unwrap_or(1)
        })
        .collect();
    let gaps = 2 * (names.len() - 1);
    // Shrink the widest column until the table fits (or every column is at its floor).
    while widths.iter().sum::<usize>() + gaps > width {
        let (i, w) = widths
            .iter()
            .enumerate()
            .max_by_key(|(_, w)| **w)
            .map(|(i, w)| (i, *w))
            .unwrap_or((0, 0));
        if w <= 8 {
            break;
        }
        widths[i] = w - 1;
    }
    let line = |values: &[String]| -> String {
        values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{:<w$}", fit(v, *w), w = *w))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(&names))?;
    writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    )?;
    for r in &cells {
        writeln!(out, "{}", line(r))?;
    }
    writeln!(
        out,
        "({} row{})",
        df.height(),
        if df.height() == 1 { "" } else { "s" }
    )?;
    Ok(())
}

fn fit(s: &str, w: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= w {
        s
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A table in one of the forms `query` writes.
pub struct FrameOut<'a> {
    pub df: &'a DataFrame,
    pub form: FrameForm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameForm {
    /// Aligned columns cut to this width.
    Table(usize),
    Csv,
    Json,
    Parquet,
}

impl Export for FrameOut<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        match self.form {
            FrameForm::Table(width) => write_table(out, self.df, width),
            FrameForm::Csv => write_csv(out, self.df),
            FrameForm::Json => write_json(out, self.df),
            FrameForm::Parquet => write_parquet(out, self.df),
        }
    }
}

/// The terminal's width: `COLUMNS` (which shells set but seldom export), else the width of the
/// terminal standard output is (asked of the terminal itself), else 120.
pub fn terminal_width() -> usize {
    let asked = || terminal_size::terminal_size().map(|(w, _)| usize::from(w.0));
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or_else(asked)
        .filter(|w| *w >= 40)
        .unwrap_or(120)
}
