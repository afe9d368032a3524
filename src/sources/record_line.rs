//! The common JSON Lines record read without serde: a diagnostic-settings record (the
//! `records` schema of storage and Event Hubs exports) with its keys spelt as Azure writes
//! them. A small scanner walks the line once: the top level, `identity`, its `claims` and its
//! `authorization` are read for the keys a column needs, with strings borrowed from the line;
//! everything else is passed over, still checked to be JSON. Only `properties` becomes a
//! `serde_json` value, because the `properties` column keeps it whole.
//!
//! The scanner takes only what it is sure of and gives up on anything unusual: a key the
//! general path reads spelt in another case, a key twice, a value of another type than a
//! string where one is read, a key that marks another shape, an escaped key where keys are
//! read (not in a value passed over), a control character, a number out of an `f64`'s range
//! (wherever it is), malformed JSON. The line is then read by the general path
//! ([`super::activity::from_object`]) through `serde_json`, which reports what is wrong with
//! it, so which path read a record never changes its row, nor whether it is refused; tests
//! hold the two paths to the same rows. What nobody reads is checked as `serde_json` checks
//! what it passes over: a lone surrogate escape there does not cost the record. The general
//! path, which builds a value of the whole record, reads a lone surrogate as U+FFFD and notes
//! it (`json::parse_lenient`), and refuses a number out of range, which Azure does not write.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::activity::{APPID_CLAIMS, Claims, Event, OID_CLAIMS, RecordFields, UPN_CLAIMS};
use super::line_scanner::Scanner;

/// The top-level keys the general path reads from a record, in the spelling of the fast one.
const TOP: [&str; 13] = [
    "time",
    "resourceId",
    "operationName",
    "category",
    "resultType",
    "resultSignature",
    "caller",
    "callerIpAddress",
    "correlationId",
    "level",
    "resultDescription",
    "properties",
    "identity",
];
const PROPERTIES: usize = 11;
const IDENTITY: usize = 12;

/// Keys by which the general path tells another shape (REST, Log Analytics) or reads more.
const OTHER_SHAPES: [&str; 7] = [
    "OperationNameValue",
    "TimeGenerated",
    "ActivityStatusValue",
    "eventTimestamp",
    "eventDataId",
    "claims",
    "authorization",
];

/// The claims the general path reads ([`super::activity::Claims`]), in its order: two
/// spellings each of the UPN, object id and app id, then `ipaddr` and `idtyp`.
const CLAIMS: [&str; 8] = [
    UPN_CLAIMS[0],
    UPN_CLAIMS[1],
    OID_CLAIMS[0],
    OID_CLAIMS[1],
    APPID_CLAIMS[0],
    APPID_CLAIMS[1],
    "ipaddr",
    "idtyp",
];
const _: () = assert!(UPN_CLAIMS.len() == 2 && OID_CLAIMS.len() == 2 && APPID_CLAIMS.len() == 2);

/// What to make of a record's `properties`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Properties {
    /// Read them whole.
    Read,
    /// Check them to be JSON, but pass over their contents and read them as empty: for a
    /// table that keeps none of the columns made from them (whether each of those has a value
    /// does not depend on them).
    PassOver,
    /// Read them for the records of JIT policies and network security groups (and those whose
    /// operation comes after them in the line), pass over them for the others: for a lean
    /// table (see `TableBuilder::lean`).
    ReadForJit,
}

/// Whether an operation is of JIT policies or network security groups, in any case.
pub fn concerns_jit(operation: &str) -> bool {
    super::prefilter::JIT_WORDS.iter().any(|w| {
        (operation.as_bytes().windows(w.len())).any(|part| part.eq_ignore_ascii_case(w.as_bytes()))
    })
}

