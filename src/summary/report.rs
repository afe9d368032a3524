//! The one summary every report output reads: counts, coverage, callers, data quality, method
//! and evidence, and the series the charts draw. Built once from the tables and the rules'
//! outcome; nothing downstream touches the raw inputs.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use chrono::{Datelike, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::attention::RuleGroup;
use super::sources::{InputFile, SourceGroup};
use crate::config::Config;
use crate::normalize::{format_time, name_of};
use crate::pipeline::IngestSummary;
use crate::rules::catalogue::RULES;
use crate::rules::{Finding, Outcome};
use crate::schema;
use crate::severity::Severity;
use crate::tables::{Tables, strs, times};
use crate::window::Window;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Counts {
    pub findings: usize,
    pub suppressed: usize,
    /// Unsuppressed findings by severity.
    pub by_severity: BTreeMap<String, usize>,
    pub requests: usize,
    pub callers: usize,
    pub vms: usize,
    pub vms_with_jit: usize,
    pub policies: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coverage {
    pub subscription_id: String,
    pub name: String,
    pub vms: usize,
    pub with_jit: usize,
    pub without_jit: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallerRow {
    pub caller: String,
    pub requests: usize,
    pub sources: Vec<String>,
    /// Requests outside business hours (JIT001).
    pub odd_hour: usize,
    /// `odd_hour` as a whole percentage of `requests`.
    pub odd_hour_percent: usize,
    pub findings: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleRun {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub severity: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuppressionUse {
    pub rule: String,
    pub scope: String,
    pub reason: String,
    pub expires: String,
    pub findings: usize,
    pub expired: bool,
}

/// A JIT window for the per-VM timeline chart.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenWindow {
    pub vm: String,
    /// The VM's full id: names repeat across resource groups and subscriptions.
    #[serde(default)]
    pub vm_id: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// The data the charts draw, and only that.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ChartData {
    /// Day (YYYY-MM-DD, UTC) to outcome ([`outcome`]) to requests (failed attempts counted
    /// once per correlation id).
    pub requests_per_day: BTreeMap<String, BTreeMap<String, usize>>,
    /// [weekday 0=Mon][hour] request counts in the business-hours zone.
    pub heat: Vec<Vec<usize>>,
    pub heat_zone: String,
    /// Top callers with their request counts.
    pub top_callers: Vec<(String, usize)>,
    /// Rule to severity to unsuppressed findings.
    pub findings_by_rule: BTreeMap<String, BTreeMap<String, usize>>,
    pub windows: Vec<OpenWindow>,
}

/// What changed since the previous run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub findings: i64,
    pub requests: i64,
    pub vms_without_jit: i64,
    /// By severity and by rule, every key of either run.
    #[serde(default)]
    pub by_severity: BTreeMap<String, i64>,
    #[serde(default)]
    pub by_rule: BTreeMap<String, i64>,
    /// The end of the previous run's window.
    pub previous_generated: String,
}

/// One point of the trend chart.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrendPoint {
    /// The run's window end (its date), or the week's Monday.
    pub label: String,
    pub findings: usize,
    pub requests: usize,
}

/// The trend across runs, or, before there are two, across the weeks of this run's window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Trend {
    /// `runs` or `weeks`.
    pub basis: String,
    pub points: Vec<TrendPoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportSummary {
    pub title: String,
    pub tool_version: String,
    pub window_from: String,
    pub window_to: String,
    pub counts: Counts,
    pub change: Option<Change>,
    /// The findings grouped by rule, in the order the first screen shows them.
    #[serde(default)]
    pub attention: Vec<RuleGroup>,
    /// Findings and requests across past runs, or the window's weeks.
    #[serde(default)]
    pub trend: Trend,
    pub coverage: Vec<Coverage>,
    /// Who can open ports, per subscription.
    #[serde(default)]
    pub rights: Vec<super::rights::SubscriptionRights>,
    pub callers: Vec<CallerRow>,
    pub days_without_activity: Vec<String>,
    pub subscriptions_without_activity: Vec<String>,
    pub file_errors: Vec<String>,
    /// Paths under the inputs not read, each with why (documentation, a FIFO, a link loop...).
    #[serde(default)]
    pub passed_over: Vec<String>,
    /// What the inputs say is missing (a partial `collect` snapshot).
    pub input_warnings: Vec<String>,
    pub inputs: Vec<InputFile>,
    /// `inputs` added up by source folder and format.
    #[serde(default)]
    pub sources: Vec<SourceGroup>,
    pub rules: Vec<RuleRun>,
    pub suppressions: Vec<SuppressionUse>,
    pub config_source: String,
    pub config_text: String,
    pub charts: ChartData,
    pub findings: Vec<Finding>,
}

/// The requests of the window, the rows the ledger section and `requests.csv` show.
pub fn window_requests(t: &Tables, window: &Window) -> Result<polars::prelude::DataFrame> {
    window.filter(&t.requests, schema::REQUESTED_AT, true)
}

pub fn build(
    t: &Tables,
    ingest: &IngestSummary,
    outcome: &Outcome,
    config: &Config,
    window: &Window,
    title: &str,
) -> Result<ReportSummary> {
    let req = window_requests(t, window)?;
    let at = times(&req, schema::REQUESTED_AT)?;
    let end = times(&req, schema::END_TIME)?;
    let who = strs(&req, schema::REQUESTOR)?;
    let vm = strs(&req, schema::VM_ID)?;
    let src = strs(&req, schema::SOURCE_PREFIX)?;
    let ip = strs(&req, schema::CALLER_IP)?;
    let findings = &outcome.findings;

    let mut charts = ChartData {
        heat: vec![vec![0; 24]; 7],
        heat_zone: config.timezone.name().to_string(),
        ..ChartData::default()
    };
    // A request whose access ends after the window (or, with no window, after the last record
    // read) is still open.
    let cutoff = window.to.or_else(|| span(t).map(|(_, last)| last));
    for (day, n) in failed_attempts_per_day(t, window)? {
        (charts.requests_per_day.entry(day).or_default()).insert(outcome::FAILED.into(), n);
    }
    let mut callers: BTreeMap<String, CallerRow> = BTreeMap::new();
    for i in 0..req.height() {
        let caller = who.get(i).unwrap_or("(unknown)").to_string();
        let row = callers
            .entry(caller.to_ascii_lowercase())
            .or_insert_with(|| CallerRow {
                caller: caller.clone(),
                requests: 0,
                sources: Vec::new(),
                odd_hour: 0,
                odd_hour_percent: 0,
                findings: 0,
            });
        row.requests += 1;
        if let Some(s) = ip.get(i).or(src.get(i))
            && !row.sources.iter().any(|x| x == s)
        {
            row.sources.push(s.to_string());
        }
        if let Some(t) = at.get(i) {
            let utc = Utc.timestamp_nanos(t);
            let day = utc.format("%Y-%m-%d").to_string();
            let open = end.get(i).is_some_and(|e| cutoff.is_some_and(|c| e > c));
            let what = if open {
                outcome::OPEN
            } else {
                outcome::GRANTED
            };
            *charts
                .requests_per_day
                .entry(day)
                .or_default()
                .entry(what.to_string())
                .or_default() += 1;
            let local = utc.with_timezone(&config.zone_for(who.get(i)));
            charts.heat[local.weekday().num_days_from_monday() as usize][local.hour() as usize] +=
                1;
            charts.windows.push(OpenWindow {
                vm: vm.get(i).and_then(name_of).unwrap_or("?").to_string(),
                vm_id: vm.get(i).unwrap_or("").to_ascii_lowercase(),
                start_ms: t / 1_000_000,
                end_ms: end.get(i).unwrap_or(t) / 1_000_000,
            });
        }
    }
    for f in findings.iter().filter(|f| !f.suppressed) {
        if let Some(c) = callers.get_mut(&f.caller.to_ascii_lowercase()) {
            c.findings += 1;
            c.odd_hour += usize::from(f.rule_id == "JIT001");
        }
        *charts
            .findings_by_rule
            .entry(f.rule_id.clone())
            .or_default()
            .entry(f.severity.to_string())
            .or_default() += 1;
    }
    let mut callers: Vec<CallerRow> = callers.into_values().collect();
    for c in &mut callers {
        c.odd_hour_percent = (c.odd_hour * 100 + c.requests / 2) / c.requests.max(1);
    }
    callers.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.caller.cmp(&b.caller))
    });
    charts.top_callers = callers
        .iter()
        .take(10)
        .map(|c| (c.caller.clone(), c.requests))
        .collect();

    let mut by_severity = BTreeMap::new();
    for f in findings.iter().filter(|f| !f.suppressed) {
        *by_severity.entry(f.severity.to_string()).or_insert(0) += 1;
    }
    let coverage = coverage(t)?;
    let counts = Counts {
        findings: findings.iter().filter(|f| !f.suppressed).count(),
        suppressed: findings.iter().filter(|f| f.suppressed).count(),
        by_severity,
        requests: req.height(),
        callers: callers.len(),
        vms: t.vms.height(),
        vms_with_jit: coverage.iter().map(|c| c.with_jit).sum(),
        policies: strs(&t.policies, schema::POLICY_KEY)?
            .iter()
            .flatten()
            .collect::<BTreeSet<_>>()
            .len(),
    };
    let (days_without, subs_without) = activity_gaps(t, window)?;
    let mut suppressions: Vec<SuppressionUse> = outcome
        .applied
        .iter()
        .map(|(s, n)| suppression_use(s, *n, false))
        .chain(outcome.expired.iter().map(|s| suppression_use(s, 0, true)))
        .collect();
    suppressions.sort_by(|a, b| (&a.rule, &a.scope).cmp(&(&b.rule, &b.scope)));
    let mut summary = ReportSummary {
        title: title.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        window_from: window
            .from
            .map(format_time)
            .unwrap_or_else(|| first_last(t).0),
        window_to: window
            .to
            .map(format_time)
            .unwrap_or_else(|| first_last(t).1),
        counts,
        change: None,
        attention: super::attention::groups(findings),
        trend: Trend::default(),
        coverage,
        rights: super::rights::rights(t, &crate::enrich::rights::access_for_rules(t, &req)?, &req)?,
        callers,
        days_without_activity: days_without,
        subscriptions_without_activity: subs_without,
        file_errors: ingest
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.error))
            .collect(),
        passed_over: ingest
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.path, s.reason))
            .collect(),
        input_warnings: ingest.warnings.clone(),
        inputs: ingest
            .files
            .iter()
            .map(|f| InputFile {
                path: f.path.clone(),
                format: f
                    .format
                    .map(|x| x.name().to_string())
                    .unwrap_or_else(|| "unreadable".into()),
                sha256: f.sha256.clone(),
                bytes: f.bytes,
                records_read: f.records_read,
                records_used: f.records_used,
                records_rejected: f.records_rejected,
                records_skipped: f.records_skipped,
                rejections: f
                    .rejections
                    .iter()
                    .map(|r| {
                        format!(
                            "{} x {} (e.g. {})",
                            r.count,
                            r.reason,
                            r.locations.first().cloned().unwrap_or_default()
                        )
                    })
                    .collect(),
            })
            .collect(),
        sources: Vec::new(),
        rules: RULES
            .iter()
            .map(|r| RuleRun {
                id: r.id.to_string(),
                version: r.version,
                title: r.title.to_string(),
                severity: config
                    .severity
                    .get(r.id)
                    .copied()
                    .unwrap_or(r.severity)
                    .to_string(),
            })
            .collect(),
        suppressions,
        config_source: config
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "built-in defaults".into()),
        config_text: config.text.clone(),
        charts,
        findings: findings.clone(),
    };
    summary.sources = super::sources::source_groups(&summary.inputs);
    Ok(summary)
}

