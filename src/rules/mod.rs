//! Detection rules: tables in, findings out, pure and deterministic. Rust computes the
//! enriched columns ([`enrich`]); most rules are then SQL files under `queries/rules/` run by
//! Polars SQL; the two that need ordered state (baselines, interval unions) are in
//! [`stateful`]. Severity overrides and suppressions from the configuration are applied last.

pub mod finding;

pub use crate::catalogue;
pub mod stateful;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use polars::prelude::IntoLazy;
use rayon::prelude::*;

use crate::config::{Config, Suppression};
use crate::enrich;
use crate::sql::{Engine, Literal};
use crate::tables::Tables;
use crate::window::Window;
use catalogue::{Builtin, Logic, RULES};
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
    // Every request is enriched once: the window's are what the rules judge, and the baseline
    // of JIT009 learns from all of them. Enrichment is row by row, so the window's rows are
    // the same whether they are picked before or after.
    let rt = enrich::enrich(t, &t.requests, config)?;
    let requests = window.filter(&rt.requests, crate::schema::REQUESTED_AT, true)?;
    let events = window.filter(&t.events, crate::schema::TIME, false)?;
    // The tables the rules read are made at once, each on a thread of its own.
    let ((jit_events, access), grants) = rayon::join(
        || {
            rayon::join(
                || enrich::jit_events::jit_events(&events, config),
                || enrich::rights::access_for_rules(t, &requests),
            )
        },
        || enrich::grants::role_grants(t, &events),
    );
    let frames = [
        ("requests", requests.clone().lazy()),
        ("policies", rt.policies.clone().lazy()),
        ("vms", rt.vms.clone().lazy()),
        ("exposures", rt.exposures.clone().lazy()),
        ("jit_events", jit_events?.lazy()),
        ("access", access?.lazy()),
        ("role_grants", grants?.lazy()),
    ];
    let params = params(config);
    // The rules run side by side (a third of `caller`'s time after the read ran them one
    // after another on one core), each in an engine of its own; their findings are taken in
    // the catalogue's order.
    let ran: Vec<Result<(Vec<Finding>, Option<stateful::Baseline>)>> = RULES
        .par_iter()
        .map(|rule| match rule.logic {
            Logic::Sql(sql) => {
                let mut engine = Engine::new();
                for (name, frame) in &frames {
                    engine.register(name, frame.clone());
                }
                let df = engine.run(sql, &params).with_context(|| {
                    format!("running rule {} ({}/rule.sql)", rule.id, rule.folder)
                })?;
                Ok((finding::from_frame(rule, &df)?, None))
            }
            Logic::Builtin(Builtin::NewSources, _) => {
                let (new_sources, learned) =
                    stateful::new_sources(rule, &rt.requests, window, config, state)?;
                Ok((new_sources, Some(learned)))
            }
            Logic::Builtin(Builtin::Chained, _) => {
                Ok((stateful::chained(rule, &requests, config)?, None))
            }
        })
        .collect();
    let mut findings = Vec::new();
    let mut baseline = stateful::Baseline::default();
    for outcome in ran {
        let (found, learned) = outcome?;
        findings.extend(found);
        if let Some(learned) = learned {
            baseline = learned;
        }
    }
    for f in &mut findings {
        if let Some(sev) = config.severity.get(f.rule_id.as_str()) {
            f.severity = *sev;
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::pipeline::{self, LoadOptions};
    use crate::schema::RULE_INPUTS;

    /// The tables the SQL rules read have the columns `schema::RULE_INPUTS` names, in order:
    /// the contract `jitaudit rules explain` and `docs/tables.md` state.
    #[test]
    fn the_rules_inputs_have_the_columns_the_schema_names() {
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
        let text = std::fs::read_to_string(sample.join("jitaudit.toml")).unwrap();
        let config = Config::parse(&text, "sample-data/jitaudit.toml").unwrap();
        let t = pipeline::load(&[sample], LoadOptions::default())
            .unwrap()
            .tables;
        let rt = enrich::enrich(&t, &t.requests, &config).unwrap();
        let jit_events = enrich::jit_events::jit_events(&t.events, &config).unwrap();
        let access = enrich::rights::access_for_rules(&t, &t.requests).unwrap();
        let grants = enrich::grants::role_grants(&t, &t.events).unwrap();
        for input in RULE_INPUTS {
            let df = match input.name {
                "requests" => &rt.requests,
                "policies" => &rt.policies,
                "vms" => &rt.vms,
                "exposures" => &rt.exposures,
                "jit_events" => &jit_events,
                "access" => &access,
                "role_grants" => &grants,
                other => panic!("no frame for rule input {other}"),
            };
            assert!(df.height() > 0, "{} has rows in the sample", input.name);
            let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
            assert_eq!(names, input.column_names(), "{}", input.name);
        }
    }
}
