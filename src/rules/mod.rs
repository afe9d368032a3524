//! Detection rules: tables in, findings out, pure and deterministic. Rust computes the
//! enriched columns ([`enrich`]); most rules are then SQL files under `queries/rules/` run by
//! Polars SQL; the two that need ordered state (baselines, interval unions) are in
//! [`stateful`]. Severity overrides and suppressions from the configuration are applied last.

pub mod catalogue;
pub mod enrich;
pub mod exposure;
pub mod finding;
pub mod jit_events;
pub mod stateful;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use polars::prelude::{IntoLazy, LazyFrame};
use polars::sql::SQLContext;

use crate::config::{Config, Suppression};
use crate::sql::{Literal, bind};
use crate::tables::Tables;
use crate::window::Window;
use catalogue::{Logic, RULES};
pub use finding::Finding;

/// What a rules run produced.
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// Suppressions that matched at least one finding, with how many.
    pub applied: Vec<(Suppression, usize)>,
    /// Suppressions past their expiry date: no longer applied, reported.
    pub expired: Vec<Suppression>,
    /// The baseline learned for JIT009, for `--state`.
    pub baseline: stateful::Baseline,
}

/// Runs every rule over the tables for the window. `today` decides which suppressions have
/// expired; `state` is the baseline of earlier runs, if any.
pub fn run(
    t: &Tables,
    config: &Config,
    window: &Window,
    today: NaiveDate,
    state: Option<&stateful::Baseline>,
) -> Result<Outcome> {
    let requests = window.filter(&t.requests, crate::schema::REQUESTED_AT, true)?;
    let events = window.filter(&t.events, crate::schema::TIME, false)?;
    let rt = enrich::enrich(t, &requests, config)?;
    let jit_events = jit_events::jit_events(&events, config)?;
    let mut ctx = SQLContext::new();
    ctx.register("requests", rt.requests.clone().lazy());
    ctx.register("policies", rt.policies.lazy());
    ctx.register("vms", rt.vms.lazy());
    ctx.register("exposures", rt.exposures.lazy());
    ctx.register("jit_events", jit_events.lazy());
    let params = params(config);
    let mut findings = Vec::new();
    for rule in RULES {
        match rule.logic {
            Logic::Sql(sql) => {
                let bound = bind(sql, &params).with_context(|| format!("rule {}", rule.id))?;
                let df = ctx
                    .execute(&bound)
                    .and_then(LazyFrame::collect)
                    .with_context(|| {
                        format!("running rule {} (queries/rules/{}.sql)", rule.id, rule.id)
                    })?;
                findings.extend(finding::from_frame(rule, &df)?);
            }
            Logic::Rust(_) => {}
        }
    }
    let all_requests = enrich::enrich(t, &t.requests, config)?.requests;
    let (new_sources, baseline) = stateful::new_sources(&all_requests, window, config, state)?;
    findings.extend(new_sources);
    findings.extend(stateful::chained(&rt.requests, config)?);
    for f in &mut findings {
        if let Some(sev) = config.severity.get(f.rule_id.as_str()) {
            f.severity = sev.clone();
        }
    }
    let (applied, expired) = suppress(&mut findings, &config.suppressions, today);
    findings.sort_by(finding::order);
    Ok(Outcome {
        findings,
        applied,
        expired,
        baseline,
    })
}

fn params(config: &Config) -> BTreeMap<String, Literal> {
    let mut p = BTreeMap::new();
    let mut int = |k: &str, v: i64| p.insert(k.to_string(), Literal::Int(v));
    int("max_policy_duration", config.max_policy_duration);
    int("max_request_duration", config.max_request_duration);
    int("max_continuous_access", config.max_continuous_access);
    int(
        "burst_requests_per_day",
        config.burst_requests_per_day as i64,
    );
    int("min_prefix_length", config.min_prefix_length as i64);
    p.insert(
        "max_policy_duration_text".into(),
        Literal::Str(enrich::human_duration(config.max_policy_duration)),
    );
    p
}

fn matches(s: &Suppression, f: &Finding) -> bool {
    let eq = |want: &Option<String>, have: &[&str]| match want {
        None => true,
        Some(w) => have.iter().any(|h| h.eq_ignore_ascii_case(w)),
    };
    let vm_name = crate::normalize::name_of(&f.vm_id).unwrap_or("");
    s.rule.eq_ignore_ascii_case(&f.rule_id)
        && eq(&s.vm, &[vm_name, f.vm_id.as_str()])
        && eq(&s.caller, &[f.caller.as_str()])
        && eq(&s.subscription, &[f.subscription_id.as_str()])
}

fn suppress(
    findings: &mut [Finding],
    suppressions: &[Suppression],
    today: NaiveDate,
) -> (Vec<(Suppression, usize)>, Vec<Suppression>) {
    let mut applied = Vec::new();
    let mut expired = Vec::new();
    for s in suppressions {
        if s.expires.is_some_and(|e| e < today) {
            expired.push(s.clone());
            continue;
        }
        let mut n = 0;
        for f in findings
            .iter_mut()
            .filter(|f| !f.suppressed && matches(s, f))
        {
            f.suppressed = true;
            f.suppression_reason = match s.expires {
                Some(e) => format!("{} (until {e})", s.reason),
                None => s.reason.clone(),
            };
            n += 1;
        }
        applied.push((s.clone(), n));
    }
    (applied, expired)
}
