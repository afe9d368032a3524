//! The one finding type every rule produces and every output writes, in the column order of
//! the findings contract.

use anyhow::Result;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::catalogue::Rule;

/// A finding. Field order is the CSV column order:
/// `rule_id,severity,title,time_utc,subscription_id,vm_id,caller,source,port,detail,evidence,recommendation,suppressed,suppression_reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub severity: String,
    pub title: String,
    /// RFC 3339, or empty for posture findings.
    pub time_utc: String,
    pub subscription_id: String,
    pub vm_id: String,
    pub caller: String,
    pub source: String,
    pub port: Option<i64>,
    pub detail: String,
    pub evidence: String,
    pub recommendation: String,
    pub suppressed: bool,
    pub suppression_reason: String,
}

pub const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];

/// 0 (info) to 4 (critical); unknown text ranks as info.
pub fn rank(severity: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|s| s.eq_ignore_ascii_case(severity))
        .unwrap_or(0)
}

impl Finding {
    pub fn new(rule: &Rule) -> Finding {
        Finding {
            rule_id: rule.id.to_string(),
            severity: rule.severity.to_string(),
            title: rule.title.to_string(),
            time_utc: String::new(),
            subscription_id: String::new(),
            vm_id: String::new(),
            caller: String::new(),
            source: String::new(),
            port: None,
            detail: String::new(),
            evidence: String::new(),
            recommendation: rule.recommendation.to_string(),
            suppressed: false,
            suppression_reason: String::new(),
        }
    }
}

/// Most severe first, then by rule, time and place: the same findings always in one order.
pub fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    rank(&b.severity)
        .cmp(&rank(&a.severity))
        .then_with(|| a.rule_id.cmp(&b.rule_id))
        .then_with(|| a.time_utc.cmp(&b.time_utc))
        .then_with(|| {
            a.vm_id
                .to_ascii_lowercase()
                .cmp(&b.vm_id.to_ascii_lowercase())
        })
        .then_with(|| a.caller.cmp(&b.caller))
        .then_with(|| a.port.cmp(&b.port))
        .then_with(|| a.source.cmp(&b.source))
        .then_with(|| a.detail.cmp(&b.detail))
        .then_with(|| a.evidence.cmp(&b.evidence))
}

/// The findings as a frame (the `findings` table of `jitaudit query`), columns in contract
/// order.
pub fn to_frame(findings: &[Finding]) -> Result<DataFrame> {
    let text = |f: fn(&Finding) -> &String| -> Vec<Option<String>> {
        findings
            .iter()
            .map(|x| Some(f(x).clone()).filter(|s| !s.is_empty()))
            .collect()
    };
    let columns = vec![
        Column::new("rule_id".into(), text(|f| &f.rule_id)),
        Column::new("severity".into(), text(|f| &f.severity)),
        Column::new("title".into(), text(|f| &f.title)),
        Column::new("time_utc".into(), text(|f| &f.time_utc)),
        Column::new("subscription_id".into(), text(|f| &f.subscription_id)),
        Column::new("vm_id".into(), text(|f| &f.vm_id)),
        Column::new("caller".into(), text(|f| &f.caller)),
        Column::new("source".into(), text(|f| &f.source)),
        Column::new(
            "port".into(),
            findings.iter().map(|f| f.port).collect::<Vec<_>>(),
        ),
        Column::new("detail".into(), text(|f| &f.detail)),
        Column::new("evidence".into(), text(|f| &f.evidence)),
        Column::new("recommendation".into(), text(|f| &f.recommendation)),
        Column::new(
            "suppressed".into(),
            findings.iter().map(|f| f.suppressed).collect::<Vec<_>>(),
        ),
        Column::new("suppression_reason".into(), text(|f| &f.suppression_reason)),
    ];
    Ok(DataFrame::new(findings.len(), columns)?)
}

/// Findings from a SQL rule's result: each column named like a finding field fills it.
pub fn from_frame(rule: &Rule, df: &DataFrame) -> Result<Vec<Finding>> {
    let text = |name: &str| -> Result<Option<Vec<Option<String>>>> {
        match df.column(name) {
            Ok(c) => {
                let s = c.cast(&DataType::String)?;
                Ok(Some(
                    s.str()?.iter().map(|v| v.map(str::to_string)).collect(),
                ))
            }
            Err(_) => Ok(None),
        }
    };
    let port: Option<Vec<Option<i64>>> = match df.column("port") {
        Ok(c) => Some(c.cast(&DataType::Int64)?.i64()?.iter().collect()),
        Err(_) => None,
    };
    let fields = [
        "time_utc",
        "subscription_id",
        "vm_id",
        "caller",
        "source",
        "detail",
        "evidence",
        "severity",
    ];
    let columns: Vec<Option<Vec<Option<String>>>> =
        fields.iter().map(|f| text(f)).collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut f = Finding::new(rule);
        let get = |k: usize| {
            columns[k]
                .as_ref()
                .and_then(|c| c[i].clone())
                .unwrap_or_default()
        };
        f.time_utc = get(0);
        f.subscription_id = get(1);
        f.vm_id = get(2);
        f.caller = get(3);
        f.source = get(4);
        f.detail = get(5);
        f.evidence = get(6);
        let severity = get(7);
        if !severity.is_empty() {
            f.severity = severity;
        }
        f.port = port.as_ref().and_then(|p| p[i]);
        out.push(f);
    }
    Ok(out)
}
