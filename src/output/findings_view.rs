//! The findings as the report page shows them: grouped by rule, each group's instances capped
//! to what a person reads (the rest are in `findings.csv`), every instance carrying the keys
//! the page's filters read, and its evidence by name with the full id beside it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::normalize::name_of;
use crate::rules::Finding;
use crate::rules::catalogue::RULES;
use crate::summary::attention::RuleGroup;
use crate::summary::report::ReportSummary;

/// A group shows this many of its findings; every one is in `findings.csv` and `summary.json`.
pub const FINDINGS_PER_RULE: usize = 100;

/// One thing a finding's evidence names: a request (linked to its ledger row), a resource (by
/// name, its id on demand), a correlation id, or a plain word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceRef {
    pub label: String,
    /// The full value, when the label shortens it.
    pub full: String,
    /// The ledger row's id, for a request.
    pub anchor: String,
}

#[derive(Debug, Serialize)]
pub struct FindingRow {
    pub severity: String,
    pub rank: usize,
    pub rule_id: String,
    pub time_utc: String,
    pub subscription_id: String,
    pub subscription: String,
    pub vm_name: String,
    pub vm_id: String,
    pub caller: String,
    pub source: String,
    pub port: String,
    pub detail: String,
    pub recommendation: String,
    pub suppressed: bool,
    pub suppression_reason: String,
    pub evidence: Vec<EvidenceRef>,
}

#[derive(Debug, Serialize)]
pub struct GroupView<'a> {
    pub group: &'a RuleGroup,
    /// The rule's recommendation; a row shows its own only where it says something else.
    pub recommendation: String,
    pub rows: Vec<FindingRow>,
    /// Findings of the rule in all, suppressed included.
    pub total: usize,
}

/// What the filters offer: the subscriptions, rules and callers the findings name.
#[derive(Debug, Serialize)]
pub struct FilterOptions {
    pub subscriptions: Vec<(String, String)>,
    pub callers: Vec<String>,
}

/// A resource id as a reader names it: `VM web-01`, `JIT policy default (rg-web)`,
/// `NSG rule NAME on web-01-nsg`; `None` when `id` is not one.
pub fn resource_label(id: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    if !lower.starts_with("/subscriptions/") {
        return None;
    }
    let parts: Vec<&str> = id.trim_end_matches('/').split('/').collect();
    let after = |key: &str| -> Option<&str> {
        let i = parts.iter().position(|p| p.eq_ignore_ascii_case(key))?;
        parts.get(i + 1).copied()
    };
    let rg = after("resourceGroups");
    let name = name_of(id)?;
    let in_rg = |what: &str, n: &str| match rg {
        Some(rg) => format!("{what} {n} ({rg})"),
        None => format!("{what} {n}"),
    };
    Some(if lower.contains("/securityrules/") {
        let nsg = after("networkSecurityGroups").unwrap_or("?");
        format!("NSG rule {name} on {nsg}")
    } else if lower.contains("/jitnetworkaccesspolicies/") {
        in_rg("JIT policy", name)
    } else if lower.contains("/virtualmachines/") {
        in_rg("VM", name)
    } else if lower.contains("/networksecuritygroups/") {
        in_rg("NSG", name)
    } else if rg.is_none() && parts.len() <= 3 {
        format!("subscription {name}")
    } else {
        in_rg("resource", name)
    })
}

/// A finding's evidence, read word by word: `request ID`, `requests A,B`, `correlation ID`,
/// resource ids, anything else as it is.
pub fn evidence_refs(evidence: &str) -> Vec<EvidenceRef> {
    let mut out = Vec::new();
    let mut words = evidence.split_whitespace().peekable();
    let plain = |label: &str| EvidenceRef {
        label: label.to_string(),
        full: String::new(),
        anchor: String::new(),
    };
    while let Some(w) = words.next() {
        match w {
            "request" | "requests" if words.peek().is_some() => {
                for id in words
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .filter(|s| !s.is_empty())
                {
                    out.push(EvidenceRef {
                        label: format!("request {id}"),
                        full: String::new(),
                        anchor: id.to_string(),
                    });
                }
            }
            "correlation" if words.peek().is_some() => {
                let id = words.next().unwrap_or("");
                out.push(EvidenceRef {
                    label: format!("correlation {}", id.get(..8).unwrap_or(id)),
                    full: format!("correlation {id}"),
                    anchor: String::new(),
                });
            }
            _ => match resource_label(w) {
                Some(label) => out.push(EvidenceRef {
                    label,
                    full: w.to_string(),
                    anchor: String::new(),
                }),
                None => out.push(plain(w)),
            },
        }
    }
    // Plain words in a row are one phrase.
    let mut merged: Vec<EvidenceRef> = Vec::new();
    for e in out {
        match merged.last_mut() {
            Some(last)
                if last.full.is_empty()
                    && last.anchor.is_empty()
                    && e.full.is_empty()
                    && e.anchor.is_empty() =>
            {
                last.label.push(' ');
                last.label.push_str(&e.label);
            }
            _ => merged.push(e),
        }
    }
    merged
}

