//! The JIT request ledger: one row per (request, VM, port), rebuilt from the three places a
//! request leaves evidence, merged so a request seen in several is one row:
//!
//! 1. the policy's `properties.requests[]` history (authoritative for what was granted);
//! 2. the Activity Log `initiate/action` events, whose `requestbody` holds ports, source and
//!    end time, and which add the caller's IP and the correlation id;
//! 3. the Allow rules JIT writes into the NSG while access is open.
//!
//! An initiate attempt that failed is not a ledger row: no access was granted. It stays in
//! `events`, where the failed-request rule finds it.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::normalize::{self, id_key, name_of, parse_resource_id};
use crate::schema::{self, evidence, ops};
use crate::sources::activity::canonical_subscription;
use crate::sources::json::{as_object, get, objects, singular_and_plural, text_at};
use crate::tables::{TableBuilder, Tables, bools, ints, strs, times};

/// How far apart (seconds) the history's start time and the initiate event's time may be and
/// still be the same request: the event is logged when the call is made, the history records
/// the start the service assigned.
const MATCH_WINDOW_SECS: i64 = 300;
const NANOS: i64 = 1_000_000_000;

#[derive(Debug, Clone, Default)]
struct Row {
    requested_at: Option<i64>,
    requestor: Option<String>,
    caller_ip: Option<String>,
    justification: Option<String>,
    vm_id: Option<String>,
    port: Option<i64>,
    source_prefix: Option<String>,
    end_time: Option<i64>,
    status: Option<String>,
    status_reason: Option<String>,
    policy_id: Option<String>,
    correlation_id: Option<String>,
    in_history: bool,
    in_activity: bool,
    in_nsg: bool,
    nsg_rule_id: Option<String>,
    /// The Azure Firewall port mapped to `port` (the policy history's `mappedPort`).
    mapped_port: Option<i64>,
    source_file: Option<String>,
}

impl Row {
    fn vm_key(&self) -> Option<String> {
        self.vm_id.as_deref().map(id_key)
    }
}

fn same_person(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    }
}

fn near(a: Option<i64>, b: Option<i64>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if (a - b).abs() <= MATCH_WINDOW_SECS * NANOS)
}

pub fn build(t: &Tables) -> Result<polars::prelude::DataFrame> {
    let mut rows = history_rows(t)?;
    let event_rows = initiate_rows(t)?;
    merge_events(&mut rows, event_rows);
    merge_nsg_rules(&mut rows, t)?;
    merge_firewall_rules(&mut rows, t)?;
    finish(rows, t)
}

fn history_rows(t: &Tables) -> Result<Vec<Row>> {
    let df = &t.policy_requests;
    let at = times(df, schema::REQUESTED_AT)?;
    let requestor = strs(df, schema::REQUESTOR)?;
    let justification = strs(df, schema::JUSTIFICATION)?;
    let vm = strs(df, schema::VM_ID)?;
    let port = ints(df, schema::PORT)?;
    let source = strs(df, schema::SOURCE_PREFIX)?;
    let end = times(df, schema::END_TIME)?;
    let status = strs(df, schema::STATUS)?;
    let reason = strs(df, schema::STATUS_REASON)?;
    let policy = strs(df, schema::POLICY_ID)?;
    let file = strs(df, schema::SOURCE_FILE)?;
    let mapped = ints(df, schema::MAPPED_PORT)?;
    let s = |v: Option<&str>| v.map(str::to_string);
    Ok((0..df.height())
        .map(|i| Row {
            requested_at: at.get(i),
            requestor: s(requestor.get(i)),
            justification: s(justification.get(i)),
            vm_id: s(vm.get(i)),
            port: port.get(i),
            source_prefix: s(source.get(i)),
            end_time: end.get(i),
            status: s(status.get(i)),
            status_reason: s(reason.get(i)),
            policy_id: s(policy.get(i)),
            mapped_port: mapped.get(i),
            in_history: true,
            source_file: s(file.get(i)),
            ..Row::default()
        })
        .collect())
}

/// The events of one initiate call, grouped by correlation id.
#[derive(Default)]
struct Call {
    time: Option<i64>,
    failed: bool,
    caller: Option<String>,
    caller_ip: Option<String>,
    policy_id: Option<String>,
    status: Option<String>,
    request: Option<Map<String, Value>>,
    response: Option<Map<String, Value>>,
    justification: Option<String>,
    correlation_id: Option<String>,
    source_file: Option<String>,
}

