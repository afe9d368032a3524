//! Normalization shared by every source: times, statuses, levels, resource ids, identities
//! and ISO 8601 durations, so that the same fact reads the same whatever shape it came in.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

mod time;

pub use time::{format_time, parse_time, parse_utc};

/// `s` without the white space around it, as `str::trim` gives it, with the usual case (a
/// value beginning and ending with a printable ASCII character) answered at once: `trim` was 1%
/// of `query` over one column, for a status and an id a record (issue 26).
#[inline]
pub fn trim(s: &str) -> &str {
    let printable = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
    if printable(s.as_bytes().first()) && printable(s.as_bytes().last()) {
        return s;
    }
    s.trim()
}

/// One spelling per activity status: REST says `Succeeded`, storage exports `Success`,
/// `AzureActivity.ActivityStatusValue` `Success` and `ActivityStatus` `Succeeded`.
pub fn normalize_status(raw: &str) -> Option<Cow<'_, str>> {
    let t = trim(raw);
    if t.is_empty() {
        return None;
    }
    // The spellings Azure writes (`Start` and `Success` in exports, the kept ones in REST
    // answers): nothing to fold.
    match t {
        "Start" | "Started" => return Some(Cow::Borrowed("Started")),
        "Success" | "Succeeded" => return Some(Cow::Borrowed("Succeeded")),
        "Failure" | "Failed" => return Some(Cow::Borrowed("Failed")),
        "Accepted" | "InProgress" | "Active" | "Resolved" | "Updated" | "Canceled" => {
            return Some(Cow::Borrowed(t));
        }
        _ => {}
    }
    // Folded on the stack when ASCII and short (every status Azure writes).
    let mut buf = [0u8; 24];
    let owned;
    let folded = match fold_ascii(t, &mut buf) {
        Some(f) => f,
        None => {
            owned = t
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '_')
                .collect::<String>()
                .to_ascii_lowercase();
            &owned
        }
    };
    let canonical = match folded {
        "started" | "start" => "Started",
        "succeeded" | "success" | "succeed" => "Succeeded",
        "failed" | "failure" | "fail" => "Failed",
        "accepted" => "Accepted",
        "inprogress" => "InProgress",
        "active" => "Active",
        "resolved" => "Resolved",
        "updated" => "Updated",
        "canceled" | "cancelled" => "Canceled",
        _ => return Some(Cow::Borrowed(t)),
    };
    Some(Cow::Borrowed(canonical))
}

/// `t` in ASCII lower case without white space and underscores, in `buf`; `None` when `t` is
/// not ASCII or does not fit.
fn fold_ascii<'b>(t: &str, buf: &'b mut [u8; 24]) -> Option<&'b str> {
    let mut n = 0;
    for b in t.bytes() {
        if !b.is_ascii() {
            return None;
        }
        if char::from(b).is_whitespace() || b == b'_' {
            continue;
        }
        *buf.get_mut(n)? = b.to_ascii_lowercase();
        n += 1;
    }
    std::str::from_utf8(&buf[..n]).ok()
}

/// `Information` (storage, Event Hubs) and `Informational` (REST) are the same level.
pub fn normalize_level(raw: &str) -> Option<Cow<'_, str>> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    // The spellings Azure writes, before a search in any case.
    match t {
        "Information" | "Informational" => return Some(Cow::Borrowed("Informational")),
        "Warning" | "Error" | "Critical" | "Verbose" => return Some(Cow::Borrowed(t)),
        _ => {}
    }
    const LEVELS: [(&str, &str); 7] = [
        ("information", "Informational"),
        ("informational", "Informational"),
        ("info", "Informational"),
        ("warning", "Warning"),
        ("error", "Error"),
        ("critical", "Critical"),
        ("verbose", "Verbose"),
    ];
    let canonical = LEVELS
        .iter()
        .find(|(spelling, _)| t.eq_ignore_ascii_case(spelling))
        .map_or(t, |(_, canonical)| canonical);
    Some(Cow::Borrowed(canonical))
}

/// The parts of an ARM resource id, located case-insensitively (exports upper-case ids).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ResourceId<'a> {
    pub subscription: Option<&'a str>,
    pub resource_group: Option<&'a str>,
    /// `Namespace/type[/subtype...]`, e.g. `Microsoft.Security/locations/jitNetworkAccessPolicies`:
    /// borrowed from the id where it is one stretch of it (a type without subtypes).
    pub resource_type: Option<Cow<'a, str>>,
    /// The last name segment.
    pub name: Option<&'a str>,
}

