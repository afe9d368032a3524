//! Past runs, as `--state` keeps them: one compact record a run (its window and its counts),
//! so the report can say what changed since last week and draw the trend across runs without
//! keeping whole summaries (a 90-day tenant's is megabytes).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::report::{Change, ReportSummary, Trend, TrendPoint, outcome};

/// Where `--state` keeps the runs.
const HISTORY: &str = "history.json";
/// Where runs before this file kept the previous run's whole summary; read once, if present.
const LAST_SUMMARY: &str = "last-summary.json";
/// How many runs the history keeps: a year of weekly runs.
pub const KEEP: usize = 52;

/// One run's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub window_from: String,
    pub window_to: String,
    /// Unsuppressed findings, in all, by severity and by rule.
    pub findings: usize,
    pub by_severity: BTreeMap<String, usize>,
    pub by_rule: BTreeMap<String, usize>,
    pub requests: usize,
    pub vms: usize,
    pub vms_without_jit: usize,
}

impl RunRecord {
    pub fn of(s: &ReportSummary) -> RunRecord {
        let mut by_rule = BTreeMap::new();
        for f in s.findings.iter().filter(|f| !f.suppressed) {
            *by_rule.entry(f.rule_id.clone()).or_insert(0) += 1;
        }
        RunRecord {
            window_from: s.window_from.clone(),
            window_to: s.window_to.clone(),
            findings: s.counts.findings,
            by_severity: s.counts.by_severity.clone(),
            by_rule,
            requests: s.counts.requests,
            vms: s.counts.vms,
            vms_without_jit: s.counts.vms - s.counts.vms_with_jit,
        }
    }
}

/// The runs kept in `dir`, oldest first.
pub fn read(dir: &Path) -> Result<Vec<RunRecord>> {
    if let Some(runs) = crate::state::read::<Vec<RunRecord>>(dir, HISTORY, "run history")? {
        return Ok(runs);
    }
    let previous: Option<ReportSummary> = crate::state::read(dir, LAST_SUMMARY, "summary")?;
    Ok(previous.iter().map(RunRecord::of).collect())
}

/// `runs` with `now` added, a run over the same window as an earlier one replacing it (a rerun
/// of the same week is not a new week), the oldest dropped past [`KEEP`].
pub fn with(mut runs: Vec<RunRecord>, now: RunRecord) -> Vec<RunRecord> {
    runs.retain(|r| (&r.window_from, &r.window_to) != (&now.window_from, &now.window_to));
    runs.push(now);
    runs.sort_by(|a, b| a.window_to.cmp(&b.window_to));
    let extra = runs.len().saturating_sub(KEEP);
    runs.drain(..extra);
    runs
}

/// Keeps `runs` in `dir` for the next run.
pub fn keep(dir: &Path, runs: &[RunRecord]) -> Result<()> {
    crate::state::write(dir, HISTORY, &runs)
}

fn deltas(p: &BTreeMap<String, usize>, n: &BTreeMap<String, usize>) -> BTreeMap<String, i64> {
    p.keys()
        .chain(n.keys())
        .map(|k| {
            let v = |m: &BTreeMap<String, usize>| m.get(k).copied().unwrap_or(0) as i64;
            (k.clone(), v(n) - v(p))
        })
        .collect()
}

/// What changed from the `previous` run to `now`.
pub fn between(previous: &RunRecord, now: &RunRecord) -> Change {
    Change {
        findings: now.findings as i64 - previous.findings as i64,
        requests: now.requests as i64 - previous.requests as i64,
        vms_without_jit: now.vms_without_jit as i64 - previous.vms_without_jit as i64,
        by_severity: deltas(&previous.by_severity, &now.by_severity),
        by_rule: deltas(&previous.by_rule, &now.by_rule),
        previous_generated: previous.window_to.clone(),
    }
}

/// The change since the last run in `runs` before `now`'s window, if any.
pub fn since(runs: &[RunRecord], now: &RunRecord) -> Option<Change> {
    runs.iter()
        .rev()
        .find(|r| r.window_to < now.window_to)
        .map(|p| between(p, now))
}