fn initiate_rows(t: &Tables) -> Result<Vec<Row>> {
    let df = &t.events;
    let op = strs(df, schema::OPERATION_ID)?;
    let time = times(df, schema::TIME)?;
    let status = strs(df, schema::STATUS)?;
    let caller = strs(df, schema::CALLER)?;
    let caller_ip = strs(df, schema::CALLER_IP)?;
    let correlation = strs(df, schema::CORRELATION_ID)?;
    let event_id = strs(df, schema::EVENT_ID)?;
    let resource = strs(df, schema::RESOURCE_ID)?;
    let props = strs(df, schema::PROPERTIES)?;
    let file = strs(df, schema::SOURCE_FILE)?;
    let mut calls: BTreeMap<String, Call> = BTreeMap::new();
    for i in 0..df.height() {
        if op.get(i) != Some(ops::JIT_INITIATE) {
            continue;
        }
        let key = correlation
            .get(i)
            .or(event_id.get(i))
            .unwrap_or_default()
            .to_string();
        let call = calls.entry(key).or_default();
        let t = time.get(i);
        if call.time.is_none() || t < call.time {
            call.time = t;
        }
        let st = status.get(i);
        call.failed |= st == Some("Failed");
        // The last word on the call: Succeeded or Accepted over Started.
        if call.status.is_none() || matches!(st, Some("Succeeded" | "Accepted")) {
            call.status = st.map(str::to_string);
        }
        call.caller = call.caller.take().or(caller.get(i).map(str::to_string));
        call.caller_ip = call
            .caller_ip
            .take()
            .or(caller_ip.get(i).map(str::to_string));
        call.policy_id = call
            .policy_id
            .take()
            .or(resource.get(i).map(str::to_string));
        call.source_file = call.source_file.take().or(file.get(i).map(str::to_string));
        call.correlation_id = call
            .correlation_id
            .take()
            .or(correlation.get(i).map(str::to_string));
        if let Some(p) = props
            .get(i)
            .and_then(|p| serde_json::from_str::<Map<String, Value>>(p).ok())
        {
            if call.request.is_none() {
                call.request = get(&p, "requestbody").and_then(as_object);
            }
            if call.response.is_none() {
                call.response = get(&p, "responseBody").and_then(as_object);
            }
            if call.justification.is_none() {
                call.justification = text_at(&p, "Justification");
            }
        }
    }
    let mut rows = Vec::new();
    for call in calls.into_values().filter(|c| !c.failed) {
        rows.extend(call_rows(call));
    }
    Ok(rows)
}

fn call_rows(call: Call) -> Vec<Row> {
    let body = call.request.as_ref().or(call.response.as_ref());
    let start = call
        .response
        .as_ref()
        .and_then(|r| text_at(r, "startTimeUtc"))
        .and_then(|t| normalize::parse_time(&t))
        .or(call.time);
    let requestor = call
        .response
        .as_ref()
        .and_then(|r| text_at(r, "requestor"))
        .or(call.caller.clone());
    let justification = body
        .and_then(|b| text_at(b, "justification"))
        .or(call.justification.clone());
    let base = Row {
        requested_at: start,
        requestor,
        caller_ip: call.caller_ip.clone(),
        justification,
        status: call.status.clone(),
        policy_id: call.policy_id.clone(),
        correlation_id: call.correlation_id.clone(),
        in_activity: true,
        source_file: call.source_file.clone(),
        ..Row::default()
    };
    let mut rows = Vec::new();
    for vm in body
        .map(|b| objects(b, "virtualMachines"))
        .unwrap_or_default()
    {
        for port in objects(vm, "ports") {
            let sources = singular_and_plural(
                port,
                "allowedSourceAddressPrefix",
                "allowedSourceAddressPrefixes",
            );
            rows.push(Row {
                vm_id: text_at(vm, "id"),
                port: get(port, "number").and_then(Value::as_i64),
                // "If omitted, the request will be for the source IP address of the initiate
                // request" (JitNetworkAccessPolicyInitiatePort).
                source_prefix: if sources.is_empty() {
                    call.caller_ip.clone()
                } else {
                    Some(sources.join(","))
                },
                end_time: text_at(port, "endTimeUtc").and_then(|t| normalize::parse_time(&t)),
                ..base.clone()
            });
        }
    }
    if rows.is_empty() {
        rows.push(base);
    }
    rows
}

