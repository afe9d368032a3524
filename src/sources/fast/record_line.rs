//! Why: the usual diagnostic-settings line is most of a large export; read without a JSON value (with the steps beside it), `query` over 1 GB went from 7.3-9.0 s to 5.5-6.5 s.
//! Plain twin: `serde_json` into `crate::sources::activity::from_object` (the general path).
//! Held equal by: `record_line/tests.rs` (`both_paths_make_the_same_row`, `the_sample_tenants_records_take_the_fast_path_and_agree`).
//!
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
//! ([`crate::sources::activity::from_object`]) through `serde_json`, which reports what is wrong with
//! it, so which path read a record never changes its row, nor whether it is refused; tests
//! hold the two paths to the same rows. What nobody reads is checked as `serde_json` checks
//! what it passes over: a lone surrogate escape there does not cost the record. The general
//! path, which builds a value of the whole record, reads a lone surrogate as U+FFFD and notes
//! it (`json::parse_lenient`), and refuses a number out of range, which Azure does not write.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::line_scanner::Scanner;
use crate::schema::{self, ops};
use crate::sources::activity::{
    APPID_CLAIMS, Claims, Event, OID_CLAIMS, RecordFields, Reject, ResourceParts, UPN_CLAIMS,
};

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

/// The claims the general path reads ([`crate::sources::activity::Claims`]), in its order: two
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
    /// does not depend on them). A JIT request's are read all the same, for the check of its
    /// ports.
    PassOver,
    /// Read them for the records of JIT policies and network security groups (and those whose
    /// operation comes after them in the line), pass over them for the others: for a lean
    /// table (see `TableBuilder::lean`).
    ReadForJit,
}

/// What to make of a record's `identity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Read the claims and `authorization.evidence.principalType`.
    Read,
    /// Read the claims; check `authorization` to be JSON, pass over its contents and read the
    /// principal type as absent. It decides only the value of `caller_kind`, which every row
    /// has, so a table that does not keep that column need not read it (and the count of
    /// values a row would have, by which de-duplication keeps the richer copy, is the same).
    Claims,
    /// Check it to be JSON, pass over its contents and read it as empty: for a table that
    /// keeps none of the columns made from it and does not count the values of those it does
    /// not keep (see `TableBuilder::without_counts`).
    PassOver,
}

/// The top-level fields of [`TOP`] that make no column but their own (and the event id's digest
/// and the counts of values not kept), with those columns.
const OWN_COLUMNS: [(usize, &[&str]); 6] = [
    (3, &[schema::CATEGORY]),
    (5, &[schema::SUB_STATUS]),
    (6, &[schema::CALLER, schema::CALLER_KIND]),
    (7, &[schema::CALLER_IP]),
    (9, &[schema::LEVEL]),
    (10, &[schema::DESCRIPTION]),
];

/// Which of a record's top-level fields are read; the others are checked to be JSON, passed
/// over and read as absent. For a table that keeps none of their columns, makes no event ids and
/// counts no values it does not keep (a load read for the de-duplication key): what `query`
/// over one column reads of a record is its time, resource, operation, status and correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields(u16);

impl Fields {
    pub const ALL: Fields = Fields(u16::MAX);

    /// Every field but those none of whose own columns `keeps` says yes to.
    pub fn keeping(keeps: impl Fn(&str) -> bool) -> Fields {
        let unread = (OWN_COLUMNS.iter())
            .filter(|(_, columns)| !columns.iter().any(|c| keeps(c)))
            .fold(0, |bits, (i, _)| bits | 1 << i);
        Fields(!unread)
    }

    fn reads(self, i: usize) -> bool {
        self.0 >> i & 1 == 1
    }
}

/// Whether an operation is of JIT policies, network security groups, role assignments or
/// Azure Firewalls ([`super::prefilter::JIT_WORDS`]), in any case.
pub fn concerns_jit(operation: &str) -> bool {
    let op = operation.as_bytes();
    super::prefilter::JIT_WORDS.iter().any(|w| {
        // A word is compared only where the operation has its first letter, in either case
        // (comparing at every place was 2% of `caller`, which asks twice per record).
        let w = w.as_bytes();
        memchr::memchr2_iter(w[0], w[0].to_ascii_uppercase(), op).any(|i| {
            op.get(i..i + w.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(w))
        })
    })
}

/// Reads one JSON Lines record, or `None` when the line is not the plain case (the general
/// path then reads it).
///
/// `properties` and `identity` say what of those objects is read, `fields` which other fields
/// (see [`Properties`], [`Identity`], [`Fields`]).
///
/// The record is read into `ev`, a default event, which is left as it was when the answer is
/// `None`.
#[inline]
pub fn parse<'a>(
    line: &'a [u8],
    layout: &mut Layout,
    properties: Properties,
    identity: Identity,
    fields: Fields,
    ev: &mut Event<'a>,
) -> Option<()> {
    let mut record = Record::default();
    Scanner::new(line)?.record(&mut record, layout, (properties, identity, fields))?;
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
    crate::sources::activity::fill_from_record_fields(ev, fields, claims, principal_type);
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
                None => s.pass_value(),
            }
        })
    }

    /// The whole line as one record, with nothing after it.
    fn record(
        mut self,
        r: &mut Record<'a>,
        layout: &mut Layout,
        (properties, identity, fields): (Properties, Identity, Fields),
    ) -> Option<()> {
        let mut seen = 0u32;
        let Layout {
            top,
            identity: identity_keys,
            claims,
        } = layout;
        let is_object = self.known_entries(top, &TOP, &OTHER_SHAPES, |s, i| {
            first_time(&mut seen, i)?;
            match i {
                PROPERTIES => {
                    let keep = match properties {
                        Properties::Read => true,
                        // A JIT request's ports are checked whichever columns are kept
                        // (see `activity::complete_with`): its properties are read.
                        Properties::PassOver => r.text[2]
                            .as_deref()
                            .is_none_or(|op| op.eq_ignore_ascii_case(ops::JIT_INITIATE)),
                        Properties::ReadForJit => r.text[2].as_deref().is_none_or(concerns_jit),
                    };
                    r.properties = s.properties(keep)?;
                }
                IDENTITY => match identity {
                    Identity::PassOver => {
                        s.pass_over()?;
                    }
                    _ => s.identity(r, identity_keys, claims, identity == Identity::Read)?,
                },
                _ if fields.reads(i) => r.text[i] = s.text()?,
                _ => s.pass_value()?,
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

/// Normalizes one JSON Lines record read straight from its line, or `None` when the line is
/// not the plain diagnostic-settings case and must be read through [`crate::sources::activity::from_object`].
/// `properties`, `identity` and `fields` say what may be passed over for a table that does not
/// keep the columns made from it ([`parse`]); `parts`, how the parts of the resource id are come by.
///
/// The event is made in `ev`, a default one, which is left as it was when the answer is `None`.
pub fn from_line<'a>(
    line: &'a [u8],
    layout: &mut Layout,
    parts: ResourceParts<'_>,
    properties: Properties,
    identity: Identity,
    fields: Fields,
    ev: &mut Event<'a>,
) -> Option<Result<(), Reject>> {
    parse(line, layout, properties, identity, fields, ev)?;
    Some(crate::sources::activity::complete_with(ev, parts))
}

#[cfg(test)]
mod tests;
