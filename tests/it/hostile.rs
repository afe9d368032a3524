//! Inputs that attack the tools around jitaudit rather than jitaudit itself (issue 30): each
//! test is named after what broke.

use std::path::{Path, PathBuf};

use crate::util::*;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

/// The raw characters no terminal output may carry: ESC (colours, OSC window titles and
/// hyperlinks), BEL, and the right-to-left override.
const RAW: [char; 3] = ['\u{1b}', '\u{7}', '\u{202e}'];

/// A copy of one hour of the sample's Activity Log whose caller's name holds an OSC sequence, a
/// bell and a right-to-left override, as JSON escapes, beside the sample's policies.
fn hostile_caller(dir: &Path) -> (PathBuf, String) {
    let logs = sample().join("insights-activity-logs");
    let file = walk(&logs)
        .into_iter()
        .find(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.contains("initiate/action") && text.contains("carol@contoso.com")
        })
        .expect("an hour with carol's request");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "carol@contoso.com",
        r"carol\u001b]0;pwned\u0007\u202e@contoso.com",
    );
    let input = dir.join("hostile");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("PT1H.json"), text).unwrap();
    for arm in ["jit-policy-dev.json", "virtual-machines-dev.json"] {
        std::fs::copy(sample().join("arm").join(arm), input.join(arm)).unwrap();
    }
    (
        input,
        "carol\u{1b}]0;pwned\u{7}\u{202e}@contoso.com".to_string(),
    )
}

/// The first hour of the sample's Activity Log that holds a JIT request, and its text.
fn an_hour_with_a_jit_request() -> (PathBuf, String) {
    walk(&sample().join("insights-activity-logs"))
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f, text)
        })
        .find(|(_, text)| text.contains("initiate/action"))
        .expect("an hour with a JIT request")
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn terminal_escapes_in_a_caller_name_reach_no_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (input, name) = hostile_caller(dir.path());
    let input = input.to_str().unwrap();
    let views = [
        jitaudit()
            .args(["query", input, "SELECT DISTINCT caller FROM events"])
            .output()
            .unwrap(),
        jitaudit()
            .args(["scan", input, "--config"])
            .arg(sample().join("jitaudit.toml"))
            .output()
            .unwrap(),
        jitaudit().args(["caller", &name, input]).output().unwrap(),
    ];
    for out in &views {
        let (text, err) = (stdout(out), stderr(out));
        assert!(out.status.success(), "{err}");
        assert!(!text.contains(RAW), "raw control characters in {text:?}");
        assert!(!err.contains(RAW), "raw control characters in {err:?}");
        if text.contains("carol") {
            assert!(
                text.contains(r"carol\x1b]0;pwned\x07\u202e@contoso.com"),
                "the name, escaped, in {text}"
            );
        }
    }
    // The query and the caller view show the name.
    for out in [&views[0], &views[2]] {
        assert!(stdout(out).contains(r"carol\x1b]0;pwned\x07\u202e@contoso.com"));
    }
    // The data itself stays exact where it is data: JSON keeps the characters.
    let json = jitaudit()
        .args([
            "query",
            input,
            "SELECT DISTINCT caller FROM events",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["caller"].as_str() == Some(name.as_str())),
        "{rows}"
    );
}

