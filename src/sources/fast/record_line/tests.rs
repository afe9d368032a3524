//! The fast path held to the general path: rows, rejections, and what the keys of the last
//! line change (nothing).

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;

use super::{Identity, Properties};
use crate::sources::activity::ResourceParts::Cached;
use crate::sources::activity::{self, Event, Reject};

/// The row (or the rejection) the general path makes of a line.
fn general(line: &[u8]) -> Result<String, String> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => activity::from_object(&o)
            .map(|e| format!("{e:?}"))
            .map_err(|r| format!("{r:?}")),
        Ok(_) => Err(format!("{:?}", Reject::NotAnObject)),
        Err(_) => Err("malformed".to_string()),
    }
}

/// The fast path's event, when it takes the line; an event it does not take is left as
/// it was.
fn read(
    line: &[u8],
    properties: Properties,
    identity: Identity,
) -> Option<Result<Event<'_>, Reject>> {
    let mut ev = Event::default();
    let mut layout = super::Layout::default();
    let mut ids = crate::normalize::IdParts::default();
    match super::from_line(
        line,
        &mut layout,
        Cached(&mut ids),
        properties,
        identity,
        super::Fields::ALL,
        &mut ev,
    ) {
        Some(made) => Some(made.map(|()| ev)),
        None => {
            assert_eq!(format!("{ev:?}"), format!("{:?}", Event::default()));
            None
        }
    }
}

/// The fast path's answer for `second` read after `first`, with the keys of `first`
/// learned (see `Layout`).
fn fast_after(
    first: &[u8],
    second: &[u8],
    properties: Properties,
    identity: Identity,
) -> Option<Result<String, String>> {
    let mut layout = super::Layout::default();
    let mut ids = crate::normalize::IdParts::default();
    let mut ev = Event::default();
    super::from_line(
        first,
        &mut layout,
        Cached(&mut ids),
        properties,
        identity,
        super::Fields::ALL,
        &mut ev,
    );
    let mut ev = Event::default();
    super::from_line(
        second,
        &mut layout,
        Cached(&mut ids),
        properties,
        identity,
        super::Fields::ALL,
        &mut ev,
    )
    .map(|made| {
        made.map(|()| format!("{ev:?}"))
            .map_err(|r| format!("{r:?}"))
    })
}

/// The fast path's answer, when it takes the line.
fn fast(line: &[u8]) -> Option<Result<String, String>> {
    read(line, Properties::Read, Identity::Read)
        .map(|r| r.map(|e| format!("{e:?}")).map_err(|r| format!("{r:?}")))
}

/// A row without what `identity` leaves unread: with [`Identity::Claims`] the caller kind's
/// value (but whether it has one), with [`Identity::PassOver`] also the caller, its address
/// and ids (the record's own `caller` and `callerIpAddress` are still read, but the claims
/// stand in for them when absent).
fn without(identity: Identity, row: Result<Event<'_>, Reject>) -> Result<String, String> {
    row.map(|mut e| {
        e.caller_kind = e.caller_kind.map(|_| "some kind");
        if identity == Identity::PassOver {
            e.caller = None;
            e.caller_ip = None;
            e.app_id = None;
            e.object_id = None;
        }
        format!("{e:?}")
    })
    .map_err(|r| format!("{r:?}"))
}

/// The fast path's answer when it reads the identity as `identity` says, when it takes the
/// line, and the general path's, both without what that leaves unread.
fn fast_and_general_but_for(
    identity: Identity,
    line: &[u8],
) -> Option<(Result<String, String>, Result<String, String>)> {
    let quick = without(identity, read(line, Properties::Read, identity)?);
    let general = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => without(identity, activity::from_object(&o)),
        Ok(_) => Err(format!("{:?}", Reject::NotAnObject)),
        Err(_) => Err("malformed".to_string()),
    };
    Some((quick, general))
}

fn lines_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            out.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            );
        }
    }
    out
}

#[test]
fn the_sample_tenants_records_take_the_fast_path_and_agree() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/insights-activity-logs");
    let lines = lines_under(&dir);
    assert!(lines.len() > 50, "{} lines", lines.len());
    for line in &lines {
        let quick = fast(line.as_bytes()).unwrap_or_else(|| panic!("general path for {line}"));
        assert_eq!(quick, general(line.as_bytes()), "{line}");
    }
}