pub fn parse_resource_id(id: &str) -> ResourceId<'_> {
    // The segments on the stack (every record has an id to take apart), the three keys looked
    // for as they go by (compared only when the length is theirs); a longer id than any Azure
    // makes goes to the heap.
    let mut stack = [""; 32];
    let mut n = 0;
    let (mut subscriptions, mut groups, mut providers) = (None, None, None);
    for part in segments(id) {
        let Some(slot) = stack.get_mut(n) else {
            let parts: Vec<&str> = segments(id).collect();
            let find = |key: &str| parts.iter().position(|p| p.eq_ignore_ascii_case(key));
            let providers = parts
                .iter()
                .rposition(|p| p.eq_ignore_ascii_case("providers"));
            return resource_id_of(
                id,
                &parts,
                [find("subscriptions"), find("resourcegroups"), providers],
            );
        };
        *slot = part;
        match part.len() {
            13 if subscriptions.is_none() && part.eq_ignore_ascii_case("subscriptions") => {
                subscriptions = Some(n)
            }
            14 if groups.is_none() && part.eq_ignore_ascii_case("resourcegroups") => {
                groups = Some(n)
            }
            9 if part.eq_ignore_ascii_case("providers") => providers = Some(n),
            _ => {}
        }
        n += 1;
    }
    resource_id_of(id, &stack[..n], [subscriptions, groups, providers])
}

/// The subscription of `id`, as [`parse_resource_id`] gives it: read straight after a leading
/// `/subscriptions/` (in any case), as Azure writes ids, without taking the rest apart.
pub fn subscription_of(id: &str) -> Option<&str> {
    const HEAD: &str = "/subscriptions/";
    if id
        .get(..HEAD.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(HEAD))
    {
        let rest = &id[HEAD.len()..];
        let end = memchr::memchr(b'/', rest.as_bytes()).unwrap_or(rest.len());
        if end > 0 {
            return Some(&rest[..end]);
        }
    }
    parse_resource_id(id).subscription
}

/// The non-empty segments of an id, between its slashes (found 64 bytes at a time:
/// `str::split` looks for them a word at a time, and a general search costs more to start; on
/// ids, either is most of the work of taking them apart).
fn segments(id: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let ends = crate::bytes::positions(id.as_bytes(), b'/').chain([id.len()]);
    ends.filter_map(move |end| {
        let part = &id[start..end];
        start = end + 1;
        (!part.is_empty()).then_some(part)
    })
}

/// The parts of `id` from its segments and where in them its first `subscriptions`, first
/// `resourceGroups` and last `providers` are.
fn resource_id_of<'a>(
    id: &'a str,
    parts: &[&'a str],
    [subscriptions, groups, providers]: [Option<usize>; 3],
) -> ResourceId<'a> {
    let mut out = ResourceId::default();
    if let Some(i) = subscriptions {
        out.subscription = parts.get(i + 1).copied();
    }
    if let Some(i) = groups {
        out.resource_group = parts.get(i + 1).copied();
    }
    if let Some(i) = providers {
        let rest = &parts[i + 1..];
        if let Some(namespace) = rest.first() {
            // Where each segment starts in the id (they are slices of it).
            let at = |part: &str| part.as_ptr() as usize - id.as_ptr() as usize;
            let start = at(namespace);
            let whole = match rest.get(1) {
                None => Some(*namespace),
                Some(ty) if at(ty) == start + namespace.len() + 1 => {
                    (rest.len() <= 3).then(|| &id[start..at(ty) + ty.len()])
                }
                Some(_) => None,
            };
            out.resource_type = Some(match whole {
                Some(whole) => Cow::Borrowed(whole),
                None => {
                    let mut ty = namespace.to_string();
                    for t in rest.iter().skip(1).step_by(2) {
                        ty.push('/');
                        ty.push_str(t);
                    }
                    Cow::Owned(ty)
                }
            });
            if rest.len() >= 3 && rest.len() % 2 == 1 {
                out.name = rest.last().copied();
            }
        }
    } else if out.subscription.is_some() && out.resource_group.is_none() {
        out.name = out.subscription;
    }
    out
}

/// Resource ids already taken apart, by id: an export names the same resources over and
/// over, and finding an id again costs a fraction of taking it apart. The parts are kept as
/// where they lie in the id, so that they are borrowed from each new copy of it. At most
/// [`IdParts::LIMIT`] ids are held; then the memory starts again.
#[derive(Default)]
pub struct IdParts {
    /// By the id's sampled hash (see [`crate::bytes::sampled_hash`]): the id and its parts.
    /// An id whose hash another holds takes its place.
    known: HashMap<u64, (Box<str>, Parts), foldhash::fast::RandomState>,
}

/// Where an id's subscription and resource group lie in it, and its type: where it lies, or
/// made of several stretches.
struct Parts {
    subscription: Option<Range<usize>>,
    group: Option<Range<usize>>,
    resource_type: Option<Result<Range<usize>, Box<str>>>,
}

impl IdParts {
    pub const LIMIT: usize = 4096;

