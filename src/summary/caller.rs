//! The SOC caller investigation: everything one identity did, in time order. The identity is
//! resolved across its names (a UPN, its object id, its app id) from the Activity Log, then
//! its JIT requests, its other operations, the NSG changes Defender made for its requests and
//! the findings that name it are merged into one timeline with a summary.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

use crate::derive::identities::{aliases, matches};
use crate::normalize::{format_time, id_key, name_of};
use crate::rules::Finding;
use crate::schema::{self, ops};
use crate::tables::{Tables, ints, strs, times};
use crate::window::Window;

pub use super::timeline::{Entry, Kind};

const NANOS: i64 = 1_000_000_000;

#[derive(Debug, Clone, Serialize)]
pub struct SourceSeen {
    pub address: String,
    pub first_seen: String,
    pub last_seen: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub caller: String,
    pub identities: Vec<String>,
    pub first_activity: String,
    pub last_activity: String,
    pub requests: usize,
    pub activity_records: usize,
    pub sources: Vec<SourceSeen>,
    pub vms: Vec<String>,
    /// Share of the caller's requests outside business hours (JIT001), 0 to 1.
    pub odd_hour_share: f64,
    pub findings_by_severity: BTreeMap<String, usize>,
    /// What the caller's roles let it do, per subscription: "initiate on Contoso Production
    /// (JIT Requester at subscription)"; empty when the inputs hold no role for it.
    #[serde(default)]
    pub rights: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Investigation<'a> {
    pub summary: Summary,
    pub timeline: Vec<Entry<'a>>,
}

/// Puts `items` in the order `order` gives (`order[k]`: the index of the item that goes to
/// `k`), in place: each cycle of the permutation is followed once, a swap per item.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    for start in 0..items.len() {
        let mut k = start;
        while order[k] != DONE {
            let from = std::mem::replace(&mut order[k], DONE);
            if from == start {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

/// What one part of the events adds to an investigation.
#[derive(Default)]
struct Part<'a> {
    timeline: Vec<Entry<'a>>,
    /// Per caller address: first and last time seen, and how often.
    sources: BTreeMap<String, (i64, i64, usize)>,
    activity: usize,
}

/// The investigation of `id` over the window before the rules' findings join it
/// ([`Draft::finish`]): the tables' part, which needs no finding, is made while the rules run
/// (`cmd::caller`).
pub struct Draft<'a> {
    t: &'a Tables,
    id: String,
    names: BTreeSet<String>,
    timeline: Vec<Entry<'a>>,
    vms: BTreeSet<String>,
    sources: BTreeMap<String, (i64, i64, usize)>,
    requests: usize,
    activity: usize,
}

