//! The JSON Lines prefilter changes nothing a command reports: `scan`, `report` and `caller`
//! give the same answers with it and with `--no-prefilter`, on inputs built to trip it:
//! upper-case resource ids, a JIT record whose operation name hides a letter behind a `\u`
//! escape, a record cut by the 16 MiB chunk boundary of the streamed reader, and a file large
//! enough to be streamed at all.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

const CHUNK: usize = 16 << 20;
const NOW: &str = "1794787200";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The sample's diagnostic-settings lines (upper-case ids), split into JIT-related and not.
fn sample_lines() -> (Vec<String>, Vec<String>) {
    let mut jit = Vec::new();
    let mut other = Vec::new();
    for f in files_under(&root().join("sample-data/insights-activity-logs")) {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let lower = line.to_ascii_lowercase();
            if lower.contains("jitnetworkaccesspolicies") || lower.contains("networksecuritygroups")
            {
                jit.push(line.to_string());
            } else if !line.trim().is_empty() {
                other.push(line.to_string());
            }
        }
    }
    (jit, other)
}

/// One JSON Lines file past the chunk size: filler, a JIT record straddling byte 16 MiB,
/// the other JIT records (one with an escaped letter), and more filler.
fn tricky_file(dir: &Path) -> PathBuf {
    let (jit, other) = sample_lines();
    assert!(jit.len() > 10 && other.len() > 10);
    let path = dir.join("big-PT1H.json");
    let mut out = Vec::with_capacity(CHUNK + (2 << 20));
    let mut i = 0;
    while out.len() + other[i % other.len()].len() + 1 < CHUNK - 200 {
        out.extend_from_slice(other[i % other.len()].as_bytes());
        out.push(b'\n');
        i += 1;
    }
    // Spaces up to 40 bytes before the boundary, so the next record crosses it.
    let pad = CHUNK - 40 - out.len() - 1;
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    let straddler = &jit[0];
    assert!(straddler.len() > 80);
    let start = out.len();
    out.extend_from_slice(straddler.as_bytes());
    out.push(b'\n');
    assert!(
        start < CHUNK && out.len() > CHUNK,
        "the record crosses the chunk boundary"
    );
    for (n, line) in jit.iter().enumerate().skip(1) {
        let line = if n == 1 {
            // Every `j` of the word escaped (`\u006a` is `j`, `\u004a` is `J`): no needle
            // is left in plain text.
            assert!(line.contains("jitNetworkAccessPolicies"));
            line.replace("jitNetworkAccessPolicies", "\\u006aitNetworkAccessPolicies")
                .replace("JITNETWORKACCESSPOLICIES", "\\u004aITNETWORKACCESSPOLICIES")
        } else {
            line.clone()
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        for _ in 0..50 {
            out.extend_from_slice(other[i % other.len()].as_bytes());
            out.push(b'\n');
            i += 1;
        }
    }
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&out)
        .unwrap();
    path
}

fn inputs(big: &Path) -> Vec<PathBuf> {
    vec![big.to_path_buf(), root().join("sample-data/arm")]
}

fn run(args: &[&str], inputs: &[PathBuf], extra: &[&str]) -> std::process::Output {
    let out = jitaudit()
        .args(args)
        .args(inputs)
        .arg("--config")
        .arg(root().join("sample-data/jitaudit.toml"))
        .args(extra)
        .env("SOURCE_DATE_EPOCH", NOW)
        .output()
        .unwrap();
    assert!(
        out.status.code().unwrap() <= 1,
        "{args:?} {extra:?}: {}",
        stderr(&out)
    );
    out
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)))
}

