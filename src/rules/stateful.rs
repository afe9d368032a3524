//! The two rules that need requests in time order: JIT009 learns each caller's sources from a
//! baseline and reports the first use of a new one; JIT014 merges one caller's windows on one
//! VM port and reports unions longer than the limit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Result;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::finding::Finding;
use crate::catalogue::Rule;
use crate::config::Config;
use crate::enrich::human_duration;
use crate::normalize::format_time;
use crate::schema;
use crate::tables::{ints, strs, times};
use crate::window::Window;

const NANOS: i64 = 1_000_000_000;

/// (caller, VM, port) to that caller's windows on it: (start, end, request).
type Windows<'a> = BTreeMap<(String, String, Option<i64>), Vec<(i64, i64, &'a Req<'a>)>>;
/// Requests this close count as back to back.
const CHAIN_GAP_SECS: i64 = 300;

/// Each caller's known sources (lower-case caller to sources), as `--state` keeps them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Baseline {
    pub callers: BTreeMap<String, BTreeSet<String>>,
}

/// Where `--state` keeps the baseline.
const BASELINE_FILE: &str = "baseline.json";

impl Baseline {
    /// The baseline an earlier run kept in `dir`, or `None` on the first run.
    pub fn read(dir: &Path) -> Result<Option<Baseline>> {
        crate::state::read(dir, BASELINE_FILE, "baseline")
    }

    /// Replaces the baseline kept in `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        crate::state::write(dir, BASELINE_FILE, self)
    }
}

struct Req<'a> {
    id: &'a str,
    at: i64,
    caller: &'a str,
    sources: Vec<&'a str>,
    vm: &'a str,
    sub: &'a str,
    port: Option<i64>,
}

fn rows(df: &DataFrame) -> Result<Vec<Req<'_>>> {
    let id = strs(df, schema::REQUEST_ID)?;
    let at = times(df, schema::REQUESTED_AT)?;
    let caller = strs(df, schema::REQUESTOR)?;
    let ip = strs(df, schema::CALLER_IP)?;
    let src = strs(df, schema::SOURCE_PREFIX)?;
    let vm = strs(df, schema::VM_ID)?;
    let sub = strs(df, schema::SUBSCRIPTION_ID)?;
    let port = ints(df, schema::PORT)?;
    let mut out: Vec<Req<'_>> = (0..df.height())
        .filter_map(|i| {
            let mut sources: Vec<&str> = ip.get(i).into_iter().collect();
            sources.extend(
                src.get(i)
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty()),
            );
            sources.dedup();
            Some(Req {
                id: id.get(i).unwrap_or(""),
                at: at.get(i)?,
                caller: caller.get(i)?,
                sources,
                vm: vm.get(i).unwrap_or(""),
                sub: sub.get(i).unwrap_or(""),
                port: port.get(i),
            })
        })
        .collect();
    out.sort_by(|a, b| (a.at, a.id).cmp(&(b.at, b.id)));
    Ok(out)
}

/// JIT009 (`new_sources`) over all requests: with a `state`, everything it knows is the
/// baseline and every request in the window is judged; without, the first `baseline.days` of
/// the input are.
pub fn new_sources(
    rule: &Rule,
    all: &DataFrame,
    window: &Window,
    config: &Config,
    state: Option<&Baseline>,
) -> Result<(Vec<Finding>, Baseline)> {
    let reqs = rows(all)?;
    let mut known = state.cloned().unwrap_or_default();
    let baseline_end = match (state, reqs.first()) {
        (Some(_), _) | (None, None) => i64::MIN,
        (None, Some(first)) => first.at + config.baseline_days as i64 * 86_400 * NANOS,
    };
    let mut findings = Vec::new();
    for r in &reqs {
        let caller = r.caller.to_ascii_lowercase();
        let seen = known.callers.entry(caller).or_default();
        for s in &r.sources {
            if seen.contains(*s) {
                continue;
            }
            if r.at >= baseline_end && window.contains(r.at) {
                let mut f = Finding::new(rule);
                f.time_utc = format_time(r.at);
                f.subscription_id = r.sub.to_string();
                f.vm_id = r.vm.to_string();
                f.caller = r.caller.to_string();
                f.source = s.to_string();
                f.port = r.port;
                let before: Vec<&str> = seen.iter().map(String::as_str).take(5).collect();
                f.detail = if before.is_empty() {
                    format!("first request seen for this caller, from or for {s}")
                } else {
                    format!(
                        "{s} never seen for this caller before; known: {}",
                        before.join(", ")
                    )
                };
                f.evidence = format!("request {}", r.id);
                findings.push(f);
            }
            seen.insert(s.to_string());
        }
    }
    Ok((findings, known))
}

/// JIT014 (`chained`) over the window's requests.
pub fn chained(rule: &Rule, df: &DataFrame, config: &Config) -> Result<Vec<Finding>> {
    let end = times(df, schema::END_TIME)?;
    let ids = strs(df, schema::REQUEST_ID)?;
    let end_of: BTreeMap<&str, i64> = (0..df.height())
        .filter_map(|i| Some((ids.get(i)?, end.get(i)?)))
        .collect();
    let mut groups: Windows<'_> = BTreeMap::new();
    let reqs = rows(df)?;
    for r in &reqs {
        if let Some(e) = end_of.get(r.id) {
            groups
                .entry((
                    r.caller.to_ascii_lowercase(),
                    r.vm.to_ascii_lowercase(),
                    r.port,
                ))
                .or_default()
                .push((r.at, *e, r));
        }
    }
    let mut findings = Vec::new();
    for windows in groups.values() {
        let mut i = 0;
        while i < windows.len() {
            let (start, mut stop, first) = windows[i];
            let mut members = vec![first.id];
            let mut j = i + 1;
            while j < windows.len() && windows[j].0 <= stop + CHAIN_GAP_SECS * NANOS {
                stop = stop.max(windows[j].1);
                members.push(windows[j].2.id);
                j += 1;
            }
            let span = (stop - start) / NANOS;
            if members.len() >= 2 && span > config.max_continuous_access {
                let mut f = Finding::new(rule);
                f.time_utc = format_time(start);
                f.subscription_id = first.sub.to_string();
                f.vm_id = first.vm.to_string();
                f.caller = first.caller.to_string();
                f.source = first
                    .sources
                    .last()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                f.port = first.port;
                f.detail = format!(
                    "{} requests kept the port open {} continuously, {} to {} (limit {})",
                    members.len(),
                    human_duration(span),
                    format_time(start),
                    format_time(stop),
                    human_duration(config.max_continuous_access)
                );
                f.evidence = format!("requests {}", members.join(","));
                findings.push(f);
            }
            i = j;
        }
    }
    Ok(findings)
}