/// Builds the investigation of `id` over the window, but for the findings.
pub fn draft<'a>(t: &'a Tables, id: &str, window: &Window) -> Result<Draft<'a>> {
    let names = aliases(t, id)?;
    let mut timeline = Vec::new();
    let mut vms = BTreeSet::new();
    let mut sources: BTreeMap<String, (i64, i64, usize)> = BTreeMap::new();
    // Per request: its start, end, VM key and, for a VM behind an Azure Firewall, the keys of
    // the firewalls that may be it (empty: any firewall, when none is known by its address).
    let mut request_windows: Vec<(i64, i64, String, Option<Vec<String>>)> = Vec::new();
    let firewalls = firewalls_by_address(t)?;

    let r = &t.requests;
    let (at, end) = (times(r, schema::REQUESTED_AT)?, times(r, schema::END_TIME)?);
    let who = strs(r, schema::REQUESTOR)?;
    let vm = strs(r, schema::VM_ID)?;
    let port = ints(r, schema::PORT)?;
    let src = strs(r, schema::SOURCE_PREFIX)?;
    let ip = strs(r, schema::CALLER_IP)?;
    let why = strs(r, schema::JUSTIFICATION)?;
    let dur = ints(r, schema::DURATION_SECONDS)?;
    let status = strs(r, schema::STATUS)?;
    let rid = strs(r, schema::REQUEST_ID)?;
    let vm_key = strs(r, schema::VM_KEY)?;
    let firewall_ip = strs(r, schema::FIREWALL_IP)?;
    let mut requests = 0;
    for i in 0..r.height() {
        if !matches(&names, who.get(i)) || !at.get(i).is_none_or(|t| window.contains(t)) {
            continue;
        }
        requests += 1;
        let vm_name = vm.get(i).and_then(name_of).unwrap_or("?").to_string();
        vms.insert(vm_name.clone());
        let address = ip.get(i).or(src.get(i)).unwrap_or("").to_string();
        if let Some(t) = at.get(i) {
            let e = sources.entry(address.clone()).or_insert((t, t, 0));
            e.0 = e.0.min(t);
            e.1 = e.1.max(t);
            e.2 += 1;
            if let Some(k) = vm_key.get(i) {
                let firewall = firewall_ip
                    .get(i)
                    .filter(|a| !a.is_empty())
                    .map(|a| firewalls.get(a).cloned().unwrap_or_default());
                request_windows.push((t, end.get(i).unwrap_or(t), k.to_string(), firewall));
            }
        }
        timeline.push(Entry {
            time: at.get(i),
            end: end.get(i),
            kind: Kind::JitRequest,
            what: Cow::Owned(format!(
                "opened {vm_name} port {}",
                port.get(i).map(|p| p.to_string()).unwrap_or_default()
            )),
            resource: Cow::Borrowed(vm.get(i).unwrap_or("")),
            status: Cow::Borrowed(status.get(i).unwrap_or("")),
            address: Cow::Owned(address),
            detail: Cow::Owned(format!(
                "for {} to {}; justification: {}",
                dur.get(i)
                    .map(crate::enrich::human_duration)
                    .unwrap_or_else(|| "?".into()),
                src.get(i).unwrap_or("?"),
                why.get(i).unwrap_or("(none)")
            )),
            reference: Cow::Borrowed(rid.get(i).unwrap_or("")),
            line: format!(
                "opened {vm_name}:{} to {} for {}: {}",
                port.get(i).map(|p| p.to_string()).unwrap_or_default(),
                src.get(i).unwrap_or("?"),
                dur.get(i)
                    .map(crate::enrich::human_duration)
                    .unwrap_or_else(|| "?".into()),
                why.get(i)
                    .filter(|w| !w.trim().is_empty())
                    .unwrap_or("(no justification)")
            ),
        });
    }

    let nsgs = vm_nsgs(t)?;
    let e = &t.events;
    let time = times(e, schema::TIME)?;
    let caller = strs(e, schema::CALLER)?;
    let object = strs(e, schema::OBJECT_ID)?;
    let op = strs(e, schema::OPERATION_ID)?;
    let op_name = strs(e, schema::OPERATION_NAME)?;
    let st = strs(e, schema::STATUS)?;
    let res = strs(e, schema::RESOURCE_ID)?;
    let res_key = strs(e, schema::RESOURCE_KEY)?;
    let eip = strs(e, schema::CALLER_IP)?;
    let corr = strs(e, schema::CORRELATION_ID)?;
    let sub_status = strs(e, schema::SUB_STATUS)?;
    // The events are many (a busy identity has hundreds of thousands of records): read in
    // parallel, a part of the rows at a time, and gathered in row order.
    let part = |rows: std::ops::Range<usize>| {
        let mut found = Part::default();
        for i in rows {
            let Some(t) = time.get(i) else { continue };
            if !window.contains(t) {
                continue;
            }
            let mine = matches(&names, caller.get(i)) || matches(&names, object.get(i));
            let operation = op.get(i).or(op_name.get(i)).unwrap_or("");
            if mine {
                // Granted initiate calls are the JIT request rows already; failed ones are not.
                if op.get(i) == Some(ops::JIT_INITIATE) && st.get(i) != Some("Failed") {
                    continue;
                }
                found.activity += 1;
                if let Some(a) = eip.get(i) {
                    // A new string only for a new address.
                    let s = match found.sources.get_mut(a) {
                        Some(s) => s,
                        None => found.sources.entry(a.to_string()).or_insert((t, t, 0)),
                    };
                    s.0 = s.0.min(t);
                    s.1 = s.1.max(t);
                    s.2 += 1;
                }
                found.timeline.push(Entry {
                    time: Some(t),
                    end: None,
                    kind: Kind::Activity,
                    what: Cow::Borrowed(operation),
                    resource: Cow::Borrowed(res.get(i).unwrap_or("")),
                    status: Cow::Borrowed(st.get(i).unwrap_or("")),
                    address: Cow::Borrowed(eip.get(i).unwrap_or("")),
                    detail: Cow::Borrowed(sub_status.get(i).unwrap_or("")),
                    reference: Cow::Borrowed(corr.get(i).unwrap_or("")),
                    line: String::new(),
                });
                continue;
            }
            // NSG changes JIT may have made on the NSG of a VM the caller opened, within
            // minutes of the request.
            let is_nsg = match op.get(i) {
                Some(o @ (ops::NSG_RULE_WRITE | ops::NSG_RULE_DELETE | ops::NSG_WRITE)) => {
                    ops::may_be_jits(o, res.get(i).unwrap_or(""))
                }
                _ => false,
            };
            let key = res_key.get(i).unwrap_or("");
            // JIT writes the allow rule just after the request and removes it at expiry.
            let near = |edge: i64| t >= edge - 60 * NANOS && t <= edge + 10 * 60 * NANOS;
            // And the DNAT rules it writes on the Azure Firewall in front of such a VM.
            let is_firewall = op.get(i) == Some(ops::FIREWALL_WRITE);
            let related = (is_nsg
                && request_windows.iter().any(|(start, stop, vm, _)| {
                    (near(*start) || near(*stop))
                        && nsgs
                            .get(vm)
                            .is_some_and(|ns| ns.iter().any(|n| key.starts_with(n.as_str())))
                }))
                || (is_firewall
                    && request_windows.iter().any(|(start, stop, _, firewall)| {
                        (near(*start) || near(*stop))
                            && firewall
                                .as_ref()
                                .is_some_and(|f| f.is_empty() || f.iter().any(|k| k == key))
                    }));
            if related {
                found.timeline.push(Entry {
                    time: Some(t),
                    end: None,
                    kind: if is_firewall {
                        Kind::FirewallChange
                    } else {
                        Kind::NsgChange
                    },
                    what: Cow::Borrowed(operation),
                    resource: Cow::Borrowed(res.get(i).unwrap_or("")),
                    status: Cow::Borrowed(st.get(i).unwrap_or("")),
                    address: Cow::Borrowed(eip.get(i).unwrap_or("")),
                    detail: Cow::Owned(format!("by {}", caller.get(i).unwrap_or("?"))),
                    reference: Cow::Borrowed(corr.get(i).unwrap_or("")),
                    line: String::new(),
                });
            }
        }
        found
    };
    // Small parts: each part's entries are held twice while they move into the timeline, and
    // parts of 65,536 rows held 190 MB over a 5 GB log's busiest caller (issue 26).
    const ROWS_PER_PART: usize = 1 << 13;
    let parts: Vec<std::ops::Range<usize>> = (0..e.height().div_ceil(ROWS_PER_PART))
        .map(|p| p * ROWS_PER_PART..((p + 1) * ROWS_PER_PART).min(e.height()))
        .collect();
    // No more entries than rows: reserved once, and filled only as far as entries come (the
    // pages past them are never touched). The parts are made a wave at a time, each wave
    // moved into the timeline and freed before the next: memory holds the timeline once.
    timeline.reserve(e.height());
    let mut activity = 0;
    for wave in parts.chunks(2 * rayon::current_num_threads()) {
        let found: Vec<Part> = wave.par_iter().map(|rows| part(rows.clone())).collect();
        for found in found {
            activity += found.activity;
            timeline.extend(found.timeline);
            for (address, (first, last, count)) in found.sources {
                let s = sources.entry(address).or_insert((first, last, 0));
                s.0 = s.0.min(first);
                s.1 = s.1.max(last);
                s.2 += count;
            }
        }
    }

    Ok(Draft {
        t,
        id: id.to_string(),
        names,
        timeline,
        vms,
        sources,
        requests,
        activity,
    })
}