fn suppression_use(s: &crate::config::Suppression, n: usize, expired: bool) -> SuppressionUse {
    let scope = [
        ("vm", &s.vm),
        ("caller", &s.caller),
        ("subscription", &s.subscription),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} = {v}")))
    .collect::<Vec<_>>()
    .join(", ");
    SuppressionUse {
        rule: s.rule.clone(),
        scope,
        reason: s.reason.clone(),
        expires: s
            .expires
            .map(|d| d.to_string())
            .unwrap_or_else(|| "never".into()),
        findings: n,
        expired,
    }
}

/// The first and last event or request time in the input, as the window when none was given.
fn first_last(t: &Tables) -> (String, String) {
    match span(t) {
        Some((first, last)) => (format_time(first), format_time(last)),
        None => Default::default(),
    }
}

/// The first and last event or request time in the input.
fn span(t: &Tables) -> Option<(i64, i64)> {
    let mut all: Vec<i64> = Vec::new();
    // `activity_hours` counts every Activity Log record read, parsed or passed over.
    for col in [schema::FIRST_TIME, schema::LAST_TIME] {
        if let Ok(e) = times(&t.activity_hours, col) {
            all.extend(e.iter().flatten());
        }
    }
    if let Ok(r) = times(&t.requests, schema::REQUESTED_AT) {
        all.extend(r.iter().flatten());
    }
    Some((*all.iter().min()?, *all.iter().max()?))
}

