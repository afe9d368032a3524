//! The common JSON Lines record read without a `serde_json::Value` for the whole of it: a
//! diagnostic-settings record (the `records` schema of storage and Event Hubs exports) with its
//! keys spelt as Azure writes them. The top level, `identity`, its `claims` and its
//! `authorization` are walked by visitors that borrow strings from the line and skip, still
//! checking the JSON, what no column needs; only `properties` becomes a value, because the
//! `properties` column keeps it whole.
//!
//! Anything unusual gives up: a key the general path reads spelt in another case, a key twice,
//! a value of another type than a string where one is read, a key that marks another shape,
//! malformed JSON. The line is then read by the general path ([`super::activity::from_object`]),
//! which reports what is wrong with it, so which path read a record never changes its row; a
//! test holds the two paths to the same rows.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::activity::{APPID_CLAIMS, Claims, OID_CLAIMS, RecordFields, UPN_CLAIMS};

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

/// Reads one JSON Lines record, or `None` when the line is not the plain case (the general
/// path then reads it). Without `properties`, an object there is still checked to be JSON but
/// its contents are passed over and it is read as empty: for a table that keeps none of the
/// columns made from them (whether each of those has a value does not depend on them).
pub fn parse(line: &[u8], properties: bool) -> Option<(RecordFields, Claims, Option<String>)> {
    // The line is checked to be UTF-8 once, whole (fast for ASCII), so that the strings
    // borrowed from it are not checked again one by one; a line that is not UTF-8 is the
    // general path's to report.
    let text = std::str::from_utf8(line).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let record = de.deserialize_map(RecordVisitor { properties }).ok()?;
    de.end().ok()?;
    let time = record.text[0].as_ref()?;
    let operation = record.text[2].as_ref()?;
    // Without a time or an operation the general path has its own reasons to give.
    if time.is_empty() || operation.is_empty() {
        return None;
    }
    let [
        time,
        resource_id,
        operation_id,
        category,
        status,
        sub_status,
        caller,
        caller_ip,
        correlation_id,
        level,
        description,
    ] = record
        .text
        .map(|t| t.filter(|s| !s.is_empty()).map(Cow::into_owned));
    let fields = RecordFields {
        time_raw: time,
        resource_id,
        operation_id,
        category,
        status,
        sub_status,
        caller,
        caller_ip,
        correlation_id,
        level,
        description,
        properties: record.properties,
    };
    let claim = |keys: std::ops::Range<usize>| {
        keys.into_iter()
            .find_map(|i| record.claims[i].clone().filter(|s| !s.is_empty()))
            .map(Cow::into_owned)
    };
    let claims = Claims {
        upn: claim(0..2),
        oid: claim(2..4),
        app_id: claim(4..6),
        ipaddr: claim(6..7),
        idtyp: claim(7..8),
    };
    let principal_type = record
        .principal_type
        .filter(|s| !s.is_empty())
        .map(Cow::into_owned);
    Some((fields, claims, principal_type))
}

/// What the visitors found; strings trimmed, `None` for absent or null.
#[derive(Default)]
struct Record<'a> {
    /// The first eleven of [`TOP`], in its order.
    text: [Option<Cow<'a, str>>; 11],
    properties: Option<Map<String, Value>>,
    claims: [Option<Cow<'a, str>>; 8],
    principal_type: Option<Cow<'a, str>>,
}

/// Not the plain case: the general path reads the line.
fn unusual<E: de::Error>() -> E {
    E::custom("not the plain record shape")
}

/// The index of `key` in `known`, or an error when a key of `known` or `also` is spelt in
/// another case; `Ok(None)` for a key nobody reads.
fn lookup<E: de::Error>(key: &str, known: &[&str], also: &[&str]) -> Result<Option<usize>, E> {
    if let Some(i) = known.iter().position(|k| *k == key) {
        return Ok(Some(i));
    }
    if known
        .iter()
        .chain(also)
        .any(|k| k.eq_ignore_ascii_case(key))
    {
        return Err(unusual());
    }
    Ok(None)
}

/// Marks key `i` as seen, or fails when it was seen before.
fn first_time<E: de::Error>(seen: &mut u32, i: usize) -> Result<(), E> {
    if *seen & (1 << i) != 0 {
        return Err(unusual());
    }
    *seen |= 1 << i;
    Ok(())
}

/// A key, borrowed from the line when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
            .and_then(|t| t.map(Key).ok_or_else(unusual))
    }
}