impl<'a> Draft<'a> {
    /// The investigation, with the findings that name the caller.
    pub fn finish(self, findings: &[Finding]) -> Result<Investigation<'a>> {
        let Draft {
            t,
            id,
            names,
            mut timeline,
            vms,
            sources,
            requests,
            activity,
        } = self;
        timeline.reserve(findings.len());
        let mut by_severity = BTreeMap::new();
        let mut odd = 0;
        for f in findings
            .iter()
            .filter(|f| names.contains(&f.caller.to_ascii_lowercase()))
        {
            *by_severity.entry(f.severity.to_string()).or_insert(0) += 1;
            odd += usize::from(f.rule_id == "JIT001");
            let t = crate::normalize::parse_time(&f.time_utc);
            timeline.push(Entry {
                time: t,
                end: None,
                kind: Kind::Finding,
                what: Cow::Owned(format!("{} {}", f.rule_id, f.title)),
                resource: Cow::Owned(f.vm_id.clone()),
                status: Cow::Owned(if f.suppressed {
                    format!("{} (suppressed)", f.severity)
                } else {
                    f.severity.to_string()
                }),
                address: Cow::Owned(f.source.clone()),
                detail: Cow::Owned(f.detail.clone()),
                reference: Cow::Owned(f.evidence.clone()),
                line: String::new(),
            });
        }
        // A total order, so that the timeline does not depend on the order records were read in.
        fn key<'e>(e: &'e Entry) -> (bool, Option<i64>, Kind, [&'e str; 6]) {
            let text = [
                &*e.what,
                &*e.resource,
                &*e.status,
                &*e.address,
                &*e.detail,
                &*e.reference,
            ];
            (e.time.is_none(), e.time, e.kind, text)
        }
        // The entries are large: their order is found first, then each is swapped into place.
        let mut order: Vec<usize> = (0..timeline.len()).collect();
        order.par_sort_by(|&a, &b| key(&timeline[a]).cmp(&key(&timeline[b])));
        permute(&mut timeline, order);
        let dated: Vec<i64> = timeline
            .iter()
            .filter(|e| e.kind != Kind::Finding)
            .filter_map(|e| e.time)
            .collect();
        let summary = Summary {
            caller: id.to_string(),
            identities: names.iter().cloned().collect(),
            first_activity: dated
                .iter()
                .min()
                .map(|t| format_time(*t))
                .unwrap_or_default(),
            last_activity: dated
                .iter()
                .max()
                .map(|t| format_time(*t))
                .unwrap_or_default(),
            requests,
            activity_records: activity,
            sources: sources
                .into_iter()
                .filter(|(a, _)| !a.is_empty())
                .map(|(address, (first, last, count))| SourceSeen {
                    address,
                    first_seen: format_time(first),
                    last_seen: format_time(last),
                    count,
                })
                .collect(),
            vms: vms.into_iter().collect(),
            odd_hour_share: if requests == 0 {
                0.0
            } else {
                odd as f64 / requests as f64
            },
            findings_by_severity: by_severity,
            rights: rights(t, &names)?,
        };
        Ok(Investigation { summary, timeline })
    }
}