/// Microsoft's JSON Lines record (activity-log.md, Storage tab), `eventProperties` nested.
const MICROSOFT: &str = r#"{ "time": "2020-06-12T13:07:46.766Z", "resourceId": "/SUBSCRIPTIONS/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e/RESOURCEGROUPS/MY-RESOURCE-GROUP/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/MV-VM-01", "correlationId": "bbbb1111-cc22-3333-44dd-555555eeeeee", "operationName": "Microsoft.Resourcehealth/healthevent/Updated/action", "level": "Information", "resultType": "Updated", "category": "ResourceHealth", "properties": {"eventCategory":"ResourceHealth","eventProperties":{"title":"This virtual machine is starting as requested by an authorized user or process. It will be online shortly.","details":"VirtualMachineStartInitiatedByControlPlane","currentHealthStatus":"Unknown","previousHealthStatus":"Unknown","type":"Downtime","cause":"UserInitiated"}}}"#;

#[test]
fn microsofts_example_takes_the_fast_path_and_agrees() {
    let quick = fast(MICROSOFT.as_bytes()).expect("fast path");
    assert!(
        quick
            .as_ref()
            .unwrap()
            .contains("VirtualMachineStartInitiatedByControlPlane")
    );
    assert_eq!(quick, general(MICROSOFT.as_bytes()));
}

