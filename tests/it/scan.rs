//! `jitaudit scan` and `jitaudit rules`: every rule's positive and negative sample, the
//! sample tenant exercising every rule, gating, formats, state.

use std::path::Path;

use jitaudit::catalogue::RULES;

use crate::util::*;

/// A file of the rule folders, `queries/rules/` (each rule's samples, and the configuration
/// they are judged with).
fn rule_file(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("queries/rules")
        .join(rel)
}

fn scan(inputs: &[&Path], extra: &[&str]) -> std::process::Output {
    jitaudit()
        .arg("scan")
        .args(inputs)
        .args(extra)
        .output()
        .unwrap()
}

fn findings(out: &std::process::Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
        .as_array()
        .unwrap()
        .clone()
}

/// One generic test for the whole catalogue: each rule fires on its positive sample and not on
/// its negative one. A rule without samples fails here.
#[test]
fn every_rule_fires_on_its_positive_sample_and_not_its_negative() {
    let dir = rule_file("");
    let config = dir.join("jitaudit.toml");
    let mut failures = Vec::new();
    for rule in RULES {
        for (case, want) in [("positive", true), ("negative", false)] {
            let file = dir.join(rule.id).join(format!("{case}.json"));
            assert!(
                file.is_file(),
                "{} has no {case} sample at {}",
                rule.id,
                file.display()
            );
            let out = scan(
                &[&file],
                &["--config", config.to_str().unwrap(), "--format", "json"],
            );
            assert!(out.status.success(), "{} {case}: {}", rule.id, stderr(&out));
            let fired: Vec<_> = findings(&out)
                .into_iter()
                .filter(|f| f["rule_id"] == rule.id)
                .collect();
            if fired.is_empty() == want {
                failures.push(format!(
                    "{} {case}: {} finding(s) {fired:?}",
                    rule.id,
                    fired.len()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_sample_tenant_exercises_every_rule() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let out = scan(
        &[&sample],
        &[
            "--config",
            sample.join("jitaudit.toml").to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let all = findings(&out);
    for rule in RULES {
        assert!(
            all.iter().any(|f| f["rule_id"] == rule.id),
            "sample-data does not exercise {}",
            rule.id
        );
    }
    // The live suppression applies with its reason; the expired one does not.
    let legacy: Vec<_> = all
        .iter()
        .filter(|f| {
            f["rule_id"] == "JIT005" && f["vm_id"].as_str().unwrap().ends_with("legacy-build-01")
        })
        .collect();
    assert_eq!(legacy.len(), 1);
    assert_eq!(legacy[0]["suppressed"], true);
    assert!(
        legacy[0]["suppression_reason"]
            .as_str()
            .unwrap()
            .contains("CHG10442")
    );
    assert!(
        all.iter()
            .filter(|f| f["rule_id"] == "JIT008")
            .all(|f| f["suppressed"] == false)
    );
    // Issue 27: every finding names its subscription, so a report split by subscription owner
    // or a SIEM routing by it loses none; bob's burst spans two subscriptions and is one
    // finding in each, with the day's total and the subscription's share.
    let unrouted: Vec<_> = (all.iter())
        .filter(|f| f["subscription_id"].as_str().is_none_or(str::is_empty))
        .map(|f| f["rule_id"].clone())
        .collect();
    assert!(
        unrouted.is_empty(),
        "findings without a subscription: {unrouted:?}"
    );
    let burst: Vec<&str> = (all.iter())
        .filter(|f| f["rule_id"] == "JIT010")
        .map(|f| f["detail"].as_str().unwrap())
        .collect();
    assert_eq!(burst.len(), 2, "{burst:?}");
    assert!(
        burst
            .iter()
            .all(|d| d.starts_with("12 requests on 2026-11-11"))
    );
    assert!(
        burst
            .iter()
            .any(|d| d.contains("9 of them in this subscription"))
    );
    // The Berlin trap: dave's 07:30 UTC request on 3 November is 08:30 in Berlin.
    assert!(!all.iter().any(|f| {
        f["rule_id"] == "JIT001"
            && f["time_utc"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-03T07:30")
    }));
}

#[test]
fn fail_on_gates_the_exit_code_and_output_is_deterministic() {
    let file = rule_file("JIT003/positive.json");
    let config = rule_file("jitaudit.toml");
    let c = config.to_str().unwrap();
    let high = scan(
        &[&file],
        &["--config", c, "--fail-on", "high", "--format", "csv"],
    );
    assert_eq!(high.status.code(), Some(1), "{}", stderr(&high));
    let critical = scan(
        &[&file],
        &["--config", c, "--fail-on", "critical", "--format", "csv"],
    );
    assert_eq!(critical.status.code(), Some(0));
    assert_eq!(high.stdout, critical.stdout, "same inputs, same bytes");
    let csv = stdout(&high);
    assert!(csv.starts_with("rule_id,severity,title,time_utc,subscription_id,vm_id,caller,source,port,detail,evidence,recommendation,suppressed,suppression_reason\n"));
    let table = scan(&[&file], &["--config", c]);
    assert!(stdout(&table).contains("JIT003"));
}

#[test]
fn min_severity_filters_and_bad_config_is_an_error_with_its_line() {
    let file = rule_file("JIT008/positive.json");
    let config = rule_file("jitaudit.toml");
    let out = scan(
        &[&file],
        &[
            "--config",
            config.to_str().unwrap(),
            "--min-severity",
            "medium",
            "--format",
            "json",
        ],
    );
    assert!(findings(&out).iter().all(|f| f["severity"] != "low"));
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        bad.path(),
        "[network]\napproved_sources = [\"not-a-cidr\"]\n",
    )
    .unwrap();
    let out = scan(&[&file], &["--config", bad.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":2: network.approved_sources"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn state_makes_a_second_run_report_only_what_is_new() {
    let config = rule_file("jitaudit.toml");
    let c = config.to_str().unwrap();
    let state = tempfile::tempdir().unwrap();
    let s = state.path().to_str().unwrap();
    let neg = rule_file("JIT009/negative.json");
    let first = scan(&[&neg], &["--config", c, "--state", s, "--format", "json"]);
    assert!(first.status.success());
    assert!(state.path().join("baseline.json").is_file());
    // The positive sample's new address is new against the saved baseline too.
    let pos = rule_file("JIT009/positive.json");
    let second = scan(&[&pos], &["--config", c, "--state", s, "--format", "json"]);
    let new: Vec<_> = findings(&second)
        .into_iter()
        .filter(|f| f["rule_id"] == "JIT009")
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0]["source"], "203.0.113.99");
    // Seen now: a third run over the same input reports nothing new.
    let third = scan(&[&pos], &["--config", c, "--state", s, "--format", "json"]);
    assert!(!findings(&third).iter().any(|f| f["rule_id"] == "JIT009"));
}

#[test]
fn rules_lists_and_explains() {
    let out = jitaudit().arg("rules").output().unwrap();
    for rule in RULES {
        assert!(stdout(&out).contains(rule.id));
        let explain = jitaudit()
            .args(["rules", "explain", rule.id])
            .output()
            .unwrap();
        assert!(explain.status.success());
        let text = stdout(&explain);
        assert!(
            text.contains(rule.title) && text.contains("References:"),
            "{text}"
        );
    }
    let sql = stdout(
        &jitaudit()
            .args(["rules", "explain", "jit001"])
            .output()
            .unwrap(),
    );
    assert!(sql.contains("FROM requests"), "{sql}");
    let unknown = jitaudit()
        .args(["rules", "explain", "JIT999"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    // What a rule reads, with the columns Rust computes for it.
    let explained = stdout(
        &jitaudit()
            .args(["rules", "explain", "JIT001"])
            .output()
            .unwrap(),
    );
    assert!(
        explained.contains("- requests: the requests table, and time_utc, in_business_hours"),
        "{explained}"
    );
    // The whole catalogue as Markdown is docs/rules.md.
    let markdown = jitaudit().args(["rules", "--markdown"]).output().unwrap();
    assert!(markdown.status.success());
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"))
        .unwrap();
    assert_eq!(stdout(&markdown), doc);
}

/// Issue 29: a VM behind Azure Firewall (its policy entry names the firewall's public IP, its
/// requests the mapped port) is judged as the others by JIT003 and JIT004, the finding naming
/// the address the access opens on; the ledger keeps the address and port.
#[test]
fn a_vm_behind_azure_firewall_is_judged_like_the_others() {
    let out = scan(&[&fixture("firewall")], &["--format", "json"]);
    assert!(out.status.code().unwrap() <= 1, "{}", stderr(&out));
    let all = findings(&out);
    let detail = |rule: &str| -> Vec<String> {
        all.iter()
            .filter(|f| f["rule_id"] == rule)
            .map(|f| f["detail"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        detail("JIT003"),
        ["port opened to * through Azure Firewall 20.61.4.19:50022"]
    );
    assert!(
        detail("JIT004")
            .iter()
            .all(|d| d.ends_with("through Azure Firewall 20.61.4.19")),
        "{:?}",
        detail("JIT004")
    );
    let ledger = jitaudit()
        .arg("query")
        .arg(fixture("firewall"))
        .arg("select firewall_ip, mapped_port, in_nsg, nsg_rule_id from requests")
        .args(["--format", "csv"])
        .output()
        .unwrap();
    // The firewall's JIT DNAT rule for the mapped port is the request's network evidence.
    assert_eq!(
        stdout(&ledger),
        "firewall_ip,mapped_port,in_nsg,nsg_rule_id\n20.61.4.19,50022,true,/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/myRg1/providers/Microsoft.Network/azureFirewalls/fw-hub/natRuleCollections/MDC-JIT-vm1-3389/MDC-JIT-vm1-3389-1\n"
    );
    // The firewall itself, its JIT DNAT rule told from the others.
    let firewalls = jitaudit()
        .arg("query")
        .arg(fixture("firewall"))
        .arg("select firewall_key, nat_rules from firewalls")
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(firewalls.status.success(), "{}", stderr(&firewalls));
    let rows: serde_json::Value = serde_json::from_slice(&firewalls.stdout).unwrap();
    let rules: serde_json::Value =
        serde_json::from_str(rows[0]["nat_rules"].as_str().unwrap()).unwrap();
    let jit: Vec<&serde_json::Value> = rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["jit"] == true)
        .collect();
    assert_eq!(jit.len(), 1);
    assert_eq!(jit[0]["translated_port"], "3389");
    assert_eq!(jit[0]["ports"], serde_json::json!(["50022"]));
}
