//! Loads of some event columns and of names only, held to a full load of the sample.

use super::*;

/// Loading only some columns of `events` leaves the tables made from all of them empty
/// and no count column behind; the others are as a full load makes them.
#[test]
fn a_load_of_some_event_columns_makes_no_ledger() {
    let sample = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")];
    let load_with = |events| {
        let opts = LoadOptions {
            events,
            ..LoadOptions::default()
        };
        load(&sample, opts).unwrap().tables
    };
    let all = load_with(EventColumns::All);
    let some = load_with(EventColumns::only([schema::CALLER]));
    assert!(all.requests.height() > 0);
    assert_eq!(some.requests.height(), 0);
    assert_eq!(some.events.height(), all.events.height());
    assert_eq!(some.events.schema(), all.events.schema());
    assert_eq!(
        some.events.column(schema::PROPERTIES).unwrap().null_count(),
        some.events.height()
    );
    assert_eq!(
        some.events.column(schema::CALLER).unwrap(),
        all.events.column(schema::CALLER).unwrap()
    );
    assert!(some.vms.equals_missing(&all.vms));
    // A load of the key's columns alone holds no subscription once the hours are counted
    // by it, and counts them as a full load does.
    let key = load_with(EventColumns::only([schema::OPERATION_ID]));
    assert!(matches!(
        EventColumns::only([schema::OPERATION_ID]),
        EventColumns::Key(..)
    ));
    assert_eq!(key.events.height(), all.events.height());
    let subscriptions = key.events.column(schema::SUBSCRIPTION_ID).unwrap();
    assert_eq!(subscriptions.null_count(), key.events.height());
    assert!(key.activity_hours.equals_missing(&all.activity_hours));
    assert!(all.activity_hours.height() > 1);
    // The same operations, though of an event held twice another copy may be kept (any
    // copy will do), so not in the same order.
    let operations = |t: &Tables| {
        let mut ops: Vec<Option<String>> = (t.events.column(schema::OPERATION_ID).unwrap())
            .str()
            .unwrap()
            .iter()
            .map(|o| o.map(str::to_string))
            .collect();
        ops.sort();
        ops
    };
    assert_eq!(operations(&key), operations(&all));
}

/// A load asked only which names the inputs know keeps a row per name of each part read,
/// and knows every name a full load does.
#[test]
fn a_load_of_names_only_knows_every_name_in_fewer_rows() {
    let sample = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")];
    let names = [schema::CALLER, schema::OBJECT_ID, schema::APP_ID];
    let opts = LoadOptions {
        events: EventColumns::only(names),
        names_only: true,
        ..LoadOptions::default()
    };
    let few = load(&sample, opts).unwrap().tables;
    let all = load(&sample, LoadOptions::default()).unwrap().tables;
    assert!(few.events.height() < all.events.height() / 4);
    let known = crate::derive::identities::known_identities;
    assert_eq!(known(&few).unwrap(), known(&all).unwrap());
    assert!(few.activity_hours.equals_missing(&all.activity_hours));
    // A file read in windows on one thread keeps a row per name of each window too, and
    // still knows every name and counts every hour.
    let dir = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    for (file, _) in crate::pipeline::inputs::list(&sample).files() {
        let text = std::fs::read_to_string(file).unwrap();
        if file.to_string_lossy().contains("insights-activity-logs") {
            lines.push_str(&text);
        }
    }
    let copies = 3 * reader::WINDOW / lines.len() + 1;
    let big = dir.path().join("big.json");
    std::fs::write(&big, lines.repeat(copies)).unwrap();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let read = |names_only| {
        let opts = LoadOptions {
            events: EventColumns::only(names),
            names_only,
            ..LoadOptions::default()
        };
        one_thread.install(|| load(std::slice::from_ref(&big), opts).unwrap().tables)
    };
    let (few, all) = (read(true), read(false));
    assert!(all.events.height() > 0);
    assert_eq!(known(&few).unwrap(), known(&all).unwrap());
    assert!(few.activity_hours.equals_missing(&all.activity_hours));
}
