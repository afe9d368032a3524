//! `jitaudit sample`: deterministic, every shape present, and the committed `sample-data/` is
//! exactly what the generator writes.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::*;

fn generate(dir: &Path, extra: &[&str]) {
    let out = jitaudit()
        .arg("sample")
        .arg("--out")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_and_committed_sample_data_is_current() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    generate(a.path(), &[]);
    generate(b.path(), &[]);
    let fa = files(a.path());
    assert_eq!(fa, files(b.path()));
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let fc = files(&committed);
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fc.keys().collect::<Vec<_>>(),
        "sample-data/ is stale: run `cargo run -- sample --out sample-data`"
    );
    for (name, bytes) in &fa {
        assert!(
            fc[name] == *bytes,
            "sample-data/{name} is stale: run `cargo run -- sample --out sample-data`"
        );
    }
    let total: usize = fc.values().map(Vec::len).sum();
    assert!(total < 2 * 1024 * 1024, "sample-data is {total} bytes");
}

#[test]
fn other_seeds_differ() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    generate(a.path(), &["--seed", "1", "--days", "3"]);
    generate(b.path(), &["--seed", "2", "--days", "3"]);
    assert_ne!(files(a.path()), files(b.path()));
}

#[test]
fn sample_ingests_cleanly_in_every_shape_with_one_ledger_row_per_granted_request() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let (dir, out) = ingest(std::slice::from_ref(&committed), &["--strict"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let s = summary(dir.path());
    assert_counts_balance(&s);
    let formats: std::collections::BTreeSet<String> = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap().to_string())
        .collect();
    for f in [
        "activity-rest-array",
        "activity-rest-page",
        "activity-jsonl",
        "activity-records",
        "log-analytics-csv",
        "log-analytics-json",
        "portal-csv",
        "jit-policies",
        "subscriptions",
        "virtual-machines",
        "network-interfaces",
        "network-security-groups",
    ] {
        assert!(formats.contains(f), "sample-data lacks {f}: {formats:?}");
    }
    // The second exports hold nothing new: every one of their events is merged.
    let merged = s["duplicates_merged"]["events"].as_u64().unwrap();
    assert!(merged > 50, "{merged}");
    let readme = std::fs::read_to_string(committed.join("README.md")).unwrap();
    let granted: usize = readme
        .lines()
        .find(|l| l.contains("JIT requests were granted"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the sample README states how many requests were granted");
    let requests = table(dir.path(), "requests");
    assert_eq!(requests.height(), granted, "{requests}");
    // Every request is dated and names its VM and port.
    for c in [
        "requested_at",
        "vm_id",
        "port",
        "requestor",
        "source_prefix",
    ] {
        assert_eq!(requests.column(c).unwrap().null_count(), 0, "{c}");
    }
    for t in [
        "events",
        "policies",
        "policy_requests",
        "subscriptions",
        "vms",
        "nics",
        "nsg_rules",
    ] {
        assert!(table(dir.path(), t).height() > 0, "{t} is empty");
    }
    let vms = table(dir.path(), "vms");
    assert_eq!(vms.column("has_public_ip").unwrap().null_count(), 0);
}

/// The generated estate: deterministic, audited cleanly, and what its README states is what
/// the audit finds: one ledger row per granted request (each asks for one port), one JIT005
/// per VM without a policy, every subscription in the coverage table.
#[test]
fn a_generated_estate_is_what_its_readme_says() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let args = [
        "--subscriptions",
        "4",
        "--vms",
        "60",
        "--people",
        "12",
        "--days",
        "28",
    ];
    generate(a.path(), &args);
    generate(b.path(), &args);
    let (fa, fb) = (files(a.path()), files(b.path()));
    let differ: Vec<&String> = fa.keys().filter(|k| fa.get(*k) != fb.get(*k)).collect();
    assert!(differ.is_empty() && fa.len() == fb.len(), "{differ:?}");
    let readme = std::fs::read_to_string(a.path().join("README.md")).unwrap();
    let number_before = |words: &str| -> usize {
        let at = readme
            .find(words)
            .unwrap_or_else(|| panic!("{words}: {readme}"));
        readme[..at]
            .split(|c: char| !c.is_ascii_digit())
            .rfind(|s| !s.is_empty())
            .and_then(|s| s.parse().ok())
            .unwrap()
    };
    let granted = number_before(" JIT requests were granted");
    let uncovered = number_before(" without a JIT policy");
    assert!(granted > 150 && uncovered > 0, "{readme}");

    let (dir, out) = ingest(&[a.path().to_path_buf()], &["--strict"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_counts_balance(&summary(dir.path()));
    assert_eq!(table(dir.path(), "requests").height(), granted);
    assert_eq!(table(dir.path(), "subscriptions").height(), 4);
    assert_eq!(table(dir.path(), "vms").height(), 60);

    let report = tempfile::tempdir().unwrap();
    let config = a.path().join("jitaudit.toml");
    let out = jitaudit()
        .arg("report")
        .arg(a.path())
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(report.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.path().join("summary.json")).unwrap())
            .unwrap();
    let findings = s["findings"].as_array().unwrap();
    let of = |rule: &str| findings.iter().filter(|f| f["rule_id"] == rule).count();
    assert_eq!(of("JIT005"), uncovered, "one JIT005 per VM without JIT");
    for rule in ["JIT001", "JIT002", "JIT008"] {
        assert!(of(rule) > 0, "the estate's proportions give some {rule}");
    }
    assert_eq!(s["coverage"].as_array().unwrap().len(), 4);
}
