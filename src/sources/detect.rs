//! Finds a file's format from its content and reads it. JSON is told apart by its structure
//! (a list's elements say what they are), CSV by its header, Parquet by its magic bytes.

use std::borrow::Cow;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};

use super::activity::ResourceParts;
use super::fast::prefilter::{self, Prefilter};
use super::fast::record_line::{self, Fields, Identity, Layout, Properties};
use super::fast::words::Lowered;
use super::json::{self, element_lines, get};
use super::{Batch, FileReport, Location, SourceFormat, activity, arm, csv_sources, event_row};
use crate::normalize::IdParts;
use crate::schema;

/// What a file was found to be.
pub enum Content {
    /// The document, its format, and what was mended to read it.
    Json(Value, SourceFormat, json::Mends),
    JsonLines,
    Csv(SourceFormat),
    Parquet,
}

const EXPECTED: &str = "expected an Activity Log export (REST/az JSON array or page, diagnostic-settings JSON Lines, \
{\"records\": [...]}, Log Analytics AzureActivity CSV or JSON, portal CSV), JIT policies, or an ARM list of \
subscriptions, virtual machines, network interfaces or network security groups";

/// Detects the format of `data` (already decompressed). Errors name the problem; the caller
/// adds the file name.
pub fn detect(data: &[u8]) -> Result<Content> {
    let data = trim_start(data);
    if data.starts_with(b"PAR1") {
        return Ok(Content::Parquet);
    }
    match data.first() {
        None => bail!("the file is empty; {EXPECTED}"),
        Some(b'{') if looks_like_json_lines(data) && !is_single_wrapper(data) => {
            Ok(Content::JsonLines)
        }
        Some(b'[' | b'{') => {
            let (value, mended): (Value, json::Mends) =
                json::parse_lenient(data).map_err(|e| json_error(data, &e))?;
            let format = classify_document(&value)
                .ok_or_else(|| anyhow!("unrecognised JSON document; {EXPECTED}"))?;
            Ok(Content::Json(value, format, mended))
        }
        Some(_) => {
            if data.iter().take(8192).any(|b| *b == 0) {
                bail!("binary content of no known format; {EXPECTED}");
            }
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(data);
            let header: Vec<String> = match reader.records().next() {
                Some(Ok(r)) => r.iter().map(str::to_string).collect(),
                _ => bail!("not JSON and not a CSV with a header; {EXPECTED}"),
            };
            let format = csv_sources::classify(&header).ok_or_else(|| {
                anyhow!(
                    "a CSV whose header ({}) is no known export; {EXPECTED}",
                    header.join(",")
                )
            })?;
            Ok(Content::Csv(format))
        }
    }
}

/// A one-line document that is a list wrapper (`{"value": [...]}`, `{"records": [...]}`) or an
/// ARM resource rather than an Activity Log record.
fn is_single_wrapper(data: &[u8]) -> bool {
    let trimmed = trim_start(data);
    let one_line = !trimmed.trim_ascii_end().contains(&b'\n');
    one_line
        && json::parse_lenient::<Map<String, Value>>(trimmed)
            .is_ok_and(|(o, _)| activity::shape_of(&o).is_none())
}

fn trim_start(data: &[u8]) -> &[u8] {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let start = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(data.len());
    &data[start..]
}

/// JSON Lines: the first line is a complete object and more follows; or the whole file does
/// not parse as one document but several of its lines parse as objects on their own (a
/// malformed first line must not make a whole blob unreadable).
fn looks_like_json_lines(data: &[u8]) -> bool {
    let lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .map(trim_start)
        .filter(|l| !l.is_empty())
        .take(10)
        .collect();
    let Some(first) = lines.first() else {
        return false;
    };
    let parses = |l: &&[u8]| json::parse_lenient::<Map<String, Value>>(l).is_ok();
    if parses(first) {
        // One line holding one record is a blob with one record; a pretty-printed object
        // spans several lines and fails to parse line by line.
        return true;
    }
    // A pretty-printed document opens with a lone brace; a blob whose first line is corrupt
    // still has mostly whole objects on its other lines.
    if first.iter().filter(|b| !b.is_ascii_whitespace()).count() <= 1 {
        return false;
    }
    if json::parse_lenient::<Value>(data).is_ok() {
        return false;
    }
    lines.iter().skip(1).filter(|l| parses(l)).count() * 2 >= lines.len() - 1 && lines.len() > 1
}

