//! The columns rules need that SQL cannot say clearly: local times and business hours in
//! each caller's IANA zone, CIDR containment, wide sources, port ranges, justification quality,
//! who a requestor is. Computed here, once, as columns of the tables the SQL rules read.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use anyhow::Result;
use chrono::{Datelike, TimeZone, Timelike, Utc};
use ipnet::IpNet;
use polars::prelude::*;
use serde_json::{Map, Value};

use crate::config::{Config, parse_net};
use crate::normalize::{format_time, id_key, is_guid};
use crate::schema::{self, ops};
use crate::sources::json::{as_object, get, objects, singular_and_plural, text_at};
use crate::tables::{Tables, bools, ints, strs, times};

/// The tables the SQL rules run over.
pub struct RuleTables {
    pub requests: DataFrame,
    pub policies: DataFrame,
    pub vms: DataFrame,
    pub exposures: DataFrame,
    pub jit_events: DataFrame,
}

const NANOS: i64 = 1_000_000_000;

fn col_str(name: &str, v: Vec<Option<String>>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn col_bool(name: &str, v: Vec<Option<bool>>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn col_int(name: &str, v: Vec<Option<i64>>) -> Column {
    Series::new(name.into(), v).into_column()
}

/// A source names everyone: `*`, `Any`, `Internet`, 0.0.0.0/0, ::/0, or a prefix shorter than
/// `min_prefix_length` (for IPv6, that many bits plus 96, the same number of addresses).
pub fn is_wide(source: &str, min_prefix_length: u8) -> bool {
    let s = source.trim();
    if ["*", "any", "internet", "0.0.0.0/0", "::/0", "0.0.0.0"]
        .contains(&s.to_ascii_lowercase().as_str())
    {
        return true;
    }
    match s.parse::<IpNet>() {
        Ok(IpNet::V4(n)) => n.prefix_len() < min_prefix_length,
        Ok(IpNet::V6(n)) => (n.prefix_len() as u16) < (min_prefix_length as u16 + 96).min(128),
        Err(_) => false,
    }
}

fn prefixes(list: Option<&str>) -> Vec<&str> {
    list.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Every prefix of `sources` lies inside an approved network. None when nothing to judge.
fn all_inside(sources: &[&str], approved: &[IpNet]) -> Option<bool> {
    if approved.is_empty() || sources.is_empty() {
        return None;
    }
    Some(sources.iter().all(|s| match parse_net(s) {
        Ok(net) => approved.iter().any(|a| a.contains(&net)),
        Err(_) => false,
    }))
}

fn contains_ip(sources: &[&str], ip: &str) -> Option<bool> {
    let ip: IpAddr = ip.trim().parse().ok()?;
    if sources.is_empty() {
        return None;
    }
    Some(
        sources
            .iter()
            .any(|s| is_wide(s, 0) || parse_net(s).is_ok_and(|n| n.contains(&ip))),
    )
}

/// "5h", "1h30m", "45m".
pub fn human_duration(seconds: i64) -> String {
    let minutes = (seconds + 30) / 60;
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m:02}m"),
    }
}

const BOILERPLATE: &[&str] = &[
    "test",
    "testing",
    "tst",
    ".",
    "..",
    "...",
    "-",
    "--",
    "asdf",
    "asd",
    "qwerty",
    "x",
    "xx",
    "xxx",
    "n/a",
    "na",
    "none",
    "tbd",
    "todo",
    "temp",
    "access",
    "need access",
    "needed",
    "work",
    "admin",
    "maintenance",
    "fix",
    "debug",
    "as discussed",
    "see ticket",
    "jit",
    "rdp",
    "ssh",
    "login",
];

fn justification_problem(j: Option<&str>, config: &Config) -> Option<String> {
    let j = j.map(str::trim).unwrap_or("");
    if j.is_empty() {
        return Some("missing justification".into());
    }
    let folded = j.to_ascii_lowercase();
    if BOILERPLATE.contains(&folded.as_str())
        || j.chars().filter(|c| c.is_alphanumeric()).count() < 3
    {
        return Some("boilerplate justification".into());
    }
    match &config.justification_pattern {
        Some(p) if !p.is_match(j) => Some(format!("justification does not match {}", p.as_str())),
        _ => None,
    }
}

/// Business hours in the caller's zone: (in hours, local time, local day, zone, reason).
fn business_hours(at: i64, zone: chrono_tz::Tz, config: &Config) -> (bool, String, String, String) {
    let utc = Utc.timestamp_nanos(at);
    let local = utc.with_timezone(&zone);
    let h = &config.business_hours;
    let time = local.time().with_nanosecond(0).unwrap_or_default();
    let reason = if h.holidays.contains(&local.date_naive()) {
        Some("holiday".to_string())
    } else if !h.days.contains(&local.weekday()) {
        Some(format!("{}", local.format("%A")))
    } else if time < h.start {
        Some(format!("before {}", h.start.format("%H:%M")))
    } else if time >= h.end {
        Some(format!("after {}", h.end.format("%H:%M")))
    } else {
        None
    };
    (
        reason.is_none(),
        local.format("%Y-%m-%d %H:%M").to_string(),
        local.format("%Y-%m-%d").to_string(),
        reason.unwrap_or_default(),
    )
}

/// Caller kinds the Activity Log recorded, by lower-case caller.
fn caller_kinds(t: &Tables) -> Result<HashMap<String, String>> {
    let caller = strs(&t.events, schema::CALLER)?;
    let kind = strs(&t.events, schema::CALLER_KIND)?;
    let mut map = HashMap::new();
    for i in 0..t.events.height() {
        if let (Some(c), Some(k)) = (caller.get(i), kind.get(i))
            && k != schema::caller_kind::UNKNOWN
        {
            map.entry(c.to_ascii_lowercase())
                .or_insert_with(|| k.to_string());
        }
    }
    Ok(map)
}

pub fn requestor_kind(requestor: &str, kinds: &HashMap<String, String>) -> String {
    kinds
        .get(&requestor.to_ascii_lowercase())
        .cloned()
        .unwrap_or_else(|| {
            if requestor.contains('@') {
                schema::caller_kind::USER.into()
            } else if is_guid(requestor) {
                schema::caller_kind::SERVICE_PRINCIPAL.into()
            } else {
                schema::caller_kind::UNKNOWN.into()
            }
        })
}

pub fn enrich(t: &Tables, requests: &DataFrame, config: &Config) -> Result<RuleTables> {
    let kinds = caller_kinds(t)?;
    let policy_max = policy_max(t)?;
    Ok(RuleTables {
        requests: enrich_requests(requests, config, &kinds, &policy_max)?,
        policies: enrich_policies(&t.policies, config)?,
        exposures: exposures(t, config)?,
        vms: DataFrame::default(),
        jit_events: DataFrame::default(),
    })
    .and_then(|mut rt| {
        rt.vms = enrich_vms(t, &rt.exposures)?;
        Ok(rt)
    })
}

fn policy_max(t: &Tables) -> Result<HashMap<(String, i64), i64>> {
    let vm = strs(&t.policies, schema::VM_KEY)?;
    let port = ints(&t.policies, schema::PORT)?;
    let secs = ints(&t.policies, schema::MAX_DURATION_SECONDS)?;
    let mut map = HashMap::new();
    for i in 0..t.policies.height() {
        if let (Some(v), Some(p), Some(s)) = (vm.get(i), port.get(i), secs.get(i)) {
            map.insert((v.to_string(), p), s);
        }
    }
    Ok(map)
}

fn enrich_requests(
    df: &DataFrame,
    config: &Config,
    kinds: &HashMap<String, String>,
    policy_max: &HashMap<(String, i64), i64>,
) -> Result<DataFrame> {
    let at = times(df, schema::REQUESTED_AT)?;
    let requestor = strs(df, schema::REQUESTOR)?;
    let caller_ip = strs(df, schema::CALLER_IP)?;
    let source = strs(df, schema::SOURCE_PREFIX)?;
    let justification = strs(df, schema::JUSTIFICATION)?;
    let vm = strs(df, schema::VM_KEY)?;
    let port = ints(df, schema::PORT)?;
    let duration = ints(df, schema::DURATION_SECONDS)?;
    let n = df.height();
    let mut c = Cols::default();
    for i in 0..n {
        let who = requestor.get(i);
        let zone = config.zone_for(who);
        match at.get(i) {
            Some(t) => {
                let (inside, local, day, reason) = business_hours(t, zone, config);
                c.time_utc.push(Some(format_time(t)));
                c.in_hours.push(Some(inside));
                c.local_time.push(Some(local));
                c.local_day.push(Some(day));
                c.reason.push(Some(reason).filter(|r| !r.is_empty()));
            }
            None => {
                c.time_utc.push(None);
                c.in_hours.push(None);
                c.local_time.push(None);
                c.local_day.push(None);
                c.reason.push(None);
            }
        }
        c.zone.push(Some(zone.name().to_string()));
        let srcs = prefixes(source.get(i));
        let ip = caller_ip.get(i);
        c.caller_ip_approved
            .push(ip.and_then(|ip| all_inside(&[ip], &config.approved_sources)));
        c.source_approved
            .push(all_inside(&srcs, &config.approved_sources));
        c.source_wide.push(Some(
            srcs.iter().any(|s| is_wide(s, config.min_prefix_length)),
        ));
        c.contains_caller
            .push(ip.and_then(|ip| contains_ip(&srcs, ip)));
        let kind = who.map(|w| requestor_kind(w, kinds));
        c.requestor_kind.push(kind.clone());
        c.requestor_problem.push(who.and_then(|w| {
            if !config.allowed_requestors.is_empty()
                && !config.allowed_requestors.contains(&w.to_ascii_lowercase())
            {
                Some("not in requestors.allowed".to_string())
            } else if !config.allow_service_principals
                && kind.as_deref() == Some(schema::caller_kind::SERVICE_PRINCIPAL)
            {
                Some(
                    "a service principal, and requestors.allow_service_principals is false"
                        .to_string(),
                )
            } else {
                None
            }
        }));
        c.justification_problem
            .push(justification_problem(justification.get(i), config));
        let limit = match (vm.get(i), port.get(i)) {
            (Some(v), Some(p)) => policy_max
                .get(&(v.to_string(), p))
                .copied()
                .map_or(config.max_request_duration, |m| {
                    m.min(config.max_request_duration)
                }),
            _ => config.max_request_duration,
        };
        c.limit.push(Some(limit));
        c.limit_text.push(Some(human_duration(limit)));
        c.duration_text.push(duration.get(i).map(human_duration));
    }
    let mut out = df.clone();
    for column in [
        col_str("time_utc", c.time_utc),
        col_bool("in_business_hours", c.in_hours),
        col_str("local_time", c.local_time),
        col_str("local_day", c.local_day),
        col_str("zone", c.zone),
        col_str("off_hours_reason", c.reason),
        col_bool("caller_ip_approved", c.caller_ip_approved),
        col_bool("source_approved", c.source_approved),
        col_bool("source_wide", c.source_wide),
        col_bool("source_contains_caller_ip", c.contains_caller),
        col_str("requestor_kind", c.requestor_kind),
        col_str("requestor_problem", c.requestor_problem),
        col_str("justification_problem", c.justification_problem),
        col_int("duration_limit_seconds", c.limit),
        col_str("duration_limit_text", c.limit_text),
        col_str("duration_text", c.duration_text),
    ] {
        out.with_column(column)?;
    }
    Ok(out)
}

#[derive(Default)]
struct Cols {
    time_utc: Vec<Option<String>>,
    in_hours: Vec<Option<bool>>,
    local_time: Vec<Option<String>>,
    local_day: Vec<Option<String>>,
    zone: Vec<Option<String>>,
    reason: Vec<Option<String>>,
    caller_ip_approved: Vec<Option<bool>>,
    source_approved: Vec<Option<bool>>,
    source_wide: Vec<Option<bool>>,
    contains_caller: Vec<Option<bool>>,
    requestor_kind: Vec<Option<String>>,
    requestor_problem: Vec<Option<String>>,
    justification_problem: Vec<Option<String>>,
    limit: Vec<Option<i64>>,
    limit_text: Vec<Option<String>>,
    duration_text: Vec<Option<String>>,
}

fn enrich_policies(df: &DataFrame, config: &Config) -> Result<DataFrame> {
    let source = strs(df, schema::ALLOWED_SOURCE)?;
    // A port with no source field at all accepts any source the request names.
    let wide: Vec<Option<bool>> = (0..df.height())
        .map(|i| {
            Some(
                source
                    .get(i)
                    .is_none_or(|s| is_wide(s, config.min_prefix_length)),
            )
        })
        .collect();
    let mut out = df.clone();
    out.with_column(col_bool("source_wide", wide))?;
    Ok(out)
}

/// Does a port range list (`22`, `20-25`, `*`, comma-joined) include `port`?
pub fn range_includes(ranges: &str, port: u16) -> bool {
    ranges.split(',').map(str::trim).any(|r| {
        if r == "*" {
            return true;
        }
        match r.split_once('-') {
            Some((lo, hi)) => matches!((lo.trim().parse::<u16>(), hi.trim().parse::<u16>()), (Ok(lo), Ok(hi)) if lo <= port && port <= hi),
            None => r.parse::<u16>() == Ok(port),
        }
    })
}

/// One row per (NSG rule, VM it reaches through a NIC or subnet attachment).
fn exposures(t: &Tables, config: &Config) -> Result<DataFrame> {
    let vm_id = strs(&t.vms, schema::VM_ID)?;
    let vm_name = strs(&t.vms, schema::VM_NAME)?;
    let vm_sub = strs(&t.vms, schema::SUBSCRIPTION_ID)?;
    let vm_nsgs = strs(&t.vms, schema::NSG_IDS)?;
    let vm_subnets = strs(&t.vms, schema::SUBNET_IDS)?;
    let mut by_nsg: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_subnet: HashMap<String, Vec<usize>> = HashMap::new();
    for i in 0..t.vms.height() {
        for n in prefixes(vm_nsgs.get(i)) {
            by_nsg.entry(n.to_string()).or_default().push(i);
        }
        for s in prefixes(vm_subnets.get(i)) {
            by_subnet.entry(s.to_string()).or_default().push(i);
        }
    }
    let r = &t.nsg_rules;
    let nsg_key = strs(r, schema::NSG_KEY)?;
    let nsg_name = strs(r, schema::NSG_NAME)?;
    let rule_id = strs(r, schema::RULE_ID)?;
    let rule_name = strs(r, schema::RULE_NAME)?;
    let priority = ints(r, schema::PRIORITY)?;
    let direction = strs(r, schema::DIRECTION)?;
    let access = strs(r, schema::ACCESS)?;
    let ports = strs(r, schema::DESTINATION_PORT_RANGES)?;
    let sources = strs(r, schema::SOURCE_PREFIXES)?;
    let subnets = strs(r, schema::ATTACHED_SUBNET_IDS)?;
    let jit = strs(r, schema::JIT_RULE)?;
    let default = bools(r, schema::IS_DEFAULT)?;
    let mut b = crate::tables::TableBuilder::new(&EXPOSURES);
    for i in 0..r.height() {
        let mut reached: Vec<(usize, &str)> = Vec::new();
        if let Some(k) = nsg_key.get(i) {
            reached.extend(by_nsg.get(k).into_iter().flatten().map(|v| (*v, "NIC")));
        }
        for s in prefixes(subnets.get(i)) {
            reached.extend(
                by_subnet
                    .get(s)
                    .into_iter()
                    .flatten()
                    .map(|v| (*v, "subnet")),
            );
        }
        let port_list = ports.get(i).unwrap_or("");
        let mgmt: Vec<u16> = config
            .management_ports
            .iter()
            .copied()
            .filter(|p| range_includes(port_list, *p))
            .collect();
        let srcs = prefixes(sources.get(i));
        let from_internet = srcs.iter().any(|s| is_wide(s, config.min_prefix_length));
        for (vm, via) in reached {
            b.row()
                .str("subscription_id", vm_sub.get(vm))
                .str("vm_id", vm_id.get(vm))
                .str("vm_name", vm_name.get(vm))
                .str("nsg_name", nsg_name.get(i))
                .str("rule_name", rule_name.get(i))
                .str("rule_id", rule_id.get(i).or(rule_name.get(i)))
                .int("priority", priority.get(i))
                .str("direction", direction.get(i))
                .str("access", access.get(i))
                .str("ports", Some(port_list))
                .int("port", mgmt.first().map(|p| *p as i64))
                .str("sources", sources.get(i))
                .str("via", Some(via))
                .bool("opens_management_port", Some(!mgmt.is_empty()))
                .bool("from_internet", Some(from_internet))
                .bool("is_jit", Some(jit.get(i).is_some()))
                .bool("is_default", default.get(i));
        }
    }
    Ok(b.finish())
}

/// The `exposures` table the JIT013 SQL reads (not a table `ingest` writes).
pub const EXPOSURES: schema::TableSpec = {
    use schema::ColumnKind::{Bool, Int, Str};
    const fn c(name: &'static str, kind: schema::ColumnKind) -> schema::ColumnSpec {
        schema::ColumnSpec { name, kind }
    }
    schema::TableSpec {
        name: "exposures",
        columns: &[
            c("subscription_id", Str),
            c("vm_id", Str),
            c("vm_name", Str),
            c("nsg_name", Str),
            c("rule_name", Str),
            c("rule_id", Str),
            c("priority", Int),
            c("direction", Str),
            c("access", Str),
            c("ports", Str),
            c("port", Int),
            c("sources", Str),
            c("via", Str),
            c("opens_management_port", Bool),
            c("from_internet", Bool),
            c("is_jit", Bool),
            c("is_default", Bool),
        ],
    }
};

fn enrich_vms(t: &Tables, exposures: &DataFrame) -> Result<DataFrame> {
    let covered: HashSet<String> = strs(&t.policies, schema::VM_KEY)?
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    let mut exposed: HashMap<String, Vec<String>> = HashMap::new();
    let e_vm = strs(exposures, "vm_id")?;
    let e_rule = strs(exposures, "rule_name")?;
    let e_mgmt = bools(exposures, "opens_management_port")?;
    let e_internet = bools(exposures, "from_internet")?;
    let e_access = strs(exposures, "access")?;
    let e_dir = strs(exposures, "direction")?;
    for i in 0..exposures.height() {
        let open = e_mgmt.get(i) == Some(true)
            && e_internet.get(i) == Some(true)
            && e_access
                .get(i)
                .is_some_and(|a| a.eq_ignore_ascii_case("allow"))
            && e_dir
                .get(i)
                .is_some_and(|d| d.eq_ignore_ascii_case("inbound"));
        if let (true, Some(vm), Some(rule)) = (open, e_vm.get(i), e_rule.get(i)) {
            exposed.entry(id_key(vm)).or_default().push(format!(
                "NSG rule {rule} opens a management port to the internet"
            ));
        }
    }
    let key = strs(&t.vms, schema::VM_KEY)?;
    let public = bools(&t.vms, schema::HAS_PUBLIC_IP)?;
    let mut has_jit = Vec::new();
    let mut exposure = Vec::new();
    for i in 0..t.vms.height() {
        let k = key.get(i).unwrap_or("");
        has_jit.push(Some(covered.contains(k)));
        let mut reasons = Vec::new();
        if public.get(i) == Some(true) {
            reasons.push("public IP attached".to_string());
        }
        reasons.extend(exposed.get(k).cloned().unwrap_or_default());
        exposure.push((!reasons.is_empty()).then(|| reasons.join("; ")));
    }
    let mut out = t.vms.clone();
    out.with_column(col_bool("has_jit", has_jit))?;
    out.with_column(col_str("exposure", exposure))?;
    Ok(out)
}

/// JIT policy and initiate events in the window, with the failure code, whether the caller
/// may write policies, and what a write asked for.
pub fn jit_events(events: &DataFrame, config: &Config) -> Result<DataFrame> {
    let op = strs(events, schema::OPERATION_ID)?;
    let keep: Vec<bool> = (0..events.height())
        .map(|i| {
            matches!(
                op.get(i),
                Some(ops::JIT_INITIATE | ops::JIT_WRITE | ops::JIT_DELETE)
            )
        })
        .collect();
    let df = events.filter(&BooleanChunked::from_slice("keep".into(), &keep))?;
    let time = times(&df, schema::TIME)?;
    let caller = strs(&df, schema::CALLER)?;
    let app = strs(&df, schema::APP_ID)?;
    let object = strs(&df, schema::OBJECT_ID)?;
    let props = strs(&df, schema::PROPERTIES)?;
    let sub_status = strs(&df, schema::SUB_STATUS)?;
    let mut time_utc = Vec::new();
    let mut code = Vec::new();
    let mut allowed = Vec::new();
    let mut change = Vec::new();
    for i in 0..df.height() {
        time_utc.push(time.get(i).map(format_time));
        let p = props
            .get(i)
            .and_then(|p| serde_json::from_str::<Map<String, Value>>(p).ok());
        let error_code = p
            .as_ref()
            .and_then(|p| get(p, "statusMessage"))
            .and_then(as_object)
            .and_then(|m| {
                get(&m, "error")
                    .and_then(as_object)
                    .and_then(|e| text_at(&e, "code"))
            });
        code.push(
            error_code
                .or_else(|| p.as_ref().and_then(|p| text_at(p, "statusCode")))
                .or(sub_status.get(i).map(str::to_string)),
        );
        let ids = [caller.get(i), app.get(i), object.get(i)];
        allowed.push(Some(
            ids.iter()
                .flatten()
                .any(|id| config.policy_writers.contains(&id.to_ascii_lowercase())),
        ));
        change.push(
            p.as_ref()
                .and_then(|p| get(p, "requestbody"))
                .and_then(as_object)
                .and_then(|b| describe_policy(&b)),
        );
    }
    // The body is logged on the call's first event, the outcome on its last: share the
    // summary across the events of one call.
    let correlation = strs(&df, schema::CORRELATION_ID)?;
    let mut by_call: HashMap<&str, String> = HashMap::new();
    for (i, c) in change.iter().enumerate() {
        if let (Some(c), Some(id)) = (c, correlation.get(i)) {
            by_call.entry(id).or_insert_with(|| c.clone());
        }
    }
    for (i, c) in change.iter_mut().enumerate() {
        if c.is_none() {
            *c = correlation.get(i).and_then(|id| by_call.get(id)).cloned();
        }
    }
    let mut out = df.clone();
    out.with_column(col_str("time_utc", time_utc))?;
    out.with_column(col_str("failure_code", code))?;
    out.with_column(col_bool("allowed_writer", allowed))?;
    out.with_column(col_str("change", change))?;
    Ok(out)
}

/// "port 22 from * (PT3H); port 3389 from 10.0.0.0/8 (PT3H)" for a written policy body.
fn describe_policy(body: &Map<String, Value>) -> Option<String> {
    let props = get(body, "properties").and_then(as_object)?;
    let mut parts = Vec::new();
    for vm in objects(&props, "virtualMachines") {
        for port in objects(vm, "ports") {
            let sources = singular_and_plural(
                port,
                "allowedSourceAddressPrefix",
                "allowedSourceAddressPrefixes",
            );
            parts.push(format!(
                "port {} from {} ({})",
                text_at(port, "number").unwrap_or_default(),
                if sources.is_empty() {
                    "any".into()
                } else {
                    sources.join(",")
                },
                text_at(port, "maxRequestAccessDuration").unwrap_or_default()
            ));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Nanoseconds to whole seconds.
pub fn secs(nanos: i64) -> i64 {
    nanos.div_euclid(NANOS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, "test").unwrap()
    }

    #[test]
    fn berlin_winter_trap() {
        let c = config("timezone = \"Europe/Berlin\"\n");
        let t = |s: &str| crate::normalize::parse_time(s).unwrap();
        // 07:30 UTC in January is 08:30 in Berlin: inside business hours.
        assert!(business_hours(t("2027-01-12T07:30:00Z"), c.timezone, &c).0);
        // 17:20 UTC is 18:20 in Berlin: outside.
        assert!(!business_hours(t("2027-01-12T17:20:00Z"), c.timezone, &c).0);
        // In July (UTC+2) 06:30 UTC is 08:30: inside; DST is respected.
        assert!(business_hours(t("2027-07-13T06:30:00Z"), c.timezone, &c).0);
        // A Saturday.
        assert_eq!(
            business_hours(t("2027-01-16T10:00:00Z"), c.timezone, &c).3,
            "Saturday"
        );
    }

    #[test]
    fn wide_sources() {
        for wide in [
            "*",
            "Any",
            "Internet",
            "0.0.0.0/0",
            "::/0",
            "10.0.0.0/8",
            "203.0.113.0/23",
        ] {
            assert!(is_wide(wide, 24), "{wide}");
        }
        for narrow in [
            "203.0.113.0/24",
            "192.0.2.7",
            "192.0.2.7/32",
            "2001:db8::/120",
            "VirtualNetwork",
        ] {
            assert!(!is_wide(narrow, 24), "{narrow}");
        }
    }

    #[test]
    fn port_ranges() {
        assert!(range_includes("443,22", 22));
        assert!(range_includes("20-25", 22));
        assert!(range_includes("*", 3389));
        assert!(!range_includes("80,443", 22));
        assert!(!range_includes("", 22));
    }

    #[test]
    fn justifications() {
        let c = config("[justification]\npattern = \"^(CHG|INC)[0-9]+\"\n");
        assert_eq!(
            justification_problem(None, &c).as_deref(),
            Some("missing justification")
        );
        assert_eq!(
            justification_problem(Some(" Test "), &c).as_deref(),
            Some("boilerplate justification")
        );
        assert!(
            justification_problem(Some("fixing things"), &c)
                .unwrap()
                .contains("does not match")
        );
        assert_eq!(justification_problem(Some("CHG10442 patch"), &c), None);
    }

    #[test]
    fn containment() {
        let approved = vec!["203.0.113.0/24".parse().unwrap()];
        assert_eq!(all_inside(&["203.0.113.7"], &approved), Some(true));
        assert_eq!(all_inside(&["203.0.112.0/23"], &approved), Some(false));
        assert_eq!(all_inside(&["*"], &approved), Some(false));
        assert_eq!(all_inside(&["203.0.113.7"], &[]), None);
        assert_eq!(contains_ip(&["192.0.2.50"], "203.0.113.10"), Some(false));
        assert_eq!(contains_ip(&["203.0.113.0/24"], "203.0.113.10"), Some(true));
    }
}