/// Folds each initiate-event row into the history row for the same request, or adds it.
fn merge_events(rows: &mut Vec<Row>, events: Vec<Row>) {
    for ev in events {
        let ev_vm = ev.vm_key();
        let matches: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.in_history && !r.in_activity)
            .filter(|(_, r)| near(r.requested_at, ev.requested_at))
            .filter(|(_, r)| same_person(r.requestor.as_deref(), ev.requestor.as_deref()))
            .filter(|(_, r)| match &ev_vm {
                Some(vm) => r.vm_key().as_ref() == Some(vm) && r.port == ev.port,
                // A call whose body was not logged: every row of the same policy's request.
                None => r.policy_id.as_deref().map(id_key) == ev.policy_id.as_deref().map(id_key),
            })
            .map(|(i, _)| i)
            .collect();
        let chosen: Vec<usize> = if ev_vm.is_some() {
            // The closest in time, should history hold two requests minutes apart.
            matches
                .into_iter()
                .min_by_key(|i| {
                    (rows[*i].requested_at.unwrap_or(0) - ev.requested_at.unwrap_or(0)).abs()
                })
                .into_iter()
                .collect()
        } else {
            matches
        };
        if chosen.is_empty() {
            rows.push(ev);
            continue;
        }
        for i in chosen {
            let r = &mut rows[i];
            r.in_activity = true;
            r.caller_ip = r.caller_ip.take().or(ev.caller_ip.clone());
            r.correlation_id = r.correlation_id.take().or(ev.correlation_id.clone());
            r.justification = r.justification.take().or(ev.justification.clone());
            r.source_prefix = r
                .source_prefix
                .take()
                .filter(|s| !s.is_empty())
                .or(ev.source_prefix.clone());
            r.end_time = r.end_time.or(ev.end_time);
            r.requestor = r.requestor.take().or(ev.requestor.clone());
        }
    }
}