/// What a request per day chart counts: what happened, not which record said it (the policy's
/// history says Revoked, an initiate event alone Succeeded, for the same granted access).
pub mod outcome {
    pub const GRANTED: &str = "granted";
    pub const OPEN: &str = "granted, still open at the window's end";
    pub const FAILED: &str = "failed attempt";
    /// In the order the chart stacks them.
    pub const ALL: [&str; 3] = [GRANTED, OPEN, FAILED];
}

/// Failed initiate attempts in the window, one per correlation id, by UTC day.
fn failed_attempts_per_day(t: &Tables, window: &Window) -> Result<BTreeMap<String, usize>> {
    let e = window.filter(&t.events, schema::TIME, false)?;
    let (op, st, corr, time) = (
        strs(&e, schema::OPERATION_ID)?,
        strs(&e, schema::STATUS)?,
        strs(&e, schema::CORRELATION_ID)?,
        times(&e, schema::TIME)?,
    );
    let mut seen: BTreeSet<(String, &str)> = BTreeSet::new();
    for i in 0..e.height() {
        if op.get(i) == Some(schema::ops::JIT_INITIATE)
            && st.get(i) == Some("Failed")
            && let Some(at) = time.get(i)
        {
            let day = Utc.timestamp_nanos(at).format("%Y-%m-%d").to_string();
            seen.insert((day, corr.get(i).unwrap_or("")));
        }
    }
    let mut per_day = BTreeMap::new();
    for (day, _) in seen {
        *per_day.entry(day).or_default() += 1;
    }
    Ok(per_day)
}