/// A string or null, trimmed; any other value is unusual.
struct Text<'a>(Option<Cow<'a, str>>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor).map(|t| Text(t.map(trim)))
    }
}

fn trim(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) if o.trim().len() == o.len() => Cow::Owned(o),
        Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or null")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Null or a map walked by `seed`; anything else is unusual.
struct MapOrNull<S>(S);

impl<'de, S: Visitor<'de>> DeserializeSeed<'de> for MapOrNull<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(MapOrNullVisitor(self.0))
    }
}

struct MapOrNullVisitor<S>(S);

impl<'de, S: Visitor<'de>> Visitor<'de> for MapOrNullVisitor<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map).map(Some)
    }
}

struct RecordVisitor {
    /// Read `properties` whole, or only check it (see [`parse`]).
    properties: bool,
}

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Activity Log record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut r = Record::default();
        let mut seen = 0u32;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let Some(i) = lookup(&key, &TOP, &OTHER_SHAPES)? else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            first_time(&mut seen, i)?;
            match TOP[i] {
                "properties" if self.properties => {
                    r.properties = match map.next_value::<Value>()? {
                        Value::Object(o) => Some(o),
                        Value::Null => None,
                        _ => return Err(unusual()),
                    }
                }
                "properties" => {
                    r.properties = map
                        .next_value_seed(MapOrNull(PassOver))?
                        .map(|()| Map::new());
                }
                "identity" => {
                    if let Some(identity) = map.next_value_seed(MapOrNull(IdentityVisitor))? {
                        (r.claims, r.principal_type) = identity;
                    }
                }
                _ => r.text[i] = map.next_value::<Text>()?.0,
            }
        }
        Ok(r)
    }
}

/// An object whose entries are checked to be JSON and otherwise passed over.
struct PassOver;

impl<'de> Visitor<'de> for PassOver {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

type Identity<'a> = ([Option<Cow<'a, str>>; 8], Option<Cow<'a, str>>);

struct IdentityVisitor;

impl<'de> Visitor<'de> for IdentityVisitor {
    type Value = Identity<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an identity object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Identity = Default::default();
        let mut seen = 0u32;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match lookup(&key, &["claims", "authorization"], &[])? {
                Some(i) => first_time(&mut seen, i)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            }
            if key == "claims" {
                if let Some(claims) = map.next_value_seed(MapOrNull(ClaimsVisitor))? {
                    out.0 = claims;
                }
            } else {
                out.1 = map
                    .next_value_seed(MapOrNull(TextAt(&["evidence", "principalType"])))?
                    .flatten();
            }
        }
        Ok(out)
    }
}

struct ClaimsVisitor;

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = [Option<Cow<'de, str>>; 8];

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a claims object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Self::Value = Default::default();
        let mut seen = 0u32;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match lookup(&key, &CLAIMS, &[])? {
                Some(i) => {
                    first_time(&mut seen, i)?;
                    out[i] = map.next_value::<Text>()?.0;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// The text at a path of keys through nested maps (`evidence.principalType` of an
/// `authorization`); the other keys on the way are skipped.
#[derive(Clone, Copy)]
struct TextAt(&'static [&'static str]);

impl<'de> Visitor<'de> for TextAt {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with {}", self.0.join("."))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some((first, rest)) = self.0.split_first() else {
            return Err(unusual());
        };
        let mut out = None;
        let mut seen = 0u32;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            if lookup(&key, &[*first], &[])?.is_none() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            first_time(&mut seen, 0)?;
            out = if rest.is_empty() {
                map.next_value::<Text>()?.0
            } else {
                map.next_value_seed(MapOrNull(TextAt(rest)))?.flatten()
            };
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;
    use serde_json::Value;

    use crate::sources::activity::{self, Reject};

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

    /// The fast path's answer, when it takes the line.
    fn fast(line: &[u8]) -> Option<Result<String, String>> {
        activity::from_line(line, true)
            .map(|r| r.map(|e| format!("{e:?}")).map_err(|r| format!("{r:?}")))
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
        // Not UTF-8 (Latin-1 in a value): the general path reports it as malformed.
        let latin1 = [base.as_bytes(), b"\",\"caller\":\"J\xf6rg\"}"].concat();
        assert_eq!(fast(&latin1), None);
        assert_eq!(general(&latin1), Err("malformed".to_string()));
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

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn both_paths_make_the_same_row(line in record()) {
            if let Some(quick) = fast(line.as_bytes()) {
                prop_assert_eq!(quick, general(line.as_bytes()), "{}", line);
            }
        }
    }
}
