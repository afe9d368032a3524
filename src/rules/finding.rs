//! The one finding type every rule produces and every output writes, in the column order of
//! the findings contract.

use anyhow::{Context, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::catalogue::Rule;
use crate::severity::Severity;

/// The findings contract: the columns of `findings.csv` and of the `findings` table of
/// `jitaudit query`, and the keys of a finding in JSON, in this order. [`Finding::cells`] gives
/// a finding's values in it; a test holds the JSON keys to it.
pub const COLUMNS: [&str; 14] = [
    "rule_id",
    "severity",
    "title",
    "time_utc",
    "subscription_id",
    "vm_id",
    "caller",
    "source",
    "port",
    "detail",
    "evidence",
    "recommendation",
    "suppressed",
    "suppression_reason",
];

/// A finding. Field order is the contract's column order ([`COLUMNS`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
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

/// One value of a finding, as the contract types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// Text; empty when the finding has none.
    Text(&'a str),
    Int(Option<i64>),
    Bool(bool),
}

impl Cell<'_> {
    /// The value as a CSV or terminal cell writes it.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.to_string(),
            Cell::Int(n) => n.map(|n| n.to_string()).unwrap_or_default(),
            Cell::Bool(b) => b.to_string(),
        }
    }
}

impl Finding {
    pub fn new(rule: &Rule) -> Finding {
        Finding {
            rule_id: rule.id.to_string(),
            severity: rule.severity,
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

    /// The finding's values, in [`COLUMNS`] order.
    pub fn cells(&self) -> [Cell<'_>; 14] {
        [
            Cell::Text(&self.rule_id),
            Cell::Text(self.severity.name()),
            Cell::Text(&self.title),
            Cell::Text(&self.time_utc),
            Cell::Text(&self.subscription_id),
            Cell::Text(&self.vm_id),
            Cell::Text(&self.caller),
            Cell::Text(&self.source),
            Cell::Int(self.port),
            Cell::Text(&self.detail),
            Cell::Text(&self.evidence),
            Cell::Text(&self.recommendation),
            Cell::Bool(self.suppressed),
            Cell::Text(&self.suppression_reason),
        ]
    }
}

/// Most severe first, then by rule, time and place: the same findings always in one order.
pub fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
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
    // Each column's type, from a finding with no values (so that no findings still make
    // typed columns).
    let blank = Finding::default();
    let kinds = blank.cells();
    let columns = COLUMNS
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let name = PlSmallStr::from_static(name);
            let cells = findings.iter().map(|f| f.cells()[k]);
            match kinds[k] {
                Cell::Int(_) => Column::new(
                    name,
                    cells
                        .map(|c| match c {
                            Cell::Int(n) => n,
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
                Cell::Bool(_) => Column::new(
                    name,
                    cells
                        .map(|c| matches!(c, Cell::Bool(true)))
                        .collect::<Vec<_>>(),
                ),
                _ => Column::new(
                    name,
                    cells
                        .map(|c| Some(c.text()).filter(|t| !t.is_empty()))
                        .collect::<Vec<_>>(),
                ),
            }
        })
        .collect();
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
            f.severity = Severity::parse(&severity).with_context(|| {
                format!(
                    "rule {}: severity {severity:?} is not info, low, medium, high or critical",
                    rule.id
                )
            })?;
        }
        f.port = port.as_ref().and_then(|p| p[i]);
        out.push(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CSV header, the frame's columns and the JSON keys are one list.
    #[test]
    fn the_contract_is_declared_once() {
        let f = Finding {
            port: Some(22),
            ..Finding::default()
        };
        let json = serde_json::to_value(&f).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = COLUMNS.to_vec();
        sorted.sort();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort();
        assert_eq!(keys_sorted, sorted, "JSON keys");
        for findings in [vec![], vec![f]] {
            let df = to_frame(&findings).unwrap();
            let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
            assert_eq!(names, COLUMNS, "frame columns");
            assert_eq!(df.column("port").unwrap().dtype(), &DataType::Int64);
            assert_eq!(df.column("suppressed").unwrap().dtype(), &DataType::Boolean);
        }
    }
}
