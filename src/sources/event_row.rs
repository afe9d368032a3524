//! An Activity Log event as a row of `events`, whatever shape it was read from.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use super::activity::Event;
use crate::normalize::{id_key, id_key_in};
use crate::schema;
use crate::tables::TableBuilder;
use crate::tables::builder::At;

/// The columns of `events` whose values come from a record's `properties`. Each has a value
/// or not whatever the properties hold (an event id is made when they give none; a category
/// defaults), so a table that keeps none of them need not read the properties.
pub const FROM_PROPERTIES: [&str; 3] = [schema::EVENT_ID, schema::CATEGORY, schema::PROPERTIES];

/// The columns of `events` whose values may come from a record's `identity` (the event id when
/// it is made: the digest takes in the caller).
pub const FROM_IDENTITY: [&str; 6] = [
    schema::CALLER,
    schema::CALLER_IP,
    schema::CALLER_KIND,
    schema::APP_ID,
    schema::OBJECT_ID,
    schema::EVENT_ID,
];

/// Column `name` of `events` by its position, worked out when the program is built.
const fn at(name: &'static str) -> At {
    At::of(&schema::EVENTS, name)
}

/// Writes an event as a row of `events`.
pub fn write(
    events: &mut TableBuilder,
    ev: &Event<'_>,
    source_file: &str,
    format: &str,
    line: i64,
) {
    // A lean builder keeps every column of the JIT policy and NSG records only; one whose
    // operation is unknown is kept whole.
    let lean = events.is_lean()
        && (ev.operation_id.as_deref())
            .is_some_and(|op| !super::fast::record_line::concerns_jit(op));
    let mut key = [0; 256];
    let resource_key = (ev.resource_id.as_deref()).map(|id| id_key_in(id, &mut key));
    if events.is_digesting() {
        fn text(s: Option<&str>) -> Option<&str> {
            s.filter(|s| !s.is_empty())
        }
        let key = crate::tables::Key {
            time: ev.time,
            resource: text(resource_key.as_deref()),
            operation: text(ev.operation_id.as_deref()),
            status: text(ev.status.as_deref()),
            correlation: text(ev.correlation_id.as_deref()),
        };
        events.push_digest(key.digest());
    }
    // In the order of the table's columns, each addressed by its position.
    events
        .row_lean(lean)
        // Every event has an id: its own, or one made from it (the digest is worked out only
        // when the column is kept).
        .str_with(const { at(schema::EVENT_ID) }, true, || {
            (ev.event_id.as_deref()).map_or_else(|| synthetic_id(ev), str::to_string)
        })
        .time(const { at(schema::TIME) }, ev.time)
        .str(
            const { at(schema::SUBSCRIPTION_ID) },
            ev.subscription_id.as_deref(),
        )
        .str(
            const { at(schema::RESOURCE_GROUP) },
            ev.resource_group.as_deref(),
        )
        .str(const { at(schema::RESOURCE_ID) }, ev.resource_id.as_deref())
        .str(const { at(schema::RESOURCE_KEY) }, resource_key.as_deref())
        .str(
            const { at(schema::RESOURCE_TYPE) },
            ev.resource_type.as_deref(),
        )
        .str(
            const { at(schema::OPERATION_ID) },
            ev.operation_id.as_deref(),
        )
        .str(
            const { at(schema::OPERATION_NAME) },
            ev.operation_name.as_deref(),
        )
        .str(const { at(schema::CATEGORY) }, ev.category.as_deref())
        .str(const { at(schema::STATUS) }, ev.status.as_deref())
        .str(const { at(schema::SUB_STATUS) }, ev.sub_status.as_deref())
        .str(const { at(schema::CALLER) }, ev.caller.as_deref())
        .str(const { at(schema::CALLER_IP) }, ev.caller_ip.as_deref())
        .str(const { at(schema::CALLER_KIND) }, ev.caller_kind)
        .str(const { at(schema::APP_ID) }, ev.app_id.as_deref())
        .str(const { at(schema::OBJECT_ID) }, ev.object_id.as_deref())
        .str(
            const { at(schema::CORRELATION_ID) },
            ev.correlation_id.as_deref(),
        )
        .str(const { at(schema::LEVEL) }, ev.level.as_deref())
        .str(const { at(schema::DESCRIPTION) }, ev.description.as_deref())
        .str_with(
            const { at(schema::PROPERTIES) },
            ev.properties.is_some(),
            || serde_json::to_string(&ev.properties).unwrap_or_default(),
        )
        .str(const { at(schema::SOURCE_FILE) }, Some(source_file))
        .str(const { at(schema::SOURCE_FORMAT) }, Some(format))
        .int(const { at(schema::SOURCE_LINE) }, Some(line));
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
    // The first half of the digest in hex, written into place rather than collected into a
    // `String` a character at a time (about 2,000 instructions a record).
    let mut digits = [0; 32];
    hex::encode_to_slice(&h.finalize()[..16], &mut digits).expect("two digits a byte");
    format!("x-{}", std::str::from_utf8(&digits).expect("hex digits"))
}