/// Reads one JSON Lines record, or `None` when the line is not the plain case (the general
/// path then reads it).
///
/// With `principal_type` false, `identity.authorization` is passed over (still checked to be
/// JSON) and the principal type read as absent: it decides only the value of `caller_kind`,
/// which every row has, so a table that does not keep that column need not read it (and the
/// count of values a row would have, by which de-duplication keeps the richer copy, is the
/// same).
///
/// The record is read into `ev`, a default event, which is left as it was when the answer is
/// `None`.
#[inline]
pub fn parse<'a>(
    line: &'a [u8],
    layout: &mut Layout,
    properties: Properties,
    principal_type: bool,
    ev: &mut Event<'a>,
) -> Option<()> {
    let mut record = Record::default();
    Scanner::new(line)?.record(&mut record, layout, properties, principal_type)?;
    let [time, operation] = [&record.text[0], &record.text[2]];
    // Without a time or an operation the general path has its own reasons to give.
    if time.as_deref().is_none_or(str::is_empty) || operation.as_deref().is_none_or(str::is_empty) {
        return None;
    }
    let mut text = |i: usize| std::mem::take(&mut record.text[i]).filter(|s| !s.is_empty());
    let fields = RecordFields {
        time_raw: text(0),
        resource_id: text(1),
        operation_id: text(2),
        category: text(3),
        status: text(4),
        sub_status: text(5),
        caller: text(6),
        caller_ip: text(7),
        correlation_id: text(8),
        level: text(9),
        description: text(10),
        properties: record.properties.take(),
    };
    let mut claim = |keys: std::ops::Range<usize>| {
        keys.into_iter()
            .find_map(|i| std::mem::take(&mut record.claims[i]).filter(|s| !s.is_empty()))
    };
    let claims = Claims {
        upn: claim(0..2),
        oid: claim(2..4),
        app_id: claim(4..6),
        ipaddr: claim(6..7),
        idtyp: claim(7..8),
    };
    let principal_type = record.principal_type.take().filter(|s| !s.is_empty());
    super::activity::fill_from_record_fields(ev, fields, claims, principal_type);
    Some(())
}