/// The caller's rights from `access`, matched by object id or name.
fn rights(t: &Tables, names: &BTreeSet<String>) -> Result<Vec<String>> {
    let a = &t.access;
    let (id, name, sub, role, level, scope, held) = (
        strs(a, schema::PRINCIPAL_ID)?,
        strs(a, schema::PRINCIPAL_NAME)?,
        strs(a, schema::SUBSCRIPTION_ID)?,
        strs(a, schema::ROLE_NAME)?,
        strs(a, schema::SCOPE_LEVEL)?,
        strs(a, schema::SCOPE)?,
        strs(a, schema::HELD)?,
    );
    let (initiate, grant) = (
        crate::tables::bools(a, schema::CAN_INITIATE)?,
        crate::tables::bools(a, schema::CAN_GRANT)?,
    );
    let sub_names: BTreeMap<String, String> = strs(&t.subscriptions, schema::SUBSCRIPTION_ID)?
        .iter()
        .zip(strs(&t.subscriptions, schema::DISPLAY_NAME)?.iter())
        .filter_map(|(i, n)| Some((i?.to_ascii_lowercase(), n?.to_string())))
        .collect();
    let mut out = BTreeSet::new();
    for i in 0..a.height() {
        let mine = [id.get(i), name.get(i)]
            .into_iter()
            .flatten()
            .any(|n| names.contains(&n.to_ascii_lowercase()));
        if !mine {
            continue;
        }
        let what = match (initiate.get(i) == Some(true), grant.get(i) == Some(true)) {
            (true, true) => "initiate and grant roles",
            (true, false) => "initiate",
            _ => "grant roles",
        };
        let s = sub.get(i).unwrap_or("");
        let on = sub_names.get(s).map_or(s, String::as_str);
        let at = match level.get(i) {
            Some("subscription") => "subscription".to_string(),
            Some("root") => "the root".to_string(),
            _ => scope
                .get(i)
                .and_then(|x| x.rsplit('/').next())
                .unwrap_or("")
                .to_string(),
        };
        let how = match held.get(i) {
            Some("eligible") => ", eligible through PIM",
            Some("group") => ", through a group",
            _ => "",
        };
        out.insert(format!(
            "{what} on {on} ({} at {at}{how})",
            role.get(i).unwrap_or("a role")
        ));
    }
    Ok(out.into_iter().collect())
}

