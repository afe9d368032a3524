//! An Activity Log event as a row of `events`, whatever shape it was read from.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use super::activity::Event;
use crate::normalize::id_key;
use crate::schema;
use crate::tables::TableBuilder;

/// The columns of `events` whose values come from a record's `properties`. Each has a value
/// or not whatever the properties hold (an event id is made when they give none; a category
/// defaults), so a table that keeps none of them need not read the properties.
pub const FROM_PROPERTIES: [&str; 3] = [schema::EVENT_ID, schema::CATEGORY, schema::PROPERTIES];

/// Writes an event as a row of `events`.
pub fn write(events: &mut TableBuilder, ev: Event<'_>, source_file: &str, format: &str, line: i64) {
    // A lean builder keeps every column of the JIT policy and NSG records only; one whose
    // operation is unknown is kept whole.
    let lean = events.is_lean()
        && (ev.operation_id.as_deref()).is_some_and(|op| !super::record_line::concerns_jit(op));
    // In the order of the table's columns, where the builder looks for each first.
    events
        .row_lean(lean)
        // Every event has an id: its own, or one made from it (the digest is worked out only
        // when the column is kept).
        .str_with(schema::EVENT_ID, true, || {
            (ev.event_id.as_deref()).map_or_else(|| synthetic_id(&ev), str::to_string)
        })
        .time(schema::TIME, ev.time)
        .str(schema::SUBSCRIPTION_ID, ev.subscription_id)
        .str(schema::RESOURCE_GROUP, ev.resource_group)
        .str(schema::RESOURCE_ID, ev.resource_id.as_deref())
        .str(schema::RESOURCE_KEY, ev.resource_id.as_deref().map(id_key))
        .str(schema::RESOURCE_TYPE, ev.resource_type)
        .str(schema::OPERATION_ID, ev.operation_id)
        .str(schema::OPERATION_NAME, ev.operation_name)
        .str(schema::CATEGORY, ev.category)
        .str(schema::STATUS, ev.status)
        .str(schema::SUB_STATUS, ev.sub_status)
        .str(schema::CALLER, ev.caller)
        .str(schema::CALLER_IP, ev.caller_ip)
        .str(schema::CALLER_KIND, ev.caller_kind)
        .str(schema::APP_ID, ev.app_id)
        .str(schema::OBJECT_ID, ev.object_id)
        .str(schema::CORRELATION_ID, ev.correlation_id)
        .str(schema::LEVEL, ev.level)
        .str(schema::DESCRIPTION, ev.description)
        .str_with(schema::PROPERTIES, ev.properties.is_some(), || {
            serde_json::to_string(&ev.properties).unwrap_or_default()
        })
        .str(schema::SOURCE_FILE, Some(source_file))
        .str(schema::SOURCE_FORMAT, Some(format))
        .int(schema::SOURCE_LINE, Some(line));
}

/// Storage and Event Hubs records carry no event id; this one is derived from what identifies
/// the record, so the same record always gets the same id.
fn synthetic_id(ev: &Event<'_>) -> String {
    let mut h = Sha256::new();
    for part in [
        ev.time.map(|t| Cow::Owned(t.to_string())),
        ev.resource_id.as_deref().map(|id| Cow::Owned(id_key(id))),
        ev.operation_id.clone(),
        ev.status.clone(),
        ev.correlation_id.clone(),
        ev.caller.clone(),
    ] {
        h.update(part.as_deref().unwrap_or_default().as_bytes());
        h.update([0x1f]);
    }
    format!("x-{}", &hex::encode(h.finalize())[..32])
}