fn row(f: &Finding, names: &BTreeMap<&str, &str>) -> FindingRow {
    FindingRow {
        severity: f.severity.to_string(),
        rank: f.severity as usize,
        rule_id: f.rule_id.clone(),
        time_utc: f.time_utc.clone(),
        subscription_id: f.subscription_id.clone(),
        subscription: names
            .get(f.subscription_id.as_str())
            .filter(|n| !n.is_empty())
            .map(|n| n.to_string())
            .unwrap_or_else(|| f.subscription_id.clone()),
        vm_name: name_of(&f.vm_id).unwrap_or("").to_string(),
        vm_id: f.vm_id.clone(),
        caller: f.caller.clone(),
        source: f.source.clone(),
        port: f.port.map(|p| p.to_string()).unwrap_or_default(),
        detail: f.detail.clone(),
        recommendation: f.recommendation.clone(),
        suppressed: f.suppressed,
        suppression_reason: f.suppression_reason.clone(),
        evidence: evidence_refs(&f.evidence),
    }
}

/// The groups in the summary's order, each with its first [`FINDINGS_PER_RULE`] findings:
/// unsuppressed first, most severe, then latest.
pub fn groups(s: &ReportSummary) -> Vec<GroupView<'_>> {
    let names = subscription_names(s);
    s.attention
        .iter()
        .map(|g| {
            let mut fs: Vec<&Finding> = s
                .findings
                .iter()
                .filter(|f| f.rule_id == g.rule_id)
                .collect();
            fs.sort_by(|a, b| {
                a.suppressed
                    .cmp(&b.suppressed)
                    .then(b.severity.cmp(&a.severity))
                    .then_with(|| b.time_utc.cmp(&a.time_utc))
                    .then_with(|| a.vm_id.cmp(&b.vm_id))
            });
            let recommendation = RULES
                .iter()
                .find(|r| r.id == g.rule_id)
                .map(|r| r.recommendation.to_string())
                .or_else(|| fs.first().map(|f| f.recommendation.clone()))
                .unwrap_or_default();
            let rows = fs
                .iter()
                .take(FINDINGS_PER_RULE)
                .map(|f| {
                    let mut r = row(f, &names);
                    if r.recommendation == recommendation {
                        r.recommendation.clear();
                    }
                    r
                })
                .collect();
            GroupView {
                group: g,
                recommendation,
                total: fs.len(),
                rows,
            }
        })
        .collect()
}

fn subscription_names(s: &ReportSummary) -> BTreeMap<&str, &str> {
    s.coverage
        .iter()
        .map(|c| (c.subscription_id.as_str(), c.name.as_str()))
        .collect()
}

pub fn filter_options(s: &ReportSummary) -> FilterOptions {
    let names = subscription_names(s);
    let subs: BTreeSet<&str> = s
        .findings
        .iter()
        .map(|f| f.subscription_id.as_str())
        .filter(|x| !x.is_empty())
        .collect();
    let mut subscriptions: Vec<(String, String)> = subs
        .into_iter()
        .map(|id| {
            let name = names
                .get(id)
                .filter(|n| !n.is_empty())
                .copied()
                .unwrap_or(id);
            (id.to_string(), name.to_string())
        })
        .collect();
    subscriptions.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let callers: BTreeSet<String> = s
        .findings
        .iter()
        .map(|f| f.caller.clone())
        .filter(|c| !c.is_empty())
        .collect();
    FilterOptions {
        subscriptions,
        callers: callers.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_named_and_requests_linked() {
        let policy = "/subscriptions/s1/resourceGroups/rg-web/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/default";
        let e = evidence_refs(&format!(
            "{} correlation 18470891-ba4f-45f5",
            policy.to_uppercase()
        ));
        assert_eq!(e[0].label, "JIT policy DEFAULT (RG-WEB)");
        assert_eq!(e[0].full, policy.to_uppercase());
        assert_eq!(e[1].label, "correlation 18470891");
        let e = evidence_refs("requests r-1,r-2");
        assert_eq!(
            e.iter().map(|e| e.anchor.as_str()).collect::<Vec<_>>(),
            ["r-1", "r-2"]
        );
        assert_eq!(
            resource_label("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n1/securityRules/allow-rdp").unwrap(),
            "NSG rule allow-rdp on n1"
        );
        assert_eq!(
            resource_label("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-01").unwrap(),
            "VM web-01 (rg)"
        );
        assert_eq!(
            evidence_refs("ARM snapshot of the NSG")[0].label,
            "ARM snapshot of the NSG"
        );
        assert!(resource_label("web-01").is_none());
    }
}