/// Marks the requests whose Allow rule is in an NSG snapshot; an Allow rule no other source
/// explains becomes a row of its own, dated by nothing but the snapshot.
/// JIT's DNAT rules on Azure Firewalls (collections `ASC-JIT...`/`MDC-JIT...`), joined as the
/// NSG allow rules are: to the latest request of the VM port they translate to whose mapped
/// port they open (`mappedPort` in the policy history), which gains the rule as its network
/// evidence (`in_nsg`, `nsg_rule_id`: the firewall, collection and rule).
fn merge_firewall_rules(rows: &mut [Row], t: &Tables) -> Result<()> {
    let df = &t.firewalls;
    let (id, rules) = (strs(df, schema::FIREWALL_ID)?, strs(df, schema::NAT_RULES)?);
    for i in 0..df.height() {
        let Ok(serde_json::Value::Array(list)) =
            serde_json::from_str::<serde_json::Value>(rules.get(i).unwrap_or("[]"))
        else {
            continue;
        };
        for rule in list.iter().filter(|r| r["jit"] == true) {
            let port = |v: &serde_json::Value| -> Option<i64> {
                v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
            };
            let Some(vm_port) = port(&rule["translated_port"]) else {
                continue;
            };
            let opened: Vec<i64> = rule["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(port)
                .collect();
            let found = rows
                .iter_mut()
                .filter(|r| r.port == Some(vm_port))
                .filter(|r| r.mapped_port.is_some_and(|m| opened.contains(&m)))
                .max_by_key(|r| r.requested_at);
            if let Some(r) = found {
                r.in_nsg = true;
                r.nsg_rule_id = r.nsg_rule_id.take().or_else(|| {
                    Some(format!(
                        "{}/natRuleCollections/{}/{}",
                        id.get(i).unwrap_or(""),
                        rule["collection"].as_str().unwrap_or(""),
                        rule["name"].as_str().unwrap_or("")
                    ))
                });
            }
        }
    }
    Ok(())
}

fn merge_nsg_rules(rows: &mut Vec<Row>, t: &Tables) -> Result<()> {
    let df = &t.nsg_rules;
    let kind = strs(df, schema::JIT_RULE)?;
    let vm_name = strs(df, schema::JIT_VM_NAME)?;
    let ports = strs(df, schema::DESTINATION_PORT_RANGES)?;
    let sources = strs(df, schema::SOURCE_PREFIXES)?;
    let rule_id = strs(df, schema::RULE_ID)?;
    let rule_name = strs(df, schema::RULE_NAME)?;
    let subscription = strs(df, schema::SUBSCRIPTION_ID)?;
    let file = strs(df, schema::SOURCE_FILE)?;
    let default = bools(df, schema::IS_DEFAULT)?;
    let vms = vm_ids_by_name(t)?;
    for i in 0..df.height() {
        if kind.get(i) != Some(schema::jit_rule::ALLOW) || default.get(i) == Some(true) {
            continue;
        }
        let Some(name) = vm_name.get(i) else { continue };
        let source = sources.get(i).map(str::to_string);
        let id = rule_id.get(i).or(rule_name.get(i)).map(str::to_string);
        for port in ports
            .get(i)
            .unwrap_or("")
            .split(',')
            .filter_map(|p| p.trim().parse::<i64>().ok())
        {
            let found = rows
                .iter_mut()
                .filter(|r| {
                    r.vm_id
                        .as_deref()
                        .and_then(name_of)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
                .filter(|r| r.port == Some(port))
                .filter(|r| source.is_none() || r.source_prefix == source)
                .max_by_key(|r| r.requested_at);
            match found {
                Some(r) => {
                    r.in_nsg = true;
                    r.nsg_rule_id = r.nsg_rule_id.take().or(id.clone());
                }
                None => rows.push(Row {
                    vm_id: vms
                        .get(&(
                            subscription.get(i).unwrap_or("").to_string(),
                            name.to_ascii_lowercase(),
                        ))
                        .cloned(),
                    port: Some(port),
                    source_prefix: source.clone(),
                    status: Some("Initiated".to_string()),
                    in_nsg: true,
                    nsg_rule_id: id.clone(),
                    source_file: file.get(i).map(str::to_string),
                    ..Row::default()
                }),
            }
        }
    }
    Ok(())
}

fn vm_ids_by_name(t: &Tables) -> Result<HashMap<(String, String), String>> {
    let id = strs(&t.vms, schema::VM_ID)?;
    let name = strs(&t.vms, schema::VM_NAME)?;
    let sub = strs(&t.vms, schema::SUBSCRIPTION_ID)?;
    Ok((0..t.vms.height())
        .filter_map(|i| {
            Some((
                (
                    sub.get(i).unwrap_or("").to_string(),
                    name.get(i)?.to_ascii_lowercase(),
                ),
                id.get(i)?.to_string(),
            ))
        })
        .collect())
}

fn finish(mut rows: Vec<Row>, t: &Tables) -> Result<polars::prelude::DataFrame> {
    let protocols = policy_ports(t)?;
    rows.sort_by(|a, b| {
        (
            a.requested_at.is_none(),
            a.requested_at,
            a.vm_key(),
            a.port,
            &a.requestor,
            &a.source_prefix,
        )
            .cmp(&(
                b.requested_at.is_none(),
                b.requested_at,
                b.vm_key(),
                b.port,
                &b.requestor,
                &b.source_prefix,
            ))
    });
    let mut out = TableBuilder::new(&schema::REQUESTS);
    for r in rows {
        let vm_key = r.vm_key();
        let parsed = r
            .vm_id
            .as_deref()
            .map(parse_resource_id)
            .unwrap_or_default();
        let policy = vm_key
            .as_ref()
            .and_then(|vm| protocols.get(&(vm.clone(), r.port)));
        let policy_id = r
            .policy_id
            .clone()
            .or_else(|| policy.and_then(|p| p.1.clone()));
        let mut sources = Vec::new();
        for (flag, name) in [
            (r.in_history, evidence::POLICY_HISTORY),
            (r.in_activity, evidence::INITIATE_EVENT),
            (r.in_nsg, evidence::NSG_RULE),
        ] {
            if flag {
                sources.push(name);
            }
        }
        let subscription = parsed.subscription.map(canonical_subscription).or_else(|| {
            policy_id.as_deref().and_then(|p| {
                parse_resource_id(p)
                    .subscription
                    .map(canonical_subscription)
            })
        });
        out.row()
            .str(schema::REQUEST_ID, Some(request_id(&r)))
            .time(schema::REQUESTED_AT, r.requested_at)
            .str(schema::REQUESTOR, r.requestor.clone())
            .str(schema::CALLER_IP, r.caller_ip.clone())
            .str(schema::JUSTIFICATION, r.justification.clone())
            .str(schema::SUBSCRIPTION_ID, subscription)
            .str(schema::RESOURCE_GROUP, parsed.resource_group)
            .str(schema::VM_NAME, parsed.name)
            .str(schema::VM_ID, r.vm_id.clone())
            .str(schema::VM_KEY, vm_key.clone())
            .int(schema::PORT, r.port)
            .str(schema::PROTOCOL, policy.and_then(|p| p.0.clone()))
            .str(schema::SOURCE_PREFIX, r.source_prefix.clone())
            .time(schema::END_TIME, r.end_time)
            .int(
                schema::DURATION_SECONDS,
                r.requested_at
                    .zip(r.end_time)
                    .map(|(s, e)| (e - s).div_euclid(NANOS)),
            )
            .str(schema::STATUS, r.status.clone())
            .str(schema::STATUS_REASON, r.status_reason.clone())
            .str(schema::POLICY_KEY, policy_id.as_deref().map(id_key))
            .str(schema::POLICY_ID, policy_id)
            .str(schema::CORRELATION_ID, r.correlation_id.clone())
            .str(schema::EVIDENCE, Some(sources.join("+")))
            .bool(schema::IN_POLICY_HISTORY, Some(r.in_history))
            .bool(schema::IN_ACTIVITY_LOG, Some(r.in_activity))
            .bool(schema::IN_NSG, Some(r.in_nsg))
            .str(schema::NSG_RULE_ID, r.nsg_rule_id.clone())
            .str(schema::FIREWALL_IP, policy.and_then(|p| p.2.clone()))
            .int(schema::MAPPED_PORT, r.mapped_port)
            .str(schema::SOURCE_FILE, r.source_file.clone());
    }
    Ok(out.finish())
}

/// A policy port's protocol, policy id, and the public IP of the Azure Firewall in front of
/// the VM (its access opens as a DNAT rule there, reachable from the internet whatever the NSG
/// says).
type PolicyPort = (Option<String>, Option<String>, Option<String>);

/// (vm_key, port) to (protocol, policy id, firewall IP), from the policies.
fn policy_ports(t: &Tables) -> Result<HashMap<(String, Option<i64>), PolicyPort>> {
    let vm = strs(&t.policies, schema::VM_KEY)?;
    let port = ints(&t.policies, schema::PORT)?;
    let protocol = strs(&t.policies, schema::PROTOCOL)?;
    let policy = strs(&t.policies, schema::POLICY_ID)?;
    let firewall = strs(&t.policies, schema::FIREWALL_IP)?;
    let mut map = HashMap::new();
    for i in 0..t.policies.height() {
        if let Some(vm) = vm.get(i) {
            map.entry((vm.to_string(), port.get(i))).or_insert((
                protocol.get(i).map(str::to_string),
                policy.get(i).map(str::to_string),
                firewall.get(i).map(str::to_string),
            ));
        }
    }
    Ok(map)
}

/// A stable id for a ledger row: the same request always gets the same id.
fn request_id(r: &Row) -> String {
    let mut h = Sha256::new();
    let parts = [
        r.vm_key(),
        r.port.map(|p| p.to_string()),
        r.requested_at.map(|t| t.to_string()),
        r.requestor.as_deref().map(str::to_ascii_lowercase),
        r.source_prefix.clone(),
        if r.requested_at.is_none() {
            r.nsg_rule_id.clone()
        } else {
            None
        },
        if r.vm_id.is_none() {
            r.correlation_id.clone().or(r.policy_id.clone())
        } else {
            None
        },
    ];
    for p in parts {
        h.update(p.unwrap_or_default().as_bytes());
        h.update([0x1f]);
    }
    format!("r-{}", &hex::encode(h.finalize())[..16])
}
