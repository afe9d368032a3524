//! Golden outputs of the sample tenant: the weekly report (every file), `scan --format csv`,
//! `caller --format json` for two callers and three saved queries, each compared byte for byte
//! with what `tests/golden/` holds. They were recorded before the code was rearranged into
//! its layers (issue 25) and pin that a move changes no output.
//!
//! A change that means to alter an output records the new one with `JITAUDIT_BLESS=1 cargo
//! test golden` and shows the difference in its commit.

use std::path::{Path, PathBuf};

use crate::util::*;

/// A fixed clock, so the report's one run-time line and the default windows do not move.
const EPOCH: &str = "1795000000";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden file `name`, or writes it there under `JITAUDIT_BLESS`.
fn check(name: &str, actual: &[u8]) {
    let path = golden_dir().join(name);
    if std::env::var_os("JITAUDIT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (JITAUDIT_BLESS=1 records it)", path.display()));
    if expected != actual {
        let (e, a) = (
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual),
        );
        let line = e
            .lines()
            .zip(a.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(e.lines().count().min(a.lines().count()));
        panic!(
            "{} differs from the golden output at line {}:\n  golden: {:?}\n  now:    {:?}",
            path.display(),
            line + 1,
            e.lines().nth(line).unwrap_or("<end>"),
            a.lines().nth(line).unwrap_or("<end>"),
        );
    }
}

/// The report's metadata block names the tool's build; everything else is the run's own.
fn mask_metadata(html: &str) -> String {
    html.lines()
        .map(|l| {
            if l.contains("data-jitaudit-metadata") {
                "<!-- metadata line masked -->"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn run(args: &[&str]) -> Vec<u8> {
    // From the repository's root with relative paths, so that the outputs, which cite their
    // inputs and configuration by path, are the same in every checkout.
    let out = jitaudit()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .env("COLUMNS", "160")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "jitaudit {args:?}: {}",
        stderr(&out)
    );
    out.stdout
}

#[test]
fn the_sample_report_is_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run(&[
        "report",
        "sample-data",
        "--config",
        "sample-data/jitaudit.toml",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8(stdout).unwrap();
    let stdout = stdout.replace(dir.path().to_str().unwrap(), "OUT");
    check("report/stdout.txt", stdout.as_bytes());
    for file in ["findings.csv", "requests.csv", "summary.json", "report.md"] {
        check(
            &format!("report/{file}"),
            &std::fs::read(dir.path().join(file)).unwrap(),
        );
    }
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    check("report/report.html", mask_metadata(&html).as_bytes());
}

#[test]
fn the_sample_scan_is_as_recorded() {
    let csv = run(&[
        "scan",
        "sample-data",
        "--config",
        "sample-data/jitaudit.toml",
        "--format",
        "csv",
    ]);
    check("scan.csv", &csv);
}

#[test]
fn two_callers_are_as_recorded() {
    for who in ["bob@contoso.com", "carol@contoso.com"] {
        let json = run(&["caller", who, "sample-data", "--format", "json"]);
        check(&format!("caller-{who}.json"), &json);
    }
}

#[test]
fn three_saved_queries_are_as_recorded() {
    for name in [
        "requests_outside_business_hours",
        "policies_wide_open_sources",
        "findings_by_rule",
    ] {
        let csv = run(&["query", "sample-data", "--file", name, "--format", "csv"]);
        check(&format!("query-{name}.csv"), &csv);
    }
}
