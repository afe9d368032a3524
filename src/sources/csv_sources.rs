//! The two CSV shapes of the Activity Log: a Log Analytics `AzureActivity` export (columns as
//! the table has them, `dynamic` columns holding JSON) and the portal's "Download as CSV"
//! (display names, localized operation names). Headers are matched ignoring case, spacing
//! and the ` [UTC]` suffix Log Analytics adds to time columns; extra columns are fine.

use std::borrow::Cow;

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use super::activity::{self, Event};
use super::{Batch, FileReport, Location, SourceFormat};
use super::{display_names, event_row};

/// Which CSV this header belongs to, if any.
pub fn classify(header: &[String]) -> Option<SourceFormat> {
    let has = |name: &str| header.iter().any(|h| same(h, name));
    if has("OperationNameValue")
        || has("ActivityStatusValue")
        || has("TimeGenerated")
        || has("CategoryValue")
    {
        return Some(SourceFormat::LogAnalyticsCsv);
    }
    if has("Operation name") && (has("Event initiated by") || has("Correlation id") || has("Time"))
    {
        return Some(SourceFormat::PortalCsv);
    }
    None
}

fn clean(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .trim()
        .trim_end_matches("[UTC]")
        .trim()
        .to_string()
}

fn same(header: &str, name: &str) -> bool {
    let fold = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '_')
            .collect::<String>()
            .to_ascii_lowercase()
    };
    fold(&clean(header)) == fold(name)
}

/// Reads a CSV of `format` into the batch. A header missing required columns is an error
/// (nothing can be read); a bad row is rejected with its line.
pub fn read(
    format: SourceFormat,
    data: &[u8],
    batch: &mut Batch,
    report: &mut FileReport,
) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
    let header: Vec<String> = reader.headers()?.iter().map(clean).collect();
    let required: &[&[&str]] = match format {
        SourceFormat::LogAnalyticsCsv => &[
            &["TimeGenerated", "EventSubmissionTimestamp"],
            &["OperationNameValue", "OperationName"],
        ],
        SourceFormat::PortalCsv => &[&["Time"], &["Operation name"]],
        _ => bail!("not a CSV format"),
    };
    let missing: Vec<String> = required
        .iter()
        .filter(|alternatives| {
            !alternatives
                .iter()
                .any(|a| header.iter().any(|h| same(h, a)))
        })
        .map(|alternatives| alternatives.join(" or "))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} is a {} export but lacks required columns: {} (found: {})",
            report.path,
            format.name(),
            missing.join(", "),
            header.join(", ")
        );
    }
    let file = report.path.clone();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                report.reject(
                    "malformed CSV row",
                    Location::Line(line),
                    Some(&e.to_string()),
                );
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let at = Location::Line(line);
        if record.len() != header.len() {
            let detail = format!(
                "{} fields where the header has {}",
                record.len(),
                header.len()
            );
            report.reject("CSV row has the wrong number of fields", at, Some(&detail));
            continue;
        }
        let parsed = match format {
            SourceFormat::LogAnalyticsCsv => {
                let row: Map<String, Value> = header
                    .iter()
                    .zip(record.iter())
                    .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
                    .collect();
                activity::from_object(&row)
            }
            _ => portal_row(&header, &record),
        };
        match parsed {
            Ok(ev) => {
                if ev.operation_id.is_none()
                    && let Some(name) = &ev.operation_name
                {
                    report.note(format!(
                        "operation name '{name}' has no known operation id; kept as a display name"
                    ));
                }
                event_row::write(&mut batch.events, &ev, &file, format.name(), at.number());
                report.used();
            }
            Err(reject) => report.reject(reject.reason(), at, reject.detail()),
        }
    }
    Ok(())
}

fn portal_row(
    header: &[String],
    record: &csv::StringRecord,
) -> Result<Event<'static>, activity::Reject> {
    let cell = |name: &str| {
        header
            .iter()
            .position(|h| same(h, name))
            .and_then(|i| record.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| Cow::<str>::Owned(v.to_string()))
    };
    let operation_name = cell("Operation name");
    let resource = cell("Resource");
    // "Resource" is a full id in some exports and a bare name in others.
    let resource_id = resource.filter(|r| r.starts_with('/'));
    let subscription = cell("Subscription").or_else(|| cell("Subscription id"));
    let mut ev = Event {
        time_raw: cell("Time"),
        operation_id: operation_name
            .as_deref()
            .and_then(display_names::operation_for_display_name)
            .map(|op| Cow::Owned(op.to_string())),
        operation_name,
        correlation_id: cell("Correlation id"),
        status: cell("Status"),
        category: cell("Event category"),
        level: cell("Level"),
        caller: cell("Event initiated by"),
        resource_group: cell("Resource group"),
        resource_type: cell("Resource type"),
        resource_id,
        subscription_id: subscription,
        ..Event::default()
    };
    activity::complete(&mut ev)?;
    Ok(ev)
}
