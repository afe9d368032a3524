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