/// Issue 30, item 5: a link to a policy file, a link to a folder of activity logs, a link
/// back to the folder itself and a FIFO, inside a walked folder, were passed over in silence.
/// Links are followed (a loop once), and what is not read is listed with why.
#[test]
fn links_are_followed_and_fifos_and_loops_listed_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let logs = walk(&sample().join("insights-activity-logs"))
        .into_iter()
        .next()
        .unwrap();
    let hour = logs.parent().unwrap();
    std::os::unix::fs::symlink(
        sample().join("arm/jit-policy-dev.json"),
        input.join("policy.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(hour, input.join("logs")).unwrap();
    std::os::unix::fs::symlink(&input, input.join("again")).unwrap();
    let fifo = input.join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (out, run) = ingest(std::slice::from_ref(&input), &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let s = summary(out.path());
    let read: Vec<&str> = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(read.iter().any(|p| p.ends_with("policy.json")), "{read:?}");
    assert!(read.iter().any(|p| p.contains("/logs/")), "{read:?}");
    let skipped = s["skipped"].to_string();
    assert!(
        skipped.contains("pipe") && skipped.contains("not a regular file"),
        "{skipped}"
    );
    assert!(
        skipped.contains("again") && skipped.contains("a link back to"),
        "{skipped}"
    );
    let printed = stdout(&run);
    assert!(
        printed.contains("skipped") && printed.contains("pipe"),
        "{printed}"
    );
}

/// Issue 30, item 6: a missing path or a damaged ingested directory among good inputs made
/// `report` exit 2 with nothing written. The rest is read and written, the failure is at the
/// top of the report, and the run exits 2.
#[test]
fn one_unreadable_input_leaves_the_report_written_with_the_failure_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("ingested");
    std::fs::create_dir(&damaged).unwrap();
    std::fs::write(damaged.join("ingest-summary.json"), "not json").unwrap();
    let out = dir.path().join("report");
    let run = jitaudit()
        .arg("report")
        .arg(sample())
        .arg(dir.path().join("missing"))
        .arg(&damaged)
        .arg("--config")
        .arg(sample().join("jitaudit.toml"))
        .arg("--out")
        .arg(&out)
        .env("SOURCE_DATE_EPOCH", "1795000000")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(err.contains("missing") && err.contains("ingested"), "{err}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["file_errors"].as_array().unwrap().len(),
        2,
        "{summary}"
    );
    assert!(summary["counts"]["findings"].as_u64().unwrap() > 30);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let top = html
        .find("2 input(s) could not be read")
        .expect("the failure in the report");
    assert!(
        top < html.find("<section id=\"summary\"").unwrap(),
        "at the top"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("**2 input(s) could not be read**"), "{md}");
    // A file that cannot be opened (a socket here: root may open a file of mode 000) is one
    // input's error too, beside a good one.
    let socket = dir.path().join("socket.json");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let run = jitaudit()
        .arg("report")
        .arg(sample())
        .arg(&socket)
        .arg("--out")
        .arg(dir.path().join("report-2"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("socket.json"), "{}", stderr(&run));
    assert!(dir.path().join("report-2/report.html").is_file());
    // --strict still stops at the first.
    let strict = jitaudit()
        .arg("scan")
        .arg(sample())
        .arg(dir.path().join("missing"))
        .arg("--strict")
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
    assert!(stderr(&strict).contains("--strict"), "{}", stderr(&strict));
}

/// Issue 30, item 3: a few kilobytes of gzip holding a huge JSON document were inflated whole.
/// Beyond `--max-document-size` the file is an error naming it and the limit; the rest of the
/// inputs are still read.
#[test]
fn a_gzip_bomb_is_refused_beyond_the_document_limit() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.json.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"{\"value\": [").unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..8 {
        gz.write_all(&spaces).unwrap();
    }
    gz.write_all(b"]}").unwrap();
    let bytes = gz.finish().unwrap();
    assert!(bytes.len() < 64 << 10, "{} bytes", bytes.len());
    std::fs::write(&bomb, bytes).unwrap();
    let run = jitaudit()
        .args(["scan"])
        .arg(sample().join("arm"))
        .arg(&bomb)
        .args(["--max-document-size", "1M"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(
        err.contains("bomb.json.gz") && err.contains("--max-document-size"),
        "{err}"
    );
    // Within the limit, the same file is read (an empty list).
    let ok = jitaudit()
        .args(["ingest"])
        .arg(&bomb)
        .arg("--out")
        .arg(dir.path().join("t"))
        .args(["--max-document-size", "16M"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
}

/// Issue 30, smaller: a UTF-16 file (what Windows PowerShell 5.1 writes with `>`) was "binary
/// content of no known format". It is read, and the summary notes how.
#[test]
fn a_utf16_export_is_read_as_its_utf8_twin() {
    let dir = tempfile::tempdir().unwrap();
    let count = |file: &Path| {
        let out = jitaudit()
            .arg("query")
            .arg(file)
            .arg("SELECT COUNT(*) AS n, COUNT(DISTINCT caller) AS callers FROM events")
            .args(["--format", "csv"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    for (name, little) in [("le.json", true), ("be.json", false)] {
        let original = sample().join("log-analytics/AzureActivity-shared-jit.json");
        let text = std::fs::read_to_string(&original).unwrap();
        let mut bytes = if little {
            vec![0xff, 0xfe]
        } else {
            vec![0xfe, 0xff]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if little {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(count(&path), count(&original), "{name}");
        let (out, run) = ingest(std::slice::from_ref(&path), &[]);
        assert!(run.status.success(), "{}", stderr(&run));
        assert!(summary(out.path()).to_string().contains("read as UTF-16"));
    }
}

/// Issue 30, smaller: a JIT policy port out of 0-65535 was kept, and one not a number became
/// null, silently. The policy is rejected, with the reason.
#[test]
fn a_policy_port_that_is_not_a_port_rejects_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample().join("arm/jit-policy-dev.json")).unwrap())
            .unwrap();
    for (number, reason) in [
        (serde_json::json!(70000), "not a port"),
        (serde_json::json!(-1), "not a port"),
        (serde_json::json!(22.5), "not a port"),
        (serde_json::json!("22"), "no number"),
    ] {
        let mut policy = original.clone();
        policy["properties"]["virtualMachines"][0]["ports"][0]["number"] = number.clone();
        let path = dir.path().join("policy.json");
        std::fs::write(&path, policy.to_string()).unwrap();
        let (out, run) = ingest(&[path], &[]);
        assert!(run.status.success(), "{}", stderr(&run));
        let s = summary(out.path());
        let file = &s["files"][0];
        assert_eq!(file["records_rejected"], 1, "{number}: {file}");
        assert!(
            file["rejections"].to_string().contains(reason),
            "{number}: {file}"
        );
        assert_eq!(table(out.path(), "policies").height(), 0, "{number}");
    }
}

/// Issue 30, smaller: one number too large for a double failed a whole JSON document (where
/// JSON Lines lost one line). The record is kept, the field null, and the file's notes say so.
#[test]
fn a_number_too_large_for_a_double_costs_no_document() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sample().join("arm/jit-policy-dev.json")).unwrap();
    let huge = text.replacen(
        "\"kind\": \"Basic\"",
        "\"kind\": \"Basic\", \"weight\": 1e999",
        1,
    );
    assert_ne!(huge, text);
    let path = dir.path().join("policy.json");
    std::fs::write(&path, huge).unwrap();
    let (out, run) = ingest(std::slice::from_ref(&path), &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let s = summary(out.path());
    assert_eq!(s["files"][0]["records_used"], 1, "{s}");
    assert!(
        s["files"][0]["notes"]
            .to_string()
            .contains("1 number(s) too large"),
        "{s}"
    );
    assert!(table(out.path(), "policies").height() > 0);
}

/// Issue 30, item 10: the same two inputs in the other order spelt one policy id in another
/// case in `requests.csv` (the first of two equally rich copies was kept). The copy kept no
/// longer depends on the order: every permutation writes the same files.
#[test]
fn the_order_of_the_inputs_changes_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let original = sample().join("arm/jit-policies-prod.json");
    let shouted = dir.path().join("upper.json");
    std::fs::write(
        &shouted,
        std::fs::read_to_string(&original)
            .unwrap()
            .replace("/resourceGroups/", "/RESOURCEGROUPS/")
            .replace("Microsoft.Security", "MICROSOFT.SECURITY"),
    )
    .unwrap();
    let logs = sample().join("insights-activity-logs");
    let orders = [
        [logs.clone(), original.clone(), shouted.clone()],
        [logs.clone(), shouted.clone(), original.clone()],
        [shouted.clone(), original.clone(), logs.clone()],
    ];
    let mut seen: Option<Vec<Vec<u8>>> = None;
    for (i, inputs) in orders.iter().enumerate() {
        let out = dir.path().join(format!("out-{i}"));
        let run = jitaudit()
            .arg("report")
            .args(inputs)
            .args(["--format", "csv", "--out"])
            .arg(&out)
            .env("SOURCE_DATE_EPOCH", "1795000000")
            .output()
            .unwrap();
        assert!(run.status.code().unwrap() <= 1, "{}", stderr(&run));
        let files: Vec<Vec<u8>> = ["requests.csv", "findings.csv"]
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect();
        match &seen {
            None => seen = Some(files),
            Some(first) => assert!(first == &files, "order {i} wrote other files"),
        }
    }
}

/// Issue 30, item 8: a token typed into a justification reached the HTML, Markdown, CSV and
/// JSON verbatim. It is masked in every output, JIT021 says where it was, and `--no-redact`
/// keeps the data as it was, for forensics.
#[test]
fn a_credential_in_a_justification_is_masked_everywhere_and_reported() {
    let sample_rule = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/rules/JIT021");
    let input = sample_rule.join("positive.json");
    let signature = "c2lnbmF0dXJlLXZhbHVl";
    assert!(std::fs::read_to_string(&input).unwrap().contains(signature));
    let dir = tempfile::tempdir().unwrap();
    for (redact, out) in [
        (true, dir.path().join("masked")),
        (false, dir.path().join("raw")),
    ] {
        let mut cmd = jitaudit();
        cmd.arg("report").arg(&input).arg("--out").arg(&out);
        if !redact {
            cmd.arg("--no-redact");
        }
        let run = cmd.output().unwrap();
        assert!(run.status.code().unwrap() <= 1, "{}", stderr(&run));
        let mut all = String::new();
        for f in [
            "report.html",
            "report.md",
            "findings.csv",
            "requests.csv",
            "summary.json",
        ] {
            all.push_str(&std::fs::read_to_string(out.join(f)).unwrap());
        }
        assert_eq!(all.contains(signature), !redact, "redact {redact}");
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        let jit021 = summary["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == "JIT021")
            .count();
        assert!(jit021 > 0, "JIT021 fires either way");
    }
    let query = jitaudit()
        .arg("query")
        .arg(&input)
        .arg("SELECT properties FROM events")
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(query.status.success());
    assert!(!stdout(&query).contains(signature), "{}", stdout(&query));
}

/// Issue 30, item 10, for events: the same hour exported twice, its ids spelt in another case
/// (as one export upper-cases them), gave the spelling of whichever input came first. The
/// copy kept is now settled by the inputs' paths and the record's place in its input, so every
/// order gives the same answer, for a query of some columns and for the report alike.
#[test]
fn the_order_of_two_exports_of_one_event_changes_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = an_hour_with_a_jit_request();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    std::fs::write(&a, &text).unwrap();
    std::fs::write(&b, text.replace("/RESOURCEGROUPS/", "/resourcegroups/")).unwrap();
    assert_ne!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "two spellings"
    );
    let sql = "SELECT time, resource_id FROM events ORDER BY time, resource_id";
    let answer = |first: &Path, second: &Path| {
        let query = jitaudit()
            .arg("query")
            .args([first, second])
            .args([sql, "--format", "csv"])
            .output()
            .unwrap();
        assert!(query.status.success(), "{}", stderr(&query));
        let out = dir.path().join(format!(
            "r-{}",
            first.file_name().unwrap().to_string_lossy()
        ));
        let report = jitaudit()
            .arg("report")
            .args([first, second])
            .args(["--format", "csv", "--out"])
            .arg(&out)
            .env("SOURCE_DATE_EPOCH", "1795000000")
            .output()
            .unwrap();
        assert!(report.status.code().unwrap() <= 1, "{}", stderr(&report));
        (
            stdout(&query),
            std::fs::read(out.join("requests.csv")).unwrap(),
        )
    };
    assert!(answer(&a, &b) == answer(&b, &a));
}

/// Issue 30, smaller: a JIT request asking for port 70000 (or 22.5) was kept, its port out of
/// range or null. The record is rejected with its reason, whichever columns a query reads.
#[test]
fn a_jit_request_for_a_port_that_is_not_one_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (hour, text) = an_hour_with_a_jit_request();
    let lines = text.lines().count() as u64;
    for bad in ["70000", "22.5", "-3"] {
        let broken = text.replacen(r#"\"number\":22"#, &format!(r#"\"number\":{bad}"#), 1);
        assert_ne!(broken, text, "a request for port 22 in {}", hour.display());
        let file = dir.path().join("PT1H.json");
        std::fs::write(&file, broken).unwrap();
        let (out, run) = ingest(std::slice::from_ref(&file), &[]);
        assert!(run.status.success(), "{}", stderr(&run));
        let f = &summary(out.path())["files"][0];
        assert_eq!(f["records_rejected"], 1, "{bad}: {f}");
        assert!(f["rejections"].to_string().contains("not a port"), "{f}");
        // Counting rows reads the key's columns; counting callers, a few more; --all-columns,
        // every one: each load reads the request's properties, and rejects it.
        let counts = [
            ("SELECT COUNT(*) AS n FROM events", None),
            ("SELECT COUNT(caller) AS n FROM events", None),
            (
                "SELECT COUNT(caller) AS n FROM events",
                Some("--all-columns"),
            ),
        ];
        for (sql, extra) in counts {
            let mut q = jitaudit();
            q.arg("query").arg(&file).args([sql, "--format", "csv"]);
            q.args(extra);
            let run = q.output().unwrap();
            assert_eq!(
                stdout(&run),
                format!("n\n{}\n", lines - 1),
                "{bad} {extra:?}"
            );
            assert!(stderr(&run).contains("not a port"), "{}", stderr(&run));
        }
    }
}