#[test]
fn unusual_lines_go_to_the_general_path() {
    let base = r#"{"time":"2026-11-03T19:00:00Z","operationName":"Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action","resourceId":"/subscriptions/s/resourceGroups/r"#;
    for line in [
        // A key the general path reads, in another case.
        format!(r#"{base}","ResourceId":"x"}}"#),
        // A key twice (the general path keeps the last).
        format!(r#"{base}","resultType":"Start","resultType":"Success"}}"#),
        // A number where a string is read.
        format!(r#"{base}","resultType":200}}"#),
        // identity and properties held as JSON strings.
        format!(r#"{base}","identity":"{{\"claims\":{{\"upn\":\"a@b.c\"}}}}"}}"#),
        format!(r#"{base}","properties":"{{\"eventCategory\":\"Policy\"}}"}}"#),
        // Another shape's marker.
        format!(r#"{base}","eventDataId":"e1"}}"#),
        // A claim spelt in another case.
        format!(r#"{base}","identity":{{"claims":{{"UPN":"a@b.c"}}}}}}"#),
        // Malformed: cut short, trailing text.
        format!(r#"{base}","level":"#),
        format!(r#"{base}"}} x"#),
        // No time.
        r#"{"operationName":"x/y/write"}"#.to_string(),
    ] {
        assert_eq!(fast(line.as_bytes()), None, "{line}");
    }
    // A raw control character in a string, which serde_json refuses.
    let control = format!("{base}\",\"location\":\"a\u{1}b\"}}");
    assert_eq!(fast(control.as_bytes()), None);
    assert_eq!(general(control.as_bytes()), Err("malformed".to_string()));
    // A lone surrogate in a value nobody reads does not cost the record; in a value that
    // is read, it is the general path's (which reads it as U+FFFD).
    let plain = format!(r#"{base}/providers/x","resultType":"Success"}}"#);
    let plain = fast(plain.as_bytes()).expect("the plain line");
    for unread in [
        r#""\ud800""#,
        r#""a\udc00b""#,
        "1e300",
        "-0.5E-3",
        r#"{"k\u0065y":[1,{"\"":null}]}"#,
    ] {
        let line = format!(r#"{base}/providers/x","resultType":"Success","location":{unread}}}"#);
        assert_eq!(fast(line.as_bytes()), Some(plain.clone()), "{line}");
    }
    // An authorization the fast path gives up reading (a key spelt in another case) is
    // passed over when the caller kind is not kept, and every other column is as the
    // general path has it.
    let odd = format!(
        r#"{base}/providers/x","identity":{{"authorization":{{"Evidence":{{}}}},"claims":{{"upn":"a@b.c"}}}}}}"#
    );
    assert_eq!(fast(odd.as_bytes()), None);
    let (quick, slow) = fast_and_general_but_for(Identity::Claims, odd.as_bytes()).unwrap();
    assert!(quick.as_ref().unwrap().contains("a@b.c"));
    assert_eq!(quick, slow);
    // It is still checked to be JSON.
    let broken = format!(r#"{base}/providers/x","identity":{{"authorization":{{"a":x}}}}}}"#);
    assert_eq!(
        fast_and_general_but_for(Identity::Claims, broken.as_bytes()),
        None
    );
    // An identity passed over whole: claims the fast path gives up reading (a claim twice)
    // do not send the line to the general path, and neither they nor the claims that stand
    // in for an absent caller and address are read; the record's own caller still is.
    let twice = format!(
        r#"{base}/providers/x","caller":"c@d.e","identity":{{"claims":{{"upn":"a@b.c","upn":"a@b.c","ipaddr":"10.0.0.9"}}}}}}"#
    );
    assert_eq!(fast(twice.as_bytes()), None);
    let passed = read(twice.as_bytes(), Properties::Read, Identity::PassOver)
        .expect("taken")
        .expect("made");
    assert_eq!(passed.caller.as_deref(), Some("c@d.e"));
    assert_eq!((passed.caller_ip, passed.object_id), (None, None));
    let (quick, slow) = fast_and_general_but_for(Identity::PassOver, twice.as_bytes()).unwrap();
    assert_eq!(quick, slow);
    for (what, identity) in [
        ("broken", r#"{"claims":{"upn":x}}"#),
        ("not an object", r#""a@b.c""#),
        ("cut short", r#"{"claims":{"upn":"a@b.c"}"#),
    ] {
        let line = format!(r#"{base}/providers/x","identity":{identity}}}"#);
        assert_eq!(
            read(line.as_bytes(), Properties::Read, Identity::PassOver).map(|r| r.is_ok()),
            None,
            "{what}"
        );
    }
    // A number out of range is the general path's wherever it is, which refuses the record
    // whether or not anything reads that value.
    let huge = format!(r#"{base}/providers/x","location":1e400}}"#);
    assert_eq!(fast(huge.as_bytes()), None);
    assert_eq!(general(huge.as_bytes()), Err("malformed".to_string()));
    let read = format!(r#"{base}","caller":"\ud800"}}"#);
    assert_eq!(fast(read.as_bytes()), None);
    // Not UTF-8 (Latin-1 in a value): the general path reports it as malformed.
    let latin1 = [base.as_bytes(), b"\",\"caller\":\"J\xf6rg\"}"].concat();
    assert_eq!(fast(&latin1), None);
    assert_eq!(general(&latin1), Err("malformed".to_string()));
}

/// A line is read the same whatever line came before it: keys at the same places, in
/// another order, spelt with spaces, spelt in another case where the last line had them
/// in the usual one.
#[test]
fn the_keys_of_the_last_line_change_nothing() {
    let usual = r#"{"time":"2026-11-03T19:00:00Z","resourceId":"/subscriptions/s/resourceGroups/r/providers/x","operationName":"a/b/write","identity":{"claims":{"upn":"a@b.c","ipaddr":"10.0.0.1"}},"level":"Information"}"#;
    let lines = [
        usual.to_string(),
        usual.replace("a@b.c", "d@e.f"),
        r#"{"operationName":"a/b/write","time":"2026-11-03T19:00:00Z","identity":{"claims":{"ipaddr":"10.0.0.2","upn":"x@y.z"}}}"#.to_string(),
        usual.replace(r#""level":"#, r#""level" :"#),
        usual.replace(r#""level":"#, r#""Level":"#),
        usual.replace(r#""ipaddr":"#, r#""IPADDR":"#),
        usual.replace(r#""upn":"a@b.c","#, ""),
        usual.replace(r#""level":"Information""#, r#""level":"Information","durationMs":0"#),
        usual.replace(r#""resourceId":"#, r#""resourceIdx":"#),
        usual.replace(r#""time":"#, r#""time\u0020":"#),
    ];
    for first in &lines {
        for second in &lines {
            for (properties, identity) in [
                (Properties::Read, Identity::Read),
                (Properties::PassOver, Identity::Claims),
                (Properties::PassOver, Identity::PassOver),
            ] {
                let alone = read(second.as_bytes(), properties, identity)
                    .map(|r| r.map(|e| format!("{e:?}")).map_err(|r| format!("{r:?}")));
                let after = fast_after(first.as_bytes(), second.as_bytes(), properties, identity);
                assert_eq!(after, alone, "{second} after {first}");
            }
        }
    }
    // The case-changed spellings are the general path's, however often the usual ones
    // came before.
    assert_eq!(
        fast_after(
            usual.as_bytes(),
            lines[4].as_bytes(),
            Properties::Read,
            Identity::Read
        ),
        None
    );
    assert_eq!(
        fast_after(
            usual.as_bytes(),
            lines[5].as_bytes(),
            Properties::Read,
            Identity::Read
        ),
        None
    );
}

/// A record made of keys from the ones both paths read (in their usual and other cases,
/// twice at times) and awkward values.
fn record() -> impl Strategy<Value = String> {
    // The keys both paths read, then others, some in another case.
    let others = [
        "durationMs",
        "Level",
        "CALLER",
        "eventDataId",
        "TimeGenerated",
        "claims",
        "location",
    ];
    let keys = prop::sample::select(
        super::TOP
            .iter()
            .chain(&others)
            .copied()
            .collect::<Vec<_>>(),
    );
    let text = prop::sample::select(vec![
        r#""2026-11-03T19:00:00Z""#,
        r#""  padded  ""#,
        r#""""#,
        "null",
        "7",
        "true",
        r#""esc\u0061ped \"q\" \\ \/""#,
        r#""Write""#,
        r#""x@contoso.com""#,
        r#"{"value":"v","localizedValue":"l"}"#,
        r#"["a","b"]"#,
        r#""not a time""#,
        r#""/SUBSCRIPTIONS/AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM""#,
    ]);
    let properties = prop::sample::select(vec![
        r#"{"eventCategory":"Policy","eventDataId":"e-1","a":[1,{"b":null}]}"#,
        r#"{"eventProperties":{"Justification":"x","eventCategory":"Inner"},"entity":"e"}"#,
        r#"{"EventProperties":"{\"User\":\"u\"}"}"#,
        r#"{}"#,
    ]);
    let identity = prop::sample::select(vec![
        r#"{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":" bob@contoso.com ","oid":"1","idtyp":"app","appid":"a"}}"#,
        r#"{"authorization":{"evidence":{"principalType":"ServicePrincipal","role":"Owner"}},"claims":{"azp":"z","upn":"","ipaddr":"10.0.0.1"}}"#,
        r#"{"claims":{"Oid":"x"}}"#,
        r#"{"claims":null,"authorization":{"evidence":null}}"#,
        r#"{"claims":{"groups":["g1","g2"],"oid":"o","oid":"p"}}"#,
    ]);
    let value = prop_oneof![4 => text, 1 => properties, 1 => identity];
    prop::collection::vec((keys, value), 0..14).prop_map(|fields| {
        let body = fields
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect::<Vec<_>>()
            .join(",");
        format!(r#"{{"time":"2026-11-03T19:00:00Z","operationName":"Microsoft.Network/networkSecurityGroups/write",{body}}}"#)
            .replace(",}", "}")
    })
}

/// A line changed in one place: a byte dropped, a JSON-significant byte put in, or the line
/// cut short.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/insights-activity-logs");
    let mut lines = lines_under(&dir);
    lines.push(MICROSOFT.to_string());
    let bytes = prop::sample::select(
        br#""\/{}[],:-+.0123456789eEtfnu ab"#
            .iter()
            .copied()
            .chain([b'\t', 0x01, 0xc3])
            .collect::<Vec<u8>>(),
    );
    (
        prop::sample::select(lines),
        any::<prop::sample::Index>(),
        0..3u8,
        bytes,
    )
        .prop_map(|(line, at, how, byte)| {
            let mut line = line.into_bytes();
            let i = at.index(line.len());
            match how {
                0 => {
                    line.remove(i);
                }
                1 => line.insert(i, byte),
                _ => line.truncate(i),
            }
            line
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The scanner takes a changed line only if it is JSON (serde_json passes over it),
    /// and then reads it as the general path does, whether or not it reads the properties.
    #[test]
    fn the_scanner_accepts_nothing_serde_json_refuses(line in mutated()) {
        let whole = read(&line, Properties::Read, Identity::Read).is_some();
        prop_assert_eq!(whole, read(&line, Properties::PassOver, Identity::Read).is_some());
        prop_assert_eq!(whole, read(&line, Properties::ReadForJit, Identity::Read).is_some());
        if let Some(quick) = fast(&line) {
            prop_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok());
            prop_assert_eq!(quick, general(&line), "{}", String::from_utf8_lossy(&line));
        }
        // Passing over the principal type, or the whole identity, takes every line reading
        // it takes (and maybe more), and makes the general path's row but for what it leaves
        // unread.
        for identity in [Identity::Claims, Identity::PassOver] {
            let passed = fast_and_general_but_for(identity, &line);
            prop_assert!(passed.is_some() || !whole);
            if let Some((quick, general)) = passed {
                prop_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok());
                prop_assert_eq!(quick, general, "{}", String::from_utf8_lossy(&line));
            }
        }
    }

    /// A changed line read after another (whose keys the reader then holds) is read as
    /// on its own.
    #[test]
    fn a_line_is_read_the_same_after_any_other(first in mutated(), second in mutated()) {
        for (properties, identity) in
            [
                (Properties::Read, Identity::Read),
                (Properties::PassOver, Identity::Claims),
                (Properties::PassOver, Identity::PassOver),
            ]
        {
            let alone = read(&second, properties, identity)
                .map(|r| r.map(|e| format!("{e:?}")).map_err(|r| format!("{r:?}")));
            let after = fast_after(&first, &second, properties, identity);
            prop_assert_eq!(after, alone, "{}", String::from_utf8_lossy(&second));
        }
    }

    #[test]
    fn a_record_is_read_the_same_after_any_other(first in record(), second in record()) {
        let alone = fast(second.as_bytes());
        let after = fast_after(first.as_bytes(), second.as_bytes(), Properties::Read, Identity::Read);
        prop_assert_eq!(after, alone, "{}", second);
    }

    #[test]
    fn both_paths_make_the_same_row(line in record()) {
        if let Some(quick) = fast(line.as_bytes()) {
            prop_assert_eq!(quick, general(line.as_bytes()), "{}", line);
        }
        for identity in [Identity::Claims, Identity::PassOver] {
            if let Some((quick, general)) = fast_and_general_but_for(identity, line.as_bytes()) {
                prop_assert_eq!(quick, general, "{}", line);
            }
        }
    }
}

/// Operations made of pieces of the JIT words, in any case.
fn operation() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "jitNetworkAccessPolicies",
        "JITNETWORKACCESSPOLICIES",
        "jitNetworkAccessPolicie",
        "networkSecurityGroups",
        "NetworkSecurityGroup",
        "nnetworksecuritygroupss",
        "Microsoft.Network/",
        "/write",
        "n",
        "J",
        "é",
    ]);
    prop::collection::vec(pieces, 0..6).prop_map(|p| p.concat())
}

proptest! {
    #[test]
    fn concerns_jit_finds_the_words_wherever_they_are(op in operation()) {
        let naive = crate::sources::fast::prefilter::JIT_WORDS.iter().any(|w| {
            op.as_bytes().windows(w.len()).any(|part| part.eq_ignore_ascii_case(w.as_bytes()))
        });
        prop_assert_eq!(super::concerns_jit(&op), naive);
    }
}

/// A load read for the de-duplication key passes over the fields that make only columns of
/// their own (`Fields::keeping`): the key's columns are the general path's, those fields are
/// absent whatever their values, and a field passed over is still checked to be JSON and
/// given once.
#[test]
fn fields_passed_over_leave_the_key_as_the_general_path_reads_it() {
    use crate::schema;
    fn read_key_only(line: &str) -> Option<Result<Event<'_>, Reject>> {
        let key_only = super::Fields::keeping(|c| {
            schema::EVENT_KEY.contains(&c) || c == schema::TIME || c == schema::SUBSCRIPTION_ID
        });
        assert_ne!(key_only, super::Fields::ALL);
        let mut ev = Event::default();
        let mut ids = crate::normalize::IdParts::default();
        let made = super::from_line(
            line.as_bytes(),
            &mut super::Layout::default(),
            Cached(&mut ids),
            Properties::PassOver,
            Identity::PassOver,
            key_only,
            &mut ev,
        )?;
        Some(made.map(|()| ev))
    }
    let key_of = |e: &Event<'_>| {
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            e.time, e.resource_id, e.operation_id, e.status, e.correlation_id, e.subscription_id
        )
    };
    let base = r#"{"time":"2026-11-03T19:00:00Z","resourceId":"/SUBSCRIPTIONS/S1/resourceGroups/r/providers/x","operationName":"A/B/write","resultType":"Succeeded","correlationId":"c-1""#;
    for others in [
        r#","category":"Write","resultSignature":"Succeeded.","caller":"a@b.c","callerIpAddress":"10.0.0.1","level":"Information","resultDescription":"d""#,
        // Values of other types than the string the general path reads there.
        r#","level":5,"caller":{"upn":["a@b.c"]},"category":null,"resultDescription":true"#,
    ] {
        let line = format!("{base}{others}}}");
        let event = read_key_only(&line).expect("taken").expect("made");
        let general = match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(o)) => activity::from_object(&o).expect("made"),
            other => panic!("{other:?}"),
        };
        assert_eq!(key_of(&event), key_of(&general), "{line}");
        let unread = [
            &event.caller,
            &event.caller_ip,
            &event.level,
            &event.description,
        ];
        assert!(unread.iter().all(|v| v.is_none()), "{line}");
        assert_eq!(event.sub_status, None, "{line}");
    }
    // Malformed where nothing reads, or a key given twice: the general path's to refuse.
    for others in [
        r#","level":tru"#,
        r#","level":"a","level":"b""#,
        r#","caller":{"x":}"#,
    ] {
        let line = format!("{base}{others}}}");
        assert!(read_key_only(&line).is_none(), "{line}");
    }
    let broken = format!("{base},\"level\":tru}}");
    assert_eq!(general(broken.as_bytes()), Err("malformed".to_string()));
}
