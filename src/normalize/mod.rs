//! Normalization shared by every source: times, statuses, levels, resource ids, identities
//! and ISO 8601 durations, so that the same fact reads the same whatever shape it came in.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

mod time;

pub use time::{format_time, parse_time, parse_utc};

/// One spelling per activity status: REST says `Succeeded`, storage exports `Success`,
/// `AzureActivity.ActivityStatusValue` `Success` and `ActivityStatus` `Succeeded`.
pub fn normalize_status(raw: &str) -> Option<Cow<'_, str>> {
    let t = raw.trim();
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
    let trimmed = id.trim().trim_end_matches('/').as_bytes();
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
mod tests {
    use proptest::strategy::Strategy;

    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// An id is taken apart at its slashes, however many (empty segments are none), and
        /// however long it is.
        #[test]
        fn resource_ids_split_at_every_slash(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "", "subscriptions", "SUBSCRIPTIONS", "s1", "resourceGroups", "rg",
                    "providers", "Microsoft.Compute", "virtualMachines", "vm-é", "PROVIDERS",
                    "resourcegroupz", "subscription", "providerss",
                ]),
                0..48,
            ),
            lead in proptest::bool::ANY,
        ) {
            let id = format!("{}{}", if lead { "/" } else { "" }, parts.join("/"));
            let segments: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
            let after = |key: &str| {
                let i = segments.iter().position(|p| p.eq_ignore_ascii_case(key))?;
                segments.get(i + 1).copied()
            };
            let r = parse_resource_id(&id);
            proptest::prop_assert_eq!(r.subscription, after("subscriptions"));
            proptest::prop_assert_eq!(r.resource_group, after("resourcegroups"));
            let last_provider = segments.iter().rposition(|p| p.eq_ignore_ascii_case("providers"));
            // The namespace and every other segment after it: `ns/type[/subtype...]`.
            let resource_type = last_provider
                .map(|i| &segments[i + 1..])
                .filter(|rest| !rest.is_empty())
                .map(|rest| {
                    let types = rest.iter().skip(1).step_by(2).copied();
                    std::iter::once(rest[0]).chain(types).collect::<Vec<_>>().join("/")
                });
            proptest::prop_assert_eq!(r.resource_type.as_deref(), resource_type.as_deref());
            // The name: the last segment after `providers` when it ends a `type/name` pair;
            // without `providers`, a subscription's own id names the subscription.
            let name = match last_provider {
                Some(i) => {
                    let rest = &segments[i + 1..];
                    (rest.len() >= 3 && rest.len() % 2 == 1).then(|| rest[rest.len() - 1])
                }
                None if after("resourcegroups").is_none() => after("subscriptions"),
                None => None,
            };
            proptest::prop_assert_eq!(r.name, name);
            // Found again in a memory of ids taken apart, from another copy of the id (as the
            // next line's is), the parts are the same, and borrowed from that copy where they
            // were from the first.
            let mut ids = IdParts::default();
            let first = ids.of(&id);
            let again = id.clone();
            let found = ids.of(&again);
            let parts = (r.subscription, r.resource_group, r.resource_type.clone());
            proptest::prop_assert_eq!(&first, &parts);
            proptest::prop_assert_eq!(&found, &parts);
            let within = |part: Option<&str>| {
                part.is_none_or(|p| again.as_bytes().as_ptr_range().contains(&p.as_ptr()))
            };
            proptest::prop_assert!(within(found.0) && within(found.1));
            proptest::prop_assert_eq!(
                matches!(found.2, Some(Cow::Borrowed(_))),
                matches!(r.resource_type, Some(Cow::Borrowed(_)))
            );
        }

    }

    /// The memory of ids holds at most its limit, and an id forgotten is taken apart again.
    #[test]
    fn the_memory_of_ids_is_bounded() {
        let mut ids = IdParts::default();
        for n in 0..IdParts::LIMIT + 10 {
            let id = format!("/subscriptions/s{n}/resourceGroups/rg/providers/a.b/c/d");
            assert_eq!(ids.of(&id).0, Some(format!("s{n}").as_str()));
            assert!(ids.known.len() <= IdParts::LIMIT);
        }
        assert_eq!(ids.of("/subscriptions/s0/resourceGroups/x").1, Some("x"));
    }

    /// Ids that differ only where their hash does not look (here the resource group) take
    /// each other's place in the memory, and each is taken apart as itself.
    #[test]
    fn ids_alike_where_hashed_are_told_apart() {
        let id = |group: &str| {
            format!(
                "/subscriptions/11111111-aaaa-4bbb-8ccc-000000000001/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/web-01"
            )
        };
        let (a, b) = (id("rg-aaaa"), id("rg-bbbb"));
        assert_eq!(
            crate::bytes::sampled_hash(a.as_bytes()),
            crate::bytes::sampled_hash(b.as_bytes())
        );
        let mut ids = IdParts::default();
        for _ in 0..3 {
            assert_eq!(ids.of(&a).1, Some("rg-aaaa"));
            assert_eq!(ids.of(&b).1, Some("rg-bbbb"));
        }
    }

    #[test]
    fn statuses_and_levels_have_one_spelling() {
        for (raw, want) in [
            ("Success", "Succeeded"),
            ("Succeeded", "Succeeded"),
            ("Start", "Started"),
            ("In Progress", "InProgress"),
            ("failed", "Failed"),
            ("Weird", "Weird"),
        ] {
            assert_eq!(normalize_status(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(
            normalize_level("Information").as_deref(),
            Some("Informational")
        );
        assert_eq!(
            normalize_level("Informational").as_deref(),
            Some("Informational")
        );
        // Every level in any case, as the search in any case has it.
        for spelling in [
            "Information",
            "INFORMATIONAL",
            "info",
            "Warning",
            "warning",
            "Error",
            "Critical",
            "Verbose",
            "VERBOSE",
            " Error ",
            "Debug",
        ] {
            let want = match spelling.trim().to_ascii_lowercase().as_str() {
                "information" | "informational" | "info" => "Informational",
                "warning" => "Warning",
                "error" => "Error",
                "critical" => "Critical",
                "verbose" => "Verbose",
                _ => spelling.trim(),
            };
            assert_eq!(
                normalize_level(spelling).as_deref(),
                Some(want),
                "{spelling}"
            );
        }
        assert_eq!(normalize_status(""), None);
        assert_eq!(
            normalize_status("Suc\u{b}ceeded_ ").as_deref(),
            Some("Succeeded")
        );
        assert_eq!(
            normalize_status("Succeeded\u{a0}x").as_deref(),
            Some("Succeeded\u{a0}x")
        );
        assert_eq!(
            normalize_status("In\u{2003}Progress").as_deref(),
            Some("InProgress")
        );
    }

    proptest::proptest! {
        /// The status folded on the stack is the status folded through strings, as before.
        #[test]
        fn statuses_fold_as_through_strings(
            raw in proptest::prop_oneof![
                "[ _\t\u{b}\u{a0}\u{2003}sSuUcCeEdDfFaAiIlLnNpPrRoOgGx]{0,30}",
                // The spellings taken as they are, and others near them.
                proptest::sample::select(vec![
                    "Succeeded", "Started", "Failed", "Accepted", "InProgress", "Active",
                    "Resolved", "Updated", "Canceled", "Cancelled", "succeeded", " Failed ",
                    "In Progress", "ACTIVE", "Success", "Start", "Failure", "Fail", "Canceled\u{a0}",
                ])
                .prop_map(String::from),
            ],
        ) {
            let t = raw.trim();
            let reference = (!t.is_empty()).then(|| {
                let folded: String = t
                    .chars()
                    .filter(|c| !c.is_whitespace() && *c != '_')
                    .collect();
                match folded.to_ascii_lowercase().as_str() {
                    "started" | "start" => "Started",
                    "succeeded" | "success" | "succeed" => "Succeeded",
                    "failed" | "failure" | "fail" => "Failed",
                    "accepted" => "Accepted",
                    "inprogress" => "InProgress",
                    "active" => "Active",
                    "resolved" => "Resolved",
                    "updated" => "Updated",
                    "canceled" | "cancelled" => "Canceled",
                    _ => t,
                }
                .to_string()
            });
            proptest::prop_assert_eq!(normalize_status(&raw).map(Cow::into_owned), reference);
        }
    }

    proptest::proptest! {
        /// The key made on the stack is the key made as a string, whatever the id's length
        /// (past the buffer's too), case, spaces, slashes and characters.
        #[test]
        fn a_key_made_in_place_is_the_key(
            id in "[ /aAzZ\u{e9}\u{c9}\u{130}0-9-]{0,40}",
            repeat in 1..12usize,
        ) {
            let id = id.repeat(repeat);
            let mut buf = [0; 256];
            let (made, key) = (id_key_in(&id, &mut buf), id_key(&id));
            proptest::prop_assert_eq!(made.as_ref(), key.as_str());
        }
    }

    #[test]
    fn resource_ids_parse_in_any_case() {
        let id = "/SUBSCRIPTIONS/AAAA/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM-01";
        let r = parse_resource_id(id);
        assert_eq!(r.subscription, Some("AAAA"));
        assert_eq!(r.resource_group, Some("RG1"));
        assert_eq!(
            r.resource_type.as_deref(),
            Some("MICROSOFT.COMPUTE/VIRTUALMACHINES")
        );
        assert_eq!(r.name, Some("VM-01"));
        let policy = "/subscriptions/s/resourceGroups/myRg1/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/default";
        let r = parse_resource_id(policy);
        assert_eq!(
            r.resource_type.as_deref(),
            Some("Microsoft.Security/locations/jitNetworkAccessPolicies")
        );
        assert_eq!(r.name, Some("default"));
        assert_eq!(id_key(id), id.to_ascii_lowercase());
        // Longer than the segments kept on the stack: nested providers, the last one counts.
        let nested = format!(
            "{}{}/providers/Microsoft.Security/locations/weu/jitNetworkAccessPolicies/deep",
            "/subscriptions/s/resourceGroups/rg",
            "/providers/Microsoft.Compute/virtualMachines/vm".repeat(8)
        );
        let r = parse_resource_id(&nested);
        assert_eq!((r.subscription, r.resource_group), (Some("s"), Some("rg")));
        assert_eq!(
            r.resource_type.as_deref(),
            Some("Microsoft.Security/locations/jitNetworkAccessPolicies")
        );
        assert_eq!(r.name, Some("deep"));
        let exactly: String = (0..32).map(|i| format!("/p{i}")).collect();
        assert_eq!(parse_resource_id(&exactly), ResourceId::default());
        let many = format!("/x{exactly}/subscriptions/late");
        assert_eq!(parse_resource_id(&many).subscription, Some("late"));
    }

    #[test]
    fn iso_durations() {
        assert_eq!(parse_iso_duration("PT3H"), Ok(10_800));
        assert_eq!(parse_iso_duration("PT1H30M"), Ok(5_400));
        assert_eq!(parse_iso_duration("P1D"), Ok(86_400));
        assert_eq!(parse_iso_duration("P1DT1S"), Ok(86_401));
        assert_eq!(parse_iso_duration("PT0.5H"), Ok(1_800));
        for bad in ["", "P", "PT", "3H", "PT3Hxyz", "PT30M1H", "P1M", "PTH"] {
            assert!(parse_iso_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn guids() {
        assert!(is_guid("f409edeb-4d29-44b5-9763-ee9348ad91bb"));
        assert!(!is_guid("rob@contoso.com"));
    }
}
