//! The columns rules need that SQL cannot say clearly: local times and business hours in
//! each caller's IANA zone, CIDR containment, wide sources, port ranges, justification quality,
//! who a requestor is. Computed here, once, as columns of the tables the SQL rules read
//! ([`RuleTables`]); [`exposure`] adds what the NSGs leave open, [`jit_events`] the Activity
//! Log's JIT records as rows.

use std::collections::HashMap;
use std::net::IpAddr;

use anyhow::Result;
use chrono::{Datelike, TimeZone, Timelike, Utc};
use ipnet::IpNet;
use polars::prelude::*;

pub mod columns;
pub mod exposure;
pub mod grants;
pub mod jit_events;
pub mod rights;

use crate::config::{Config, parse_net};
use crate::normalize::{format_time, is_guid};
use crate::schema;
use crate::tables::{Tables, ints, strs, times};
use columns::{col_bool, col_int, col_str, is_wide, prefixes};

/// The tables the SQL rules run over.
pub struct RuleTables {
    pub requests: DataFrame,
    pub policies: DataFrame,
    pub vms: DataFrame,
    pub exposures: DataFrame,
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
        exposures: exposure::exposures(t, config)?,
        vms: DataFrame::default(),
    })
    .and_then(|mut rt| {
        rt.vms = exposure::enrich_vms(t, &rt.exposures)?;
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
        c.justification_credential
            .push(justification.get(i).and_then(credential));
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
        col_str("justification_credential", c.justification_credential),
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
    justification_credential: Vec<Option<String>>,
}

/// The kinds of credential a text holds (or held, before it was masked), for JIT021.
pub(crate) fn credential(text: &str) -> Option<String> {
    let kinds = crate::secrets::kinds(text);
    (!kinds.is_empty()).then(|| kinds.join(", "))
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
