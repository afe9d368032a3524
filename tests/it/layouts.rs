//! Issue 26: how records lie on disk, and whether the prefilter runs, change no answer. The
//! same bytes as hourly blobs and as one big file (read in windows parsed on several threads),
//! each with and without the prefilter, give the same findings, ledger, summary (but for the
//! list of input files), caller views and query results. The tenant is NSG-heavy: a sixth of its
//! operations are automation's rule writes, which the prefilter passes over, and one rule write
//! that JIT did not make stands on the NSG of a VM at the moment a request opened it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

const NOW: &str = "1794787200";

/// The sample tenant's blobs at a scale past two 16 MiB windows, one blob holding the rule
/// write JIT did not make; and the same records, in the blobs' order, as one file.
fn layouts(dir: &Path) -> (PathBuf, PathBuf) {
    let blobs = dir.join("blobs");
    let out = jitaudit()
        .args([
            "sample",
            "--jsonl-only",
            "--scale",
            "120",
            "--nsg-share",
            "17",
            "--out",
        ])
        .arg(&blobs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let files = files_under(&blobs.join("insights-activity-logs"));
    // Beside the allow rule JIT wrote for a request, a rule of another name on the same NSG,
    // written by the same identity in the same second.
    let planted = files.iter().find_map(|f| {
        let text = std::fs::read_to_string(f).unwrap();
        let line = text
            .lines()
            .find(|l| l.contains("JITRULE-") && l.contains("\"Accepted\""))?;
        let i = line.find("MICROSOFTDEFENDERFORCLOUD-JITRULE-")?;
        let name = &line[i..line[i..].find('"').map(|e| i + e)?];
        let other = line.replace(name, "ALLOW-RDP-TEMPORARY");
        std::fs::write(f, format!("{text}{other}\n")).unwrap();
        Some(other)
    });
    assert!(
        planted.is_some(),
        "the sample holds a JIT allow rule's write"
    );
    let one = dir.join("one");
    std::fs::create_dir_all(one.join("insights-activity-logs")).unwrap();
    let mut all = Vec::new();
    for f in &files {
        all.extend(std::fs::read(f).unwrap());
    }
    assert!(
        all.len() > 2 * (16 << 20),
        "{} bytes: more than two windows",
        all.len()
    );
    std::fs::write(one.join("insights-activity-logs/all.json"), all).unwrap();
    (blobs, one)
}

fn run(dir: &Path, args: &[&str], input: &Path, filtered: bool) -> std::process::Output {
    let mut cmd = jitaudit();
    cmd.args(args)
        .arg(input)
        .arg(dir.join("blobs/arm"))
        .arg(dir.join("blobs/graph"))
        .arg("--config")
        .arg(dir.join("blobs/jitaudit.toml"))
        .env("SOURCE_DATE_EPOCH", NOW);
    if !filtered {
        cmd.arg("--no-prefilter");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.code().unwrap() <= 1,
        "{args:?}: {}",
        stderr(&out)
    );
    out
}

/// Everything the commands answer for one layout and prefilter setting, by name.
fn answers(dir: &Path, input: &Path, filtered: bool, n: usize) -> Vec<(String, String)> {
    let mut got = Vec::new();
    let out = dir.join(format!("report-{n}"));
    let report = [
        "report",
        "--format",
        "csv,json",
        "--out",
        out.to_str().unwrap(),
    ];
    run(dir, &report, input, filtered);
    let mut summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    // The files read differ by layout (and so their counts by source folder); the
    // configuration file, listed as passed over, too.
    for per_file in ["inputs", "sources", "passed_over"] {
        summary.as_object_mut().unwrap().remove(per_file);
    }
    got.push(("summary.json".into(), summary.to_string()));
    for file in ["findings.csv", "requests.csv"] {
        got.push((
            file.into(),
            std::fs::read_to_string(out.join(file)).unwrap(),
        ));
    }
    let scan = run(dir, &["scan", "--format", "json"], input, filtered);
    got.push(("scan".into(), stdout(&scan)));
    for who in ["bob@contoso.com", "carol@contoso.com"] {
        let caller = run(dir, &["caller", who, "--format", "json"], input, filtered);
        got.push((format!("caller {who}"), stdout(&caller)));
    }
    got
}

#[test]
fn one_file_or_many_with_or_without_the_prefilter_answer_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (blobs, one) = layouts(dir.path());
    let expected = answers(dir.path(), &blobs, false, 0);
    let answer = |name: &str| &expected.iter().find(|(n, _)| n == name).unwrap().1;
    let findings = answer("findings.csv");
    assert!(findings.lines().count() > 10, "{findings}");
    let bob = answer("caller bob@contoso.com");
    assert!(
        bob.contains("\"nsg_change\""),
        "bob's view shows JIT's NSG changes"
    );
    assert!(
        !bob.contains("ALLOW-RDP-TEMPORARY"),
        "and not a rule JIT did not make"
    );
    for (n, (input, filtered)) in [(&blobs, true), (&one, false), (&one, true)]
        .into_iter()
        .enumerate()
    {
        let got = answers(dir.path(), input, filtered, n + 1);
        for ((name, want), (_, have)) in expected.iter().zip(&got) {
            assert!(
                want == have,
                "{name} differs for {} (prefilter {filtered}):\n{}",
                input.display(),
                first_difference(want, have)
            );
        }
    }
    // A query reads every record; each layout gives the same counts.
    let counts = query(&blobs);
    assert!(counts.contains("securityrules/delete"), "{counts}");
    assert_eq!(query(&one), counts);
}

fn query(input: &Path) -> String {
    let sql = "SELECT operation_id, COUNT(*) AS n FROM events GROUP BY operation_id ORDER BY operation_id";
    let out = jitaudit()
        .arg("query")
        .arg(input)
        .args([sql, "--format", "csv"])
        .output()
        .unwrap();
    stdout(&out)
}

fn first_difference(a: &str, b: &str) -> String {
    let line = a.lines().zip(b.lines()).position(|(x, y)| x != y);
    match line {
        Some(i) => format!(
            "line {}:\n  - {}\n  + {}",
            i + 1,
            a.lines().nth(i).unwrap(),
            b.lines().nth(i).unwrap()
        ),
        None => format!("{} lines against {}", a.lines().count(), b.lines().count()),
    }
}