#[test]
fn scan_report_and_caller_answer_the_same_with_and_without_the_prefilter() {
    let dir = tempfile::tempdir().unwrap();
    let big = tricky_file(dir.path());
    let inputs = inputs(&big);

    let filtered = json(&run(&["scan"], &inputs, &["--format", "json"]));
    let full = json(&run(
        &["scan"],
        &inputs,
        &["--format", "json", "--no-prefilter"],
    ));
    assert!(!full.as_array().unwrap().is_empty());
    assert_eq!(filtered, full);

    // The report: the same summary, data-quality gaps and default window included; only the
    // per-file counts differ (skipped against used).
    let report = |extra: &[&str], name: &str| {
        let out = dir.path().join(name);
        let mut args: Vec<&str> = vec!["--format", "json", "--out", out.to_str().unwrap()];
        args.extend(extra);
        run(&["report"], &inputs, &args);
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        let inputs = v.as_object_mut().unwrap().remove("inputs").unwrap();
        // The per-file counts added up by source folder differ the same way.
        v.as_object_mut().unwrap().remove("sources");
        (v, inputs)
    };
    let (with, files_with) = report(&[], "with");
    let (without, files_without) = report(&["--no-prefilter"], "without");
    assert_eq!(with, without);
    let big_with = &files_with.as_array().unwrap()[0];
    let big_without = &files_without.as_array().unwrap()[0];
    assert!(
        big_with["path"]
            .as_str()
            .unwrap()
            .ends_with("big-PT1H.json")
    );
    assert_eq!(
        big_with["sha256"], big_without["sha256"],
        "the streamed hash is the file's"
    );
    assert_eq!(big_with["records_read"], big_without["records_read"]);
    assert_eq!(big_without["records_rejected"], 0);

    // The caller view, by UPN and by object id (the second pass reads the other name too).
    for who in [
        "carol@contoso.com",
        "C3C3C3C3-0000-4000-8000-00000000000C",
        "bob@contoso.com",
    ] {
        let a = json(&run(&["caller", who], &inputs, &["--format", "json"]));
        let b = json(&run(
            &["caller", who],
            &inputs,
            &["--format", "json", "--no-prefilter"],
        ));
        assert!(!a["timeline"].as_array().unwrap().is_empty(), "{who}");
        assert_eq!(a, b, "{who}");
    }
}

#[test]
fn skipped_records_are_counted_and_the_streamed_file_balances() {
    let dir = tempfile::tempdir().unwrap();
    let big = tricky_file(dir.path());
    let (jit, _) = sample_lines();
    // `ingest` parses everything; `activity_hours` then equals what the prefiltered report saw.
    let (ingested, out) = ingest(std::slice::from_ref(&big), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(ingested.path());
    assert_counts_balance(&s);
    assert_eq!(s["files"][0]["records_skipped"], 0);
    let total = s["files"][0]["records_read"].as_u64().unwrap();
    let text = std::fs::read_to_string(&big).unwrap();
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    assert_eq!(
        total, lines,
        "every line of the streamed file, across the chunk boundary"
    );
    use sha2::Digest;
    assert_eq!(
        s["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    );

    let report_dir = dir.path().join("r");
    let r = jitaudit()
        .arg("report")
        .arg(&big)
        .args(["--format", "json", "--out", report_dir.to_str().unwrap()])
        .env("SOURCE_DATE_EPOCH", NOW)
        .output()
        .unwrap();
    assert!(r.status.code().unwrap() <= 1, "{}", stderr(&r));
    let v: Value =
        serde_json::from_slice(&std::fs::read(report_dir.join("summary.json")).unwrap()).unwrap();
    let f = &v["inputs"][0];
    let (read, used, skipped) = (
        f["records_read"].as_u64().unwrap(),
        f["records_used"].as_u64().unwrap(),
        f["records_skipped"].as_u64().unwrap(),
    );
    assert_eq!(read, total);
    assert_eq!(
        read,
        used + f["records_rejected"].as_u64().unwrap() + skipped
    );
    assert_eq!(
        used as usize,
        jit.len(),
        "only the JIT and NSG records were parsed"
    );
    assert!(skipped > 10_000);
    let hours = table(ingested.path(), "activity_hours");
    let counted: i64 = hours
        .column("records")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .sum();
    assert_eq!(counted as u64, total);
}

#[test]
fn a_rejected_line_past_the_first_chunk_is_named_by_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let (_, other) = sample_lines();
    let mut text = String::new();
    let mut lines = 0;
    while text.len() < CHUNK + (1 << 20) {
        text.push_str(&other[lines % other.len()]);
        text.push('\n');
        lines += 1;
    }
    text.push_str("{\"time\": \"2026-11-02T00:00:00Z\", \"operationName\": \n");
    let path = dir.path().join("cut-PT1H.json");
    std::fs::write(&path, &text).unwrap();
    let (ingested, out) = ingest(std::slice::from_ref(&path), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(ingested.path());
    assert_counts_balance(&s);
    let f = &s["files"][0];
    assert_eq!(f["records_rejected"], 1);
    let at = f["rejections"][0]["locations"][0].as_str().unwrap();
    assert!(at.contains(&format!("cut-PT1H.json:{}", lines + 1)), "{at}");
}
