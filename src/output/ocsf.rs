//! The findings as OCSF Detection Findings (class 2004), one JSON object a line, for SIEMs and
//! data lakes that take the Open Cybersecurity Schema Framework (Amazon Security Lake, Splunk,
//! Sentinel's ASIM mappings...). Fields as `events/findings/detection_finding.json`,
//! `events/findings/finding.json` and `events/base_event.json` of ocsf/ocsf-schema define
//! them: the base event's required `activity_id`, `category_uid`, `class_uid`, `metadata`
//! (`product`, `version`), `severity_id`, `time` and `type_uid`; the finding's required
//! `finding_info` (`uid`, `title`); `status_id` 3, Suppressed, for a muted finding; the cloud
//! profile's `cloud` with the subscription as an account of `type_id` 13, Azure Subscription
//! (`objects/account.json`).

use std::io::Write;

use anyhow::Result;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Export;
use crate::normalize::{name_of, parse_time};
use crate::rules::Finding;
use crate::severity::Severity;

/// The OCSF version the records follow.
pub const OCSF_VERSION: &str = "1.3.0";
pub const CLASS_UID: u32 = 2004;
pub const CATEGORY_UID: u32 = 2;
/// Create: jitaudit reports each finding of a run as new; a SIEM de-duplicates by
/// `finding_info.uid`, which is the same for the same finding in every run.
const ACTIVITY_CREATE: u32 = 1;

/// OCSF `severity_id`: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical.
pub fn severity_id(s: Severity) -> u32 {
    match s {
        Severity::Info => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

fn severity_caption(s: Severity) -> &'static str {
    match s {
        Severity::Info => "Informational",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

/// A finding's identity, stable across runs: the SHA-256 of what makes it this finding (rule,
/// subscription, VM, caller, source, port, time, evidence), as hex.
pub fn finding_uid(f: &Finding) -> String {
    let mut h = Sha256::new();
    for part in [
        f.rule_id.as_str(),
        &f.subscription_id,
        &f.vm_id,
        &f.caller,
        &f.source,
        &f.port.map(|p| p.to_string()).unwrap_or_default(),
        &f.time_utc,
        &f.evidence,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

fn millis(rfc3339: &str) -> Option<i64> {
    parse_time(rfc3339).map(|ns| ns.div_euclid(1_000_000))
}

/// One finding as a Detection Finding; `created_ms` is the run's time.
pub fn record(f: &Finding, created_ms: i64) -> Value {
    let seen = millis(&f.time_utc);
    let mut info = json!({
        "uid": finding_uid(f),
        "title": f.title,
        "desc": f.detail,
        "types": [f.rule_id],
        "created_time": created_ms,
        "analytic": {"uid": f.rule_id, "name": f.title, "type_id": 1, "type": "Rule"},
        "product_uid": "jitaudit",
    });
    if let Some(t) = seen {
        info["first_seen_time"] = json!(t);
        info["last_seen_time"] = json!(t);
    }
    let (status_id, status) = if f.suppressed {
        (3, "Suppressed")
    } else {
        (1, "New")
    };
    let mut r = json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
        "time": created_ms,
        "severity_id": severity_id(f.severity),
        "severity": severity_caption(f.severity),
        "status_id": status_id,
        "status": status,
        "is_alert": !f.suppressed,
        "message": f.detail,
        "finding_info": info,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "jitaudit", "vendor_name": "jitaudit", "version": env!("CARGO_PKG_VERSION")},
            "log_name": "findings",
            "profiles": ["cloud"],
        },
        "remediation": {"desc": f.recommendation},
        "cloud": {"provider": "Azure", "account": {"uid": f.subscription_id, "type_id": 13, "type": "Azure Subscription"}},
    });
    if let Some(t) = seen {
        r["start_time"] = json!(t);
        r["end_time"] = json!(t);
    }
    if f.suppressed {
        r["comment"] = json!(f.suppression_reason);
    }
    let mut resources = Vec::new();
    if !f.vm_id.is_empty() {
        resources.push(json!({"uid": f.vm_id, "name": name_of(&f.vm_id).unwrap_or(""),
                              "type": "Microsoft.Compute/virtualMachines", "cloud_partition": "Azure"}));
    } else if f
        .evidence
        .to_ascii_lowercase()
        .starts_with("/subscriptions/")
    {
        let id = f.evidence.split_whitespace().next().unwrap_or("");
        resources.push(json!({"uid": id, "name": name_of(id).unwrap_or("")}));
    }
    if !resources.is_empty() {
        r["resources"] = Value::Array(resources);
    }
    let mut evidence = serde_json::Map::new();
    if !f.caller.is_empty() {
        evidence.insert(
            "actor".into(),
            json!({"user": {"name": f.caller, "uid": f.caller}}),
        );
    }
    if !f.source.is_empty() {
        evidence.insert(
            "src_endpoint".into(),
            json!({"ip": f.source.split('/').next().unwrap_or(&f.source)}),
        );
    }
    if let Some(p) = f.port {
        evidence.insert("dst_endpoint".into(), json!({"port": p}));
    }
    evidence.insert(
        "data".into(),
        json!({"evidence": f.evidence, "source_prefix": f.source}),
    );
    r["evidences"] = json!([Value::Object(evidence)]);
    r["unmapped"] = json!({"jitaudit": {"rule_id": f.rule_id, "evidence": f.evidence,
                                        "suppression_reason": f.suppression_reason}});
    r
}

/// `findings.ocsf.jsonl`: every finding, suppressed ones as Suppressed.
pub struct FindingsOcsf<'a> {
    pub findings: &'a [Finding],
    /// The run's time, in milliseconds since the epoch.
    pub created_ms: i64,
}

impl Export for FindingsOcsf<'_> {
    fn export(&self, out: &mut dyn Write) -> Result<()> {
        for f in self.findings {
            serde_json::to_writer(&mut *out, &record(f, self.created_ms))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_keeps_its_uid_across_runs_and_muted_is_suppressed() {
        let f = Finding {
            rule_id: "JIT002".into(),
            severity: Severity::High,
            title: "JIT request from an unapproved source".into(),
            time_utc: "2026-11-05T10:00:00Z".into(),
            subscription_id: "s1".into(),
            vm_id: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-01".into(),
            caller: "bob@contoso.com".into(),
            source: "198.51.100.77".into(),
            port: Some(22),
            ..Finding::default()
        };
        let a = record(&f, 1);
        let b = record(&f, 2);
        assert_eq!(a["finding_info"]["uid"], b["finding_info"]["uid"]);
        assert_eq!(a["type_uid"], 200401);
        assert_eq!(a["severity_id"], 4);
        assert_eq!(a["start_time"], 1_793_872_800_000i64);
        assert_eq!(a["resources"][0]["name"], "web-01");
        let muted = record(
            &Finding {
                suppressed: true,
                ..f
            },
            1,
        );
        assert_eq!(
            (muted["status_id"].as_u64(), muted["status"].as_str()),
            (Some(3), Some("Suppressed"))
        );
        assert_eq!(muted["is_alert"], false);
    }
}