    /// The subscription, resource group and type of `id`, as [`parse_resource_id`] gives them.
    pub fn of<'a>(
        &mut self,
        id: &'a str,
    ) -> (Option<&'a str>, Option<&'a str>, Option<Cow<'a, str>>) {
        let hash = crate::bytes::sampled_hash(id.as_bytes());
        if let Some((_, parts)) = self.known.get(&hash).filter(|(known, _)| **known == *id) {
            let at = |range: &Range<usize>| &id[range.clone()];
            return (
                parts.subscription.as_ref().map(at),
                parts.group.as_ref().map(at),
                parts.resource_type.as_ref().map(|t| match t {
                    Ok(range) => Cow::Borrowed(at(range)),
                    Err(made) => Cow::Owned(made.to_string()),
                }),
            );
        }
        let parsed = parse_resource_id(id);
        // The parts are slices of the id.
        let range = |part: &str| {
            let start = part.as_ptr() as usize - id.as_ptr() as usize;
            start..start + part.len()
        };
        if self.known.len() >= Self::LIMIT {
            self.known.clear();
        }
        let parts = Parts {
            subscription: parsed.subscription.map(range),
            group: parsed.resource_group.map(range),
            resource_type: parsed.resource_type.as_ref().map(|t| match t {
                Cow::Borrowed(stretch) => Ok(range(stretch)),
                Cow::Owned(made) => Err(made.as_str().into()),
            }),
        };
        self.known.insert(hash, (id.into(), parts));
        (
            parsed.subscription,
            parsed.resource_group,
            parsed.resource_type,
        )
    }
}

/// The lower-case key resource ids are compared by.
pub fn id_key(id: &str) -> String {
    id.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// [`id_key`], made in `buf` when it fits (resource ids are some 150 bytes, and a row of
/// `events` is written for each of millions of records: an allocation each was 2% of reading).
pub fn id_key_in<'b>(id: &str, buf: &'b mut [u8; 256]) -> Cow<'b, str> {
    let trimmed = trim(id).trim_end_matches('/').as_bytes();
    match buf.get_mut(..trimmed.len()) {
        Some(key) => {
            key.copy_from_slice(trimmed);
            key.make_ascii_lowercase();
            // SAFETY: the bytes of a `str`, with ASCII capitals made small letters (which
            // changes no other byte): still UTF-8. Checking again was a third of the time.
            Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(key) })
        }
        None => Cow::Owned(id_key(id)),
    }
}

/// The name a resource id ends in, e.g. the VM name of a VM id.
pub fn name_of(id: &str) -> Option<&str> {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
}

/// The name of the management group an id or scope names
/// (`/providers/Microsoft.Management/managementGroups/{name}`), lower case.
pub fn management_group_name(id: &str) -> Option<String> {
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [p, m, g, name, ..]
            if p.eq_ignore_ascii_case("providers")
                && m.eq_ignore_ascii_case("Microsoft.Management")
                && g.eq_ignore_ascii_case("managementGroups") =>
        {
            Some(name.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// True for a GUID such as an object id or app id.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Parses an ISO 8601 duration of days, hours, minutes and seconds (`PT3H`, `P1D`, `PT1H30M`,
/// `PT90.5S`, `P1W`) into seconds. Years and months are refused: their length depends on the
/// calendar, and JIT limits are at most a day. Written here rather than taken from the
/// `iso8601` crate because that one accepts trailing garbage (`PT3Hxyz`), which a config
/// validator must reject.
pub fn parse_iso_duration(text: &str) -> Result<i64, DurationError> {
    let t = text.trim();
    let bad = || DurationError(text.to_string());
    let rest = t.strip_prefix(['P', 'p']).ok_or_else(bad)?;
    if rest.is_empty() {
        return Err(bad());
    }
    let (date, time) = match rest.find(['T', 't']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut total = 0f64;
    let mut any = false;
    let mut add_units = |part: &str, units: &[(char, f64)]| -> Result<(), DurationError> {
        let mut number = String::new();
        let mut last_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                number.push(if c == ',' { '.' } else { c });
                continue;
            }
            let pos = units
                .iter()
                .position(|(u, _)| u.eq_ignore_ascii_case(&c))
                .ok_or_else(bad)?;
            // Units must appear once each, in order (PT1H30M, not PT30M1H).
            if pos < last_unit || number.is_empty() {
                return Err(bad());
            }
            last_unit = pos + 1;
            let value: f64 = number.parse().map_err(|_| bad())?;
            total += value * units[pos].1;
            number.clear();
            any = true;
        }
        if number.is_empty() {
            Ok(())
        } else {
            Err(bad())
        }
    };
    add_units(date, &[('W', 604_800.0), ('D', 86_400.0)])?;
    if let Some(time) = time {
        if time.is_empty() {
            return Err(bad());
        }
        add_units(time, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    if !any {
        return Err(bad());
    }
    Ok(total.round() as i64)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not an ISO 8601 duration of days, hours, minutes and seconds (e.g. PT3H)")]
pub struct DurationError(pub String);

#[cfg(test)]
mod tests;