/// What the scanner found; strings trimmed, `None` for absent or null.
#[derive(Default)]
struct Record<'a> {
    /// The first eleven of [`TOP`], in its order.
    text: [Option<Cow<'a, str>>; 11],
    properties: Option<Map<String, Value>>,
    claims: [Option<Cow<'a, str>>; 8],
    principal_type: Option<Cow<'a, str>>,
}

/// The index of `key` in `known`; `Some(None)` for a key nobody reads, and `None` (give up)
/// for a key of `known` or `also` spelt in another case.
fn lookup(key: &str, known: &[&str], also: &[&str]) -> Option<Option<usize>> {
    if let Some(i) = known.iter().position(|k| *k == key) {
        return Some(Some(i));
    }
    let other_case = known
        .iter()
        .chain(also)
        .any(|k| k.len() == key.len() && k.eq_ignore_ascii_case(key));
    (!other_case).then_some(None)
}

/// The keys of the objects the fast path reads (the record, its `identity`, the claims), as
/// the last line had them. Azure writes the records of an export with the same keys in the
/// same order, so the key at each place is first compared, byte for byte from its opening
/// quote to its colon, with the one at that place in the last line, and read and looked up
/// only when they differ. Bytes the same are the same key (one without escapes, those give
/// up), so the lookup's answer is the same.
#[derive(Default)]
pub struct Layout {
    top: Vec<Spelt>,
    identity: Vec<Spelt>,
    claims: Vec<Spelt>,
}

/// A key as written, from its opening quote to its colon, and what [`lookup`] said of it.
struct Spelt {
    bytes: Box<[u8]>,
    /// The first sixteen bytes (zeros past the end) and a mask of those that are the key's:
    /// most keys are compared in one step, without a call to `memcmp`.
    head: u128,
    mask: u128,
    index: Option<usize>,
}

impl Spelt {
    fn new(bytes: &[u8], index: Option<usize>) -> Spelt {
        let mut head = [0u8; 16];
        let n = bytes.len().min(16);
        head[..n].copy_from_slice(&bytes[..n]);
        Spelt {
            bytes: bytes.into(),
            head: u128::from_le_bytes(head),
            mask: u128::MAX >> (8 * (16 - n)),
            index,
        }
    }

    /// Whether `rest` begins with this key.
    #[inline(always)]
    fn begins(&self, rest: &[u8]) -> bool {
        match rest.first_chunk::<16>() {
            Some(head) => {
                (u128::from_le_bytes(*head) ^ self.head) & self.mask == 0
                    && (self.bytes.len() <= 16 || rest[16..].starts_with(&self.bytes[16..]))
            }
            None => rest.starts_with(&self.bytes),
        }
    }
}

/// Marks key `i` as seen; `None` (give up) when it was seen before.
fn first_time(seen: &mut u32, i: usize) -> Option<()> {
    if *seen & (1 << i) != 0 {
        return None;
    }
    *seen |= 1 << i;
    Some(())
}

impl<'a> Scanner<'a> {
    /// Null, or an object whose keys are looked up in `known` (see [`lookup`]), the keys at
    /// each place as the last line had them first (`layout`): `entry` is given the index of
    /// each key of `known` with the cursor on its value, and the other values are passed over.
    fn known_entries(
        &mut self,
        layout: &mut Vec<Spelt>,
        known: &[&str],
        also: &[&str],
        mut entry: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<bool> {
        self.entries(|s, place| {
            s.peek()?;
            let index = match layout.get(place) {
                Some(last) if last.begins(&s.bytes[s.pos..]) => {
                    s.pos += last.bytes.len();
                    last.index
                }
                _ => {
                    let start = s.pos;
                    let index = lookup(s.key()?, known, also)?;
                    let spelt = Spelt::new(&s.bytes[start..s.pos], index);
                    match layout.get_mut(place) {
                        Some(last) => *last = spelt,
                        None => layout.push(spelt),
                    }
                    index
                }
            };
            match index {
                Some(i) => entry(s, i),
                None => s.skip(),
            }
        })
    }

    /// The whole line as one record, with nothing after it.
    fn record(
        mut self,
        r: &mut Record<'a>,
        layout: &mut Layout,
        properties: Properties,
        principal_type: bool,
    ) -> Option<()> {
        let mut seen = 0u32;
        let Layout {
            top,
            identity,
            claims,
        } = layout;
        let is_object = self.known_entries(top, &TOP, &OTHER_SHAPES, |s, i| {
            first_time(&mut seen, i)?;
            match i {
                PROPERTIES => {
                    let keep = match properties {
                        Properties::Read => true,
                        Properties::PassOver => false,
                        Properties::ReadForJit => r.text[2].as_deref().is_none_or(concerns_jit),
                    };
                    r.properties = s.properties(keep)?;
                }
                IDENTITY => s.identity(r, identity, claims, principal_type)?,
                _ => r.text[i] = s.text()?,
            }
            Some(())
        })?;
        (is_object && self.pos == self.bytes.len()).then_some(())
    }

    /// `properties`: read whole when `keep`, else checked and read as empty.
    fn properties(&mut self, keep: bool) -> Option<Option<Map<String, Value>>> {
        self.peek()?;
        let start = self.pos;
        if !keep {
            return self.pass_over().map(|is_object| is_object.then(Map::new));
        }
        self.skip()?;
        match serde_json::from_str(&self.text[start..self.pos]).ok()? {
            Value::Object(o) => Some(Some(o)),
            Value::Null => Some(None),
            _ => None,
        }
    }

    /// Null or an object, checked to be JSON and passed over: whether it is an object.
    fn pass_over(&mut self) -> Option<bool> {
        match self.peek()? {
            b'{' => self.skip().map(|()| true),
            b'n' => self.literal(b"null").map(|()| false),
            _ => None,
        }
    }

    /// `identity`: the claims the general path reads and `authorization.evidence.principalType`
    /// (when `principal_type`; else `authorization` is passed over).
    fn identity(
        &mut self,
        r: &mut Record<'a>,
        layout: &mut Vec<Spelt>,
        claims: &mut Vec<Spelt>,
        principal_type: bool,
    ) -> Option<()> {
        let mut seen = 0u32;
        self.known_entries(layout, &["claims", "authorization"], &[], |s, i| {
            first_time(&mut seen, i)?;
            if i == 0 {
                let mut seen = 0u32;
                s.known_entries(claims, &CLAIMS, &[], |s, i| {
                    first_time(&mut seen, i)?;
                    r.claims[i] = s.text()?;
                    Some(())
                })?;
            } else if principal_type {
                r.principal_type = s.text_at(&["evidence", "principalType"])?;
            } else {
                s.pass_over()?;
            }
            Some(())
        })?;
        Some(())
    }

    /// Null or an object, and the text at a path of keys through nested objects
    /// (`evidence.principalType` of an `authorization`); the other keys are passed over.
    fn text_at(&mut self, path: &[&str]) -> Option<Option<Cow<'a, str>>> {
        let (first, rest) = path.split_first()?;
        let mut out = None;
        let mut seen = 0u32;
        self.object_or_null(|s, key| {
            if lookup(key, &[*first], &[])?.is_none() {
                return s.skip();
            }
            first_time(&mut seen, 0)?;
            out = if rest.is_empty() {
                s.text()?
            } else {
                s.text_at(rest)?
            };
            Some(())
        })?;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;
    use serde_json::Value;

    use super::Properties;
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
        principal_type: bool,
    ) -> Option<Result<Event<'_>, Reject>> {
        let mut ev = Event::default();
        let mut layout = super::Layout::default();
        match activity::from_line(line, &mut layout, properties, principal_type, &mut ev) {
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
        principal_type: bool,
    ) -> Option<Result<String, String>> {
        let mut layout = super::Layout::default();
        let mut ev = Event::default();
        activity::from_line(first, &mut layout, properties, principal_type, &mut ev);
        let mut ev = Event::default();
        activity::from_line(second, &mut layout, properties, principal_type, &mut ev).map(|made| {
            made.map(|()| format!("{ev:?}"))
                .map_err(|r| format!("{r:?}"))
        })
    }

    /// The fast path's answer, when it takes the line.
    fn fast(line: &[u8]) -> Option<Result<String, String>> {
        read(line, Properties::Read, true)
            .map(|r| r.map(|e| format!("{e:?}")).map_err(|r| format!("{r:?}")))
    }

    /// A row with its caller kind left out, but for whether it has one.
    fn without_caller_kind(row: Result<Event<'_>, Reject>) -> Result<String, String> {
        row.map(|mut e| {
            e.caller_kind = e.caller_kind.map(|_| "some kind");
            format!("{e:?}")
        })
        .map_err(|r| format!("{r:?}"))
    }

    /// The fast path's answer when it passes over the principal type, when it takes the line,
    /// and the general path's, both without the caller kind.
    fn fast_and_general_without_caller_kind(
        line: &[u8],
    ) -> Option<(Result<String, String>, Result<String, String>)> {
        let quick = without_caller_kind(read(line, Properties::Read, false)?);
        let general = match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(o)) => without_caller_kind(activity::from_object(&o)),
            Ok(_) => Err(format!("{:?}", Reject::NotAnObject)),
            Err(_) => Err("malformed".to_string()),
        };
        Some((quick, general))
    }

    fn lines_under(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "json")
            {
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
            let line =
                format!(r#"{base}/providers/x","resultType":"Success","location":{unread}}}"#);
            assert_eq!(fast(line.as_bytes()), Some(plain.clone()), "{line}");
        }
        // An authorization the fast path gives up reading (a key spelt in another case) is
        // passed over when the caller kind is not kept, and every other column is as the
        // general path has it.
        let odd = format!(
            r#"{base}/providers/x","identity":{{"authorization":{{"Evidence":{{}}}},"claims":{{"upn":"a@b.c"}}}}}}"#
        );
        assert_eq!(fast(odd.as_bytes()), None);
        let (quick, slow) = fast_and_general_without_caller_kind(odd.as_bytes()).unwrap();
        assert!(quick.as_ref().unwrap().contains("a@b.c"));
        assert_eq!(quick, slow);
        // It is still checked to be JSON.
        let broken = format!(r#"{base}/providers/x","identity":{{"authorization":{{"a":x}}}}}}"#);
        assert_eq!(
            fast_and_general_without_caller_kind(broken.as_bytes()),
            None
        );
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
                for (properties, principal_type) in
                    [(Properties::Read, true), (Properties::PassOver, false)]
                {
                    let alone = read(second.as_bytes(), properties, principal_type)
                        .map(|r| r.map(|e| format!("{e:?}")).map_err(|r| format!("{r:?}")));
                    let after = fast_after(
                        first.as_bytes(),
                        second.as_bytes(),
                        properties,
                        principal_type,
                    );
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
                true
            ),
            None
        );
        assert_eq!(
            fast_after(
                usual.as_bytes(),
                lines[5].as_bytes(),
                Properties::Read,
                true
            ),
            None
        );
    }

    /// A record made of keys from the ones both paths read (in their usual and other cases,
    /// twice at times) and awkward values.
    fn record() -> impl Strategy<Value = String> {
        let keys = prop::sample::select(vec![
            "time",
            "operationName",
            "resourceId",
            "category",
            "resultType",
            "resultSignature",
            "caller",
            "callerIpAddress",
            "correlationId",
            "level",
            "resultDescription",
            "properties",
            "identity",
            "durationMs",
            "Level",
            "CALLER",
            "eventDataId",
            "TimeGenerated",
            "claims",
            "location",
        ]);
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
            let whole = read(&line, Properties::Read, true).is_some();
            prop_assert_eq!(whole, read(&line, Properties::PassOver, true).is_some());
            prop_assert_eq!(whole, read(&line, Properties::ReadForJit, true).is_some());
            if let Some(quick) = fast(&line) {
                prop_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok());
                prop_assert_eq!(quick, general(&line), "{}", String::from_utf8_lossy(&line));
            }
            // Passing over the principal type takes every line reading it takes (and maybe
            // more), and makes the general path's row but for the caller kind's value.
            let passed = fast_and_general_without_caller_kind(&line);
            prop_assert!(passed.is_some() || !whole);
            if let Some((quick, general)) = passed {
                prop_assert!(serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok());
                prop_assert_eq!(quick, general, "{}", String::from_utf8_lossy(&line));
            }
        }

        /// A changed line read after another (whose keys the reader then holds) is read as
        /// on its own.
        #[test]
        fn a_line_is_read_the_same_after_any_other(first in mutated(), second in mutated()) {
            for (properties, principal_type) in
                [(Properties::Read, true), (Properties::PassOver, false)]
            {
                let alone = read(&second, properties, principal_type)
                    .map(|r| r.map(|e| format!("{e:?}")).map_err(|r| format!("{r:?}")));
                let after = fast_after(&first, &second, properties, principal_type);
                prop_assert_eq!(after, alone, "{}", String::from_utf8_lossy(&second));
            }
        }

        #[test]
        fn a_record_is_read_the_same_after_any_other(first in record(), second in record()) {
            let alone = fast(second.as_bytes());
            let after = fast_after(first.as_bytes(), second.as_bytes(), Properties::Read, true);
            prop_assert_eq!(after, alone, "{}", second);
        }

        #[test]
        fn both_paths_make_the_same_row(line in record()) {
            if let Some(quick) = fast(line.as_bytes()) {
                prop_assert_eq!(quick, general(line.as_bytes()), "{}", line);
            }
            if let Some((quick, general)) = fast_and_general_without_caller_kind(line.as_bytes()) {
                prop_assert_eq!(quick, general, "{}", line);
            }
        }
    }
}