/// Sets the change since the last earlier run of `runs` (each rule group's too) and the
/// trend on `s`, and returns the runs to keep, this one added.
pub fn apply(s: &mut ReportSummary, runs: Vec<RunRecord>) -> Vec<RunRecord> {
    let now = RunRecord::of(s);
    s.change = since(&runs, &now);
    for g in &mut s.attention {
        g.change = (s.change.as_ref()).map(|c| c.by_rule.get(&g.rule_id).copied().unwrap_or(0));
    }
    let runs = with(runs, now);
    s.trend = trend(&runs, s);
    runs
}

/// The trend the report draws: across the kept runs when there are at least two, else per
/// week of the window: requests by the week they were made, findings by the week of their
/// time (posture findings, which have none, are not in a week).
pub fn trend(runs: &[RunRecord], s: &ReportSummary) -> Trend {
    if runs.len() >= 2 {
        return Trend {
            basis: "runs".into(),
            points: runs
                .iter()
                .map(|r| TrendPoint {
                    label: r.window_to.get(..10).unwrap_or(&r.window_to).to_string(),
                    findings: r.findings,
                    requests: r.requests,
                })
                .collect(),
        };
    }
    let monday = |day: &str| -> Option<String> {
        let d = NaiveDate::parse_from_str(day.get(..10)?, "%Y-%m-%d").ok()?;
        let m = d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64);
        Some(m.format("%Y-%m-%d").to_string())
    };
    let mut weeks: BTreeMap<String, TrendPoint> = BTreeMap::new();
    fn point(weeks: &mut BTreeMap<String, TrendPoint>, week: String) -> &mut TrendPoint {
        weeks.entry(week.clone()).or_insert(TrendPoint {
            label: week,
            findings: 0,
            requests: 0,
        })
    }
    for (day, outcomes) in &s.charts.requests_per_day {
        if let Some(w) = monday(day) {
            point(&mut weeks, w).requests += outcomes
                .iter()
                .filter(|(k, _)| k.as_str() != outcome::FAILED)
                .map(|(_, n)| n)
                .sum::<usize>();
        }
    }
    for f in s.findings.iter().filter(|f| !f.suppressed) {
        if let Some(w) = monday(&f.time_utc) {
            point(&mut weeks, w).findings += 1;
        }
    }
    Trend {
        basis: "weeks".into(),
        points: weeks.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(to: &str, findings: usize, high: usize) -> RunRecord {
        RunRecord {
            window_from: String::new(),
            window_to: to.into(),
            findings,
            by_severity: BTreeMap::from([("high".to_string(), high)]),
            by_rule: BTreeMap::from([("JIT002".to_string(), high)]),
            requests: 10,
            vms: 5,
            vms_without_jit: 1,
        }
    }

    #[test]
    fn a_rerun_replaces_its_week_and_the_history_keeps_a_year() {
        let mut runs = Vec::new();
        for w in 0..60 {
            runs = with(runs, run(&format!("2026-{:03}", w), w, 0));
        }
        assert_eq!(runs.len(), KEEP);
        assert_eq!(runs[0].window_to, "2026-008");
        let again = with(runs.clone(), run("2026-059", 99, 0));
        assert_eq!(again.len(), KEEP);
        assert_eq!(again.last().unwrap().findings, 99);
    }

    #[test]
    fn change_is_against_the_last_earlier_run_per_severity_and_rule() {
        let runs = vec![run("2026-11-09", 5, 2), run("2026-11-16", 7, 3)];
        let now = run("2026-11-16", 4, 0);
        // The same window's earlier run is not "previous": the one before it is.
        let c = since(&runs, &now).unwrap();
        assert_eq!(c.findings, -1);
        assert_eq!(c.by_severity["high"], -2);
        assert_eq!(c.by_rule["JIT002"], -2);
        assert_eq!(c.previous_generated, "2026-11-09");
        assert!(since(&runs[..0], &now).is_none());
    }
}
