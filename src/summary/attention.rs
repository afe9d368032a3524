//! What needs attention: the findings grouped by rule, most severe and most numerous first,
//! each group with who and which VMs it concerns, the first screen of the report reads from.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::normalize::name_of;
use crate::rules::Finding;
use crate::rules::catalogue::RULES;
use crate::severity::Severity;

/// How many callers and VMs a group names; the rest are counted.
const NAMED: usize = 3;

/// The findings of one rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleGroup {
    pub rule_id: String,
    pub title: String,
    /// The most severe of its unsuppressed findings (of all of them when every one is muted).
    pub severity: Severity,
    /// Unsuppressed findings.
    pub findings: usize,
    pub suppressed: usize,
    /// The change in unsuppressed findings since the previous run, when there was one.
    pub change: Option<i64>,
    /// The callers with the most findings, with their counts, and how many callers in all.
    pub top_callers: Vec<(String, usize)>,
    pub callers: usize,
    /// The VMs (by name) with the most findings, and how many VMs in all.
    pub top_vms: Vec<(String, usize)>,
    pub vms: usize,
    pub subscriptions: usize,
    /// What the rule finds, in one line (the catalogue's `finds`).
    pub why: String,
}

/// The groups in the order a reader takes them: severity, then count, then rule id. Groups
/// whose findings are all suppressed come last.
pub fn groups(findings: &[Finding]) -> Vec<RuleGroup> {
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_rule.entry(&f.rule_id).or_default().push(f);
    }
    let mut out: Vec<RuleGroup> = by_rule
        .into_iter()
        .map(|(rule, fs)| {
            let live: Vec<&&Finding> = fs.iter().filter(|f| !f.suppressed).collect();
            let counted: Vec<&Finding> = if live.is_empty() {
                fs.clone()
            } else {
                live.iter().map(|f| **f).collect()
            };
            let severity = counted
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info);
            let top = |key: &dyn Fn(&Finding) -> Option<String>| -> (Vec<(String, usize)>, usize) {
                let mut n: BTreeMap<String, usize> = BTreeMap::new();
                for f in &counted {
                    if let Some(k) = key(f).filter(|k| !k.is_empty()) {
                        *n.entry(k).or_default() += 1;
                    }
                }
                let all = n.len();
                let mut v: Vec<(String, usize)> = n.into_iter().collect();
                v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                v.truncate(NAMED);
                (v, all)
            };
            let (top_callers, callers) = top(&|f| Some(f.caller.clone()));
            let (top_vms, vms) = top(&|f| name_of(&f.vm_id).map(str::to_string));
            let rule_meta = RULES.iter().find(|r| r.id == rule);
            RuleGroup {
                rule_id: rule.to_string(),
                title: rule_meta
                    .map(|r| r.title.to_string())
                    .or_else(|| fs.first().map(|f| f.title.clone()))
                    .unwrap_or_default(),
                severity,
                findings: live.len(),
                suppressed: fs.len() - live.len(),
                change: None,
                top_callers,
                callers,
                top_vms,
                vms,
                subscriptions: counted
                    .iter()
                    .map(|f| f.subscription_id.as_str())
                    .filter(|s| !s.is_empty())
                    .collect::<BTreeSet<_>>()
                    .len(),
                why: rule_meta.map(|r| r.finds.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (b.findings > 0)
            .cmp(&(a.findings > 0))
            .then(b.severity.cmp(&a.severity))
            .then(b.findings.cmp(&a.findings))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, sev: Severity, caller: &str, vm: &str, suppressed: bool) -> Finding {
        Finding {
            rule_id: rule.into(),
            severity: sev,
            caller: caller.into(),
            vm_id: format!(
                "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{vm}"
            ),
            subscription_id: "s1".into(),
            suppressed,
            ..Finding::default()
        }
    }

    #[test]
    fn groups_order_by_severity_then_count_and_name_the_busiest() {
        let fs = vec![
            finding("JIT008", Severity::Low, "a", "web-01", false),
            finding("JIT008", Severity::Low, "b", "web-01", false),
            finding("JIT008", Severity::Low, "b", "web-02", false),
            finding("JIT002", Severity::High, "c", "sql-01", false),
            finding("JIT005", Severity::Medium, "", "old-01", true),
            finding("JIT009", Severity::Medium, "a", "web-01", false),
        ];
        let g = groups(&fs);
        let order: Vec<&str> = g.iter().map(|g| g.rule_id.as_str()).collect();
        assert_eq!(order, ["JIT002", "JIT009", "JIT008", "JIT005"]);
        let low = &g[2];
        assert_eq!((low.findings, low.callers, low.vms), (3, 2, 2));
        assert_eq!(low.top_callers[0], ("b".to_string(), 2));
        assert_eq!(low.top_vms[0], ("web-01".to_string(), 2));
        assert_eq!((g[3].findings, g[3].suppressed), (0, 1));
        assert!(g[3].top_callers.is_empty(), "an empty caller is not named");
        assert!(
            !g[0].why.is_empty(),
            "the catalogue says what the rule finds"
        );
    }
}