/// A JSON syntax error with the byte offset, line and column, saying when the document is
/// truncated.
fn json_error(data: &[u8], e: &serde_json::Error) -> anyhow::Error {
    let offset = byte_offset(data, e.line(), e.column());
    if e.is_eof() {
        anyhow!(
            "truncated JSON document: it ends at byte offset {} (line {}, column {}) inside an unfinished value",
            data.len(),
            e.line(),
            e.column()
        )
    } else {
        anyhow!(
            "malformed JSON at byte offset {offset} (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    }
}

fn byte_offset(data: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = data
        .split_inclusive(|b| *b == b'\n')
        .take(line.saturating_sub(1))
        .map(<[u8]>::len)
        .sum();
    line_start + column.saturating_sub(1)
}

fn classify_document(v: &Value) -> Option<SourceFormat> {
    match v {
        Value::Array(items) => match items.iter().find_map(Value::as_object) {
            Some(first) if get(first, "FrameType").is_some() => Some(SourceFormat::DataExplorerV2),
            None if items.is_empty() => Some(SourceFormat::EmptyList),
            None => None,
            Some(first) => classify_element(first, SourceFormat::ActivityRestArray),
        },
        Value::Object(o) => {
            if let Some(Value::Array(_)) = get(o, "records") {
                return Some(SourceFormat::ActivityRecords);
            }
            if let Some(Value::Array(_)) = get(o, "tables") {
                return Some(SourceFormat::LogAnalyticsJson);
            }
            if let Some(Value::Array(_)) = get(o, "data")
                && (get(o, "totalRecords").is_some() || get(o, "$skipToken").is_some())
            {
                return Some(SourceFormat::ResourceGraph);
            }
            if let Some(Value::Array(items)) = get(o, "value") {
                return match items.iter().find_map(Value::as_object) {
                    None if items.is_empty() => Some(SourceFormat::EmptyList),
                    None => None,
                    Some(first) => classify_element(first, SourceFormat::ActivityRestPage),
                };
            }
            classify_element(o, SourceFormat::ActivityRestArray)
        }
        _ => None,
    }
}

fn classify_element(o: &Map<String, Value>, rest: SourceFormat) -> Option<SourceFormat> {
    match activity::shape_of(o) {
        Some(activity::Shape::Rest) => Some(rest),
        Some(activity::Shape::Record) => Some(SourceFormat::ActivityRecords),
        Some(activity::Shape::LogAnalytics) => Some(SourceFormat::LogAnalyticsJson),
        None => arm::kind_of(o),
    }
}

/// Reads detected content into the batch, counting every record in the report.
pub fn read(
    content: Content,
    data: &[u8],
    batch: &mut Batch,
    report: &mut FileReport,
    filter: Option<&Prefilter>,
) -> Result<()> {
    match content {
        Content::Parquet => {
            bail!("a lone Parquet file is read only as <table>.parquet; this should not be reached")
        }
        Content::Csv(format) => {
            report.format = Some(format);
            csv_sources::read(format, trim_start(data), batch, report)
        }
        Content::JsonLines => {
            report.format = Some(SourceFormat::ActivityJsonLines);
            read_json_lines(data, 1, batch, report, filter);
            Ok(())
        }
        Content::Json(value, format, mended) => {
            report.format = Some(format);
            if let Some(note) = mended.note() {
                report.note(format!("the document holds {note}"));
            }
            read_document(value, format, data, batch, report)
        }
    }
}

/// Reads the JSON Lines in `data`, whose first line is line `first_line` of the file. With a
/// prefilter, a line it does not keep is counted (read, skipped, and into the batch's hourly
/// coverage) but not parsed; the filter runs over the whole buffer, not line by line.
/// Returns the number the line after `data` would have.
pub fn read_json_lines(
    data: &[u8],
    first_line: u64,
    batch: &mut Batch,
    report: &mut FileReport,
    filter: Option<&Prefilter>,
) -> u64 {
    let file = report.path.clone();
    let format = SourceFormat::ActivityJsonLines.name();
    // The filter with the lowered copy of `data` its words are searched in.
    let mut filtering = filter.map(|f| (f, Lowered::new(data, LOWERED.take())));
    let mut next_word = (filtering.as_mut()).and_then(|(f, lowered)| lowered.find(f.words(), 0));
    let keeps_escapes = filter.is_some_and(Prefilter::is_first_read);
    let mut counter = prefilter::SkipCounter::default();
    let count_skipped = filter.is_none_or(Prefilter::counts_hours);
    let properties = if !event_row::FROM_PROPERTIES
        .iter()
        .any(|c| batch.events.keeps(c))
    {
        Properties::PassOver
    } else if batch.events.is_lean() {
        Properties::ReadForJit
    } else {
        Properties::Read
    };
    // The principal type decides only the caller kind's value; the rest of the identity, only
    // the values of its columns and whether they have one (which a count of the values not
    // kept would hold).
    let identity = if batch.events.counts_not_kept()
        || event_row::FROM_IDENTITY
            .iter()
            .any(|c| batch.events.keeps(c))
    {
        match batch.events.keeps(schema::CALLER_KIND) {
            true => Identity::Read,
            false => Identity::Claims,
        }
    } else {
        Identity::PassOver
    };
    // The fields that make only columns of their own are read for a table that keeps one of
    // those columns, or counts the values it does not keep, or makes event ids (whose digest
    // takes in the caller); lean rows keep every column of some records.
    let fields = if batch.events.counts_not_kept()
        || batch.events.is_lean()
        || batch.events.keeps(schema::EVENT_ID)
    {
        Fields::ALL
    } else {
        Fields::keeping(|c| batch.events.keeps(c))
    };
    // The resource group and type are taken from each resource id only for a table that
    // keeps one of them or counts the values of those it does not keep.
    let all_parts = batch.events.counts_not_kept()
        || [schema::RESOURCE_GROUP, schema::RESOURCE_TYPE]
            .iter()
            .any(|c| batch.events.keeps(c));
    let mut layout = Layout::default();
    let mut ids = IdParts::default();
    let mut pos = 0;
    let mut number = first_line;
    while pos < data.len() {
        let (end, escaped) = if keeps_escapes {
            prefilter::line_end_and_escape(data, pos)
        } else {
            let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
            (end, false)
        };
        crate::bytes::prefetch_ahead(data, end, end - pos);
        let line = &data[pos..end];
        // A byte order mark before the first record (a file saved by a Windows editor).
        let line = match number {
            1 => line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line),
            _ => line,
        };
        let at = Location::Line(number);
        number += 1;
        let kept = match filtering.as_mut() {
            None => true,
            Some((f, lowered)) => {
                let word = (next_word.as_ref())
                    .filter(|m| m.start <= end)
                    .map(|m| &data[m.clone()]);
                f.decide(line, lowered.get(end - line.len()..end), word, escaped)
            }
        };
        pos = end + 1;
        if trim_start(line).is_empty() {
            continue;
        }
        if let Some((f, lowered)) = filtering.as_mut() {
            // Matches are found over the whole buffer; once past this line, look again.
            if next_word.as_ref().is_some_and(|m| m.start < pos) {
                next_word = lowered.find(f.words(), pos.min(data.len()));
            }
        }
        if !kept {
            report.skipped();
            if count_skipped {
                counter.count(&mut batch.skipped, line);
            }
            continue;
        }
        let mut ev = activity::Event::default();
        let made = match record_line::from_line(
            line,
            &mut layout,
            if all_parts {
                ResourceParts::Cached(&mut ids)
            } else {
                ResourceParts::Subscription
            },
            properties,
            identity,
            fields,
            &mut ev,
        ) {
            Some(made) => made,
            None => match json::parse_lenient::<Value>(line) {
                Ok((value, mended)) => {
                    if let Some(note) = mended.note() {
                        report.note(format!("line {at}: {note}"));
                    }
                    match value {
                        Value::Object(o) => activity::from_object(&o).map(|read| ev = read),
                        _ => Err(activity::Reject::NotAnObject),
                    }
                }
                Err(e) => {
                    report.reject("malformed JSON line", at, Some(&e.to_string()));
                    continue;
                }
            },
        };
        match made {
            Ok(()) => {
                event_row::write(&mut batch.events, &ev, &file, format, at.number());
                report.used();
            }
            Err(r) => report.reject(r.reason(), at, r.detail()),
        }
    }
    counter.finish(&mut batch.skipped);
    // Kept for the next window or file (a few MiB), unless a large file read whole made it
    // larger.
    if let Some(scratch) = filtering.map(|(_, lowered)| lowered.into_scratch())
        && scratch.capacity() <= 8 << 20
    {
        LOWERED.set(scratch);
    }
    number
}

thread_local! {
    /// A thread's buffer for the lowered copy of what it reads (see [`Lowered`]), kept from one
    /// file or window to the next.
    static LOWERED: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Whether a file that starts with `head` is JSON Lines (the head holds whole lines enough to
/// tell; the rest of the file is not needed).
pub fn is_json_lines(head: &[u8]) -> bool {
    let data = trim_start(head);
    data.first() == Some(&b'{') && looks_like_json_lines(data) && !is_single_wrapper(data)
}

fn read_document(
    value: Value,
    format: SourceFormat,
    data: &[u8],
    batch: &mut Batch,
    report: &mut FileReport,
) -> Result<()> {
    let lines = element_lines(data);
    let at = |i: usize| match lines.get(i) {
        Some(l) => Location::Line(*l),
        None => Location::Record(i as u64 + 1),
    };
    let items: Vec<Value> = match value {
        Value::Array(frames) if format == SourceFormat::DataExplorerV2 => {
            return read_data_explorer(&frames, batch, report);
        }
        Value::Array(items) => items,
        Value::Object(mut o) => {
            if format == SourceFormat::LogAnalyticsJson && get(&o, "tables").is_some() {
                return read_query_api(&o, batch, report);
            }
            let list_key = ["records", "value", "data"]
                .into_iter()
                .filter(|k| *k != "data" || format == SourceFormat::ResourceGraph)
                .find_map(|k| o.keys().find(|key| key.eq_ignore_ascii_case(k)).cloned());
            match list_key.and_then(|k| o.remove(&k)) {
                Some(Value::Array(items)) => items,
                _ => vec![Value::Object(o)],
            }
        }
        _ => bail!("the document is neither a list nor an object"),
    };
    let file = report.path.clone();
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(o) = item else {
            report.reject(activity::Reject::NotAnObject.reason(), at(i), None);
            continue;
        };
        read_object(&o, format, batch, report, &file, at(i));
    }
    Ok(())
}

fn read_object(
    o: &Map<String, Value>,
    format: SourceFormat,
    batch: &mut Batch,
    report: &mut FileReport,
    file: &str,
    at: Location,
) {
    // An element says what it is; a list that mixes kinds (Resource Graph output, say) is read
    // element by element.
    if activity::shape_of(o).is_some() {
        match activity::from_object(o) {
            Ok(ev) => {
                event_row::write(&mut batch.events, &ev, file, format.name(), at.number());
                report.used();
            }
            Err(r) => report.reject(r.reason(), at, r.detail()),
        }
        return;
    }
    match arm::kind_of(o) {
        Some(kind) => arm::read(kind, o, batch, report, at),
        None => report.reject(
            &format!("element is not a {} record", format.name()),
            at,
            None,
        ),
    }
}

/// An Azure Data Explorer query v2 response (`POST {cluster}/v2/rest/query`): a JSON array of
/// frames, `DataSetHeader`, `DataTable`s (`TableKind`, `Columns` of `ColumnName` and
/// `ColumnType`, `Rows` of arrays) and `DataSetCompletion` (`HasErrors`, `Cancelled`,
/// `OneApiErrors`), as Microsoft's "Query V2 HTTP response" page describes it. The rows of the
/// `PrimaryResult` tables are read; a response that completed with errors or was cancelled,
/// or an error injected among the rows, is recorded as partial: a 200 OK does not mean the
/// query finished.
fn read_data_explorer(frames: &[Value], batch: &mut Batch, report: &mut FileReport) -> Result<()> {
    let file = report.path.clone();
    let mut index = 0u64;
    let mut completed = false;
    for frame in frames.iter().filter_map(Value::as_object) {
        match super::json::text_at(frame, "FrameType").as_deref() {
            Some("DataSetCompletion") => {
                completed = true;
                let flag = |k: &str| matches!(get(frame, k), Some(Value::Bool(true)));
                if flag("HasErrors") || flag("Cancelled") {
                    report.note(format!(
                        "the Data Explorer response completed with errors or was cancelled (partial results): {}",
                        get(frame, "OneApiErrors").map(Value::to_string).unwrap_or_default()
                    ));
                }
            }
            Some("DataTable")
                if super::json::text_at(frame, "TableKind").as_deref() == Some("PrimaryResult") =>
            {
                let columns: Vec<String> = super::json::objects(frame, "Columns")
                    .iter()
                    .map(|c| super::json::text_at(c, "ColumnName").unwrap_or_default())
                    .collect();
                let Some(Value::Array(rows)) = get(frame, "Rows") else {
                    continue;
                };
                for row in rows {
                    index += 1;
                    let at = Location::Record(index);
                    let cells = match row {
                        Value::Array(cells) => cells,
                        Value::Object(o) if get(o, "OneApiErrors").is_some() => {
                            report.note(format!(
                                "the Data Explorer response carries an error among its rows (partial results): {}",
                                get(o, "OneApiErrors").map(Value::to_string).unwrap_or_default()
                            ));
                            continue;
                        }
                        _ => {
                            report.reject("query row is not an array", at, None);
                            continue;
                        }
                    };
                    read_query_row(
                        &columns,
                        cells,
                        SourceFormat::DataExplorerV2,
                        at,
                        &file,
                        batch,
                        report,
                    );
                }
            }
            _ => {}
        }
    }
    if !completed {
        report
            .note("the Data Explorer response has no DataSetCompletion frame: it may be cut short");
    }
    Ok(())
}

/// One row of a query response (Log Analytics or Data Explorer), its cells named by the
/// table's columns, read as an Activity Log record (or, for a coverage answer, as counts).
fn read_query_row(
    columns: &[String],
    cells: &[Value],
    format: SourceFormat,
    at: Location,
    file: &str,
    batch: &mut Batch,
    report: &mut FileReport,
) {
    // A coverage answer `collect` asked for is counts, not records.
    if columns == schema::COVERAGE_QUERY_COLUMNS {
        return read_coverage_row(cells, at, batch, report);
    }
    let obj: Map<String, Value> = columns.iter().cloned().zip(cells.iter().cloned()).collect();
    match activity::from_object(&obj) {
        Ok(ev) => {
            event_row::write(&mut batch.events, &ev, file, format.name(), at.number());
            report.used();
        }
        Err(r) => report.reject(r.reason(), at, r.detail()),
    }
}

/// One row of a coverage answer (`schema::COVERAGE_QUERY_COLUMNS`): records the engine's
/// filter left behind in one hour of one subscription, counted as skipped and into
/// `activity_hours` as the byte prefilter counts the lines it passes over.
fn read_coverage_row(cells: &[Value], at: Location, batch: &mut Batch, report: &mut FileReport) {
    let text = |i: usize| match cells.get(i) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let time = |i: usize| text(i).and_then(crate::normalize::parse_time);
    let records = match cells.get(2) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let (Some(hour), Some(records), Some(first), Some(last)) = (time(1), records, time(3), time(4))
    else {
        report.reject(
            "coverage row without an hour, a count, or its first and last times",
            at,
            None,
        );
        return;
    };
    let sub = text(0)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase);
    batch.skipped.add_cell(
        crate::tables::hour_of(hour),
        sub,
        crate::tables::Cell {
            records,
            first,
            last,
        },
    );
    report.skipped_many(records);
}

/// A Log Analytics query API response: `{"tables": [{"columns": [...], "rows": [[...]]}]}`.
fn read_query_api(
    o: &Map<String, Value>,
    batch: &mut Batch,
    report: &mut FileReport,
) -> Result<()> {
    if let Some(error) = get(o, "error") {
        report.note(format!(
            "the query response carries an error (partial results): {error}"
        ));
    }
    let tables = super::json::objects(o, "tables");
    let file = report.path.clone();
    let mut index = 0u64;
    for table in tables {
        let columns: Vec<String> = super::json::objects(table, "columns")
            .iter()
            .map(|c| super::json::text_at(c, "name").unwrap_or_default())
            .collect();
        let rows = match get(table, "rows") {
            Some(Value::Array(rows)) => rows,
            _ => continue,
        };
        for row in rows {
            index += 1;
            let at = Location::Record(index);
            let Value::Array(cells) = row else {
                report.reject("query row is not an array", at, None);
                continue;
            };
            read_query_row(
                &columns,
                cells,
                SourceFormat::LogAnalyticsJson,
                at,
                &file,
                batch,
                report,
            );
        }
    }
    Ok(())
}

/// UTF-16 text (by its byte-order mark), as Windows PowerShell 5.1 writes with `>` or
/// `Out-File`, as UTF-8; anything else as it is. An unpaired surrogate becomes U+FFFD.
pub fn from_utf16(data: Cow<'_, [u8]>) -> (Cow<'_, [u8]>, bool) {
    let little = match data.get(..2) {
        Some([0xff, 0xfe]) => true,
        Some([0xfe, 0xff]) => false,
        _ => return (data, false),
    };
    let units = data[2..].chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    (Cow::Owned(text.into_bytes()), true)
}

/// Decompresses gzip content (by magic bytes, not name), to at most `limit` bytes.
pub fn decompress(raw: &[u8], limit: u64) -> Result<Cow<'_, [u8]>> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read;
        let mut out = Vec::new();
        // A few megabytes of gzip can hold gigabytes: the document is inflated only up to the
        // limit, and one beyond it is refused rather than read into memory.
        flate2::read::MultiGzDecoder::new(raw)
            .take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .context("decompressing gzip content (the file may be truncated)")?;
        if out.len() as u64 > limit {
            bail!(
                "the gzip content inflates to more than {limit} bytes, the most a JSON document may be (--max-document-size); as JSON Lines it would be read a window at a time"
            );
        }
        Ok(Cow::Owned(out))
    } else {
        Ok(Cow::Borrowed(raw))
    }
}