fn coverage(t: &Tables) -> Result<Vec<Coverage>> {
    let covered: BTreeSet<&str> = strs(&t.policies, schema::VM_KEY)?
        .iter()
        .flatten()
        .collect();
    let names: BTreeMap<&str, &str> = {
        let id = strs(&t.subscriptions, schema::SUBSCRIPTION_ID)?;
        let name = strs(&t.subscriptions, schema::DISPLAY_NAME)?;
        (0..t.subscriptions.height())
            .filter_map(|i| Some((id.get(i)?, name.get(i).unwrap_or(""))))
            .collect()
    };
    let sub = strs(&t.vms, schema::SUBSCRIPTION_ID)?;
    let key = strs(&t.vms, schema::VM_KEY)?;
    let name = strs(&t.vms, schema::VM_NAME)?;
    let mut by_sub: BTreeMap<String, Coverage> = BTreeMap::new();
    for i in 0..t.vms.height() {
        let s = sub.get(i).unwrap_or("").to_string();
        let c = by_sub.entry(s.clone()).or_insert_with(|| Coverage {
            name: names.get(s.as_str()).copied().unwrap_or("").to_string(),
            subscription_id: s,
            vms: 0,
            with_jit: 0,
            without_jit: Vec::new(),
        });
        c.vms += 1;
        if key.get(i).is_some_and(|k| covered.contains(k)) {
            c.with_jit += 1;
        } else {
            c.without_jit.push(name.get(i).unwrap_or("?").to_string());
        }
    }
    Ok(by_sub.into_values().collect())
}

/// UTC days in the window with no Activity Log record, and subscriptions of the inventory with
/// none at all: gaps an auditor must know before trusting "no findings".
fn activity_gaps(t: &Tables, window: &Window) -> Result<(Vec<String>, Vec<String>)> {
    // Read from `activity_hours`, which counts every record read, including those a
    // prefilter passed over: an hour whose records all fall outside the window is not counted.
    let h = &t.activity_hours;
    let (first, last) = (times(h, schema::FIRST_TIME)?, times(h, schema::LAST_TIME)?);
    let sub = strs(h, schema::SUBSCRIPTION_ID)?;
    let mut days = BTreeSet::new();
    let mut subs = BTreeSet::new();
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for i in 0..h.height() {
        let (Some(f), Some(l)) = (first.get(i), last.get(i)) else {
            continue;
        };
        // Within one hour: the window's edges cut an hour at most.
        let inside = [f, l]
            .into_iter()
            .find(|ts| window.contains(*ts))
            .or_else(|| {
                (window.from.is_some_and(|w| f < w) && window.to.is_some_and(|w| l >= w))
                    .then(|| window.from.unwrap_or(f))
            });
        if let Some(ts) = inside {
            days.insert(ts.div_euclid(86_400 * 1_000_000_000));
            lo = lo.min(ts);
            hi = hi.max(ts);
            subs.extend(sub.get(i).map(str::to_string));
        }
    }
    let start = window.from.unwrap_or(lo).div_euclid(86_400 * 1_000_000_000);
    let end = window
        .to
        .map(|t| (t - 1).div_euclid(86_400 * 1_000_000_000))
        .unwrap_or(hi.div_euclid(86_400 * 1_000_000_000));
    let missing_days = if lo == i64::MAX {
        Vec::new()
    } else {
        (start..=end)
            .filter(|d| !days.contains(d))
            .map(|d| format_time(d * 86_400 * 1_000_000_000)[..10].to_string())
            .collect()
    };
    let inventory: BTreeSet<String> = strs(&t.subscriptions, schema::SUBSCRIPTION_ID)?
        .iter()
        .flatten()
        .chain(strs(&t.vms, schema::SUBSCRIPTION_ID)?.iter().flatten())
        .map(str::to_string)
        .collect();
    let quiet = inventory
        .into_iter()
        .filter(|s| !subs.contains(s))
        .collect();
    Ok((missing_days, quiet))
}

/// Whether any unsuppressed finding reaches `gate`.
pub fn gate_reached(findings: &[Finding], gate: Severity) -> bool {
    findings.iter().any(|f| !f.suppressed && f.severity >= gate)
}