/// A firewall's public address to the keys of the Azure Firewalls it may belong to: those whose
/// public IP (in `public_ips`) has it, or whose DNAT rules name it as their destination.
fn firewalls_by_address(t: &Tables) -> Result<BTreeMap<String, Vec<String>>> {
    let (ip_key, address) = (
        strs(&t.public_ips, schema::PUBLIC_IP_KEY)?,
        strs(&t.public_ips, schema::IP_ADDRESS)?,
    );
    let addresses: BTreeMap<&str, &str> = (0..t.public_ips.height())
        .filter_map(|i| Some((ip_key.get(i)?, address.get(i)?)))
        .collect();
    let f = &t.firewalls;
    let (key, ips, rules) = (
        strs(f, schema::FIREWALL_KEY)?,
        strs(f, schema::PUBLIC_IP_IDS)?,
        strs(f, schema::NAT_RULES)?,
    );
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..f.height() {
        let Some(k) = key.get(i) else { continue };
        let mut mine: BTreeSet<String> = ips
            .get(i)
            .unwrap_or("")
            .split(',')
            .filter_map(|id| addresses.get(id).map(|a| a.to_string()))
            .collect();
        if let Ok(serde_json::Value::Array(list)) =
            serde_json::from_str(rules.get(i).unwrap_or("[]"))
        {
            for rule in &list {
                let named = rule["destinations"].as_array().into_iter().flatten();
                mine.extend(named.filter_map(|d| d.as_str()).map(str::to_string));
            }
        }
        for a in mine {
            out.entry(a).or_default().push(k.to_string());
        }
    }
    Ok(out)
}

/// VM key to the keys of the NSGs on its NICs and subnets.
fn vm_nsgs(t: &Tables) -> Result<BTreeMap<String, Vec<String>>> {
    let key = strs(&t.vms, schema::VM_KEY)?;
    let nsg = strs(&t.vms, schema::NSG_IDS)?;
    let subnet = strs(&t.vms, schema::SUBNET_IDS)?;
    let rule_nsg = strs(&t.nsg_rules, schema::NSG_KEY)?;
    let rule_subnets = strs(&t.nsg_rules, schema::ATTACHED_SUBNET_IDS)?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..t.vms.height() {
        let Some(k) = key.get(i) else { continue };
        let mut list: Vec<String> = nsg
            .get(i)
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(id_key)
            .collect();
        let subnets: Vec<&str> = subnet
            .get(i)
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        for j in 0..t.nsg_rules.height() {
            if rule_subnets
                .get(j)
                .unwrap_or("")
                .split(',')
                .any(|s| subnets.contains(&s))
            {
                list.extend(rule_nsg.get(j).map(str::to_string));
            }
        }
        list.sort();
        list.dedup();
        out.insert(k.to_string(), list);
    }
    Ok(out)
}

/// The known identities closest to `id`, best first.
pub fn closest(id: &str, known: &BTreeSet<String>, n: usize) -> Vec<String> {
    let id = id.to_ascii_lowercase();
    let mut scored: Vec<(f64, &String)> = known
        .iter()
        .map(|k| (strsim::jaro_winkler(&id, k), k))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, k)| k.clone()).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Swapping in place gives what gathering into a new vector gives.
        #[test]
        fn permuting_in_place_is_gathering(keys in prop::collection::vec(0..50u32, 0..300)) {
            let mut order: Vec<usize> = (0..keys.len()).collect();
            order.sort_by_key(|&i| (keys[i], i));
            let gathered: Vec<(u32, usize)> = order.iter().map(|&i| (keys[i], i)).collect();
            let mut items: Vec<(u32, usize)> = keys.iter().copied().zip(0..).collect();
            super::permute(&mut items, order);
            prop_assert_eq!(items, gathered);
        }
    }
}
