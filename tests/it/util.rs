//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use polars::prelude::*;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(rel: &str) -> PathBuf {
    fixtures().join(rel)
}

pub fn jitaudit() -> Command {
    Command::cargo_bin("jitaudit").expect("binary built")
}

/// Runs `jitaudit ingest` on `inputs` into a fresh directory; returns it and the output.
pub fn ingest(inputs: &[PathBuf], extra: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let out = tempfile::tempdir().expect("temp dir");
    let output = jitaudit()
        .arg("ingest")
        .args(inputs)
        .arg("--out")
        .arg(out.path())
        .args(extra)
        .output()
        .expect("jitaudit runs");
    (out, output)
}

pub fn table(dir: &Path, name: &str) -> DataFrame {
    let f = std::fs::File::open(dir.join(format!("{name}.parquet"))).expect("table written");
    ParquetReader::new(f).finish().expect("parquet reads")
}

pub fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("ingest-summary.json")).expect("summary written");
    serde_json::from_str(&text).expect("summary is JSON")
}

pub fn strings(df: &DataFrame, column: &str) -> Vec<Option<String>> {
    df.column(column)
        .expect("column exists")
        .str()
        .expect("string column")
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Every file's read = used + rejected, and the file list is non-empty.
pub fn assert_counts_balance(summary: &serde_json::Value) {
    let files = summary["files"].as_array().expect("files");
    assert!(!files.is_empty());
    for f in files {
        let read = f["records_read"].as_u64().unwrap();
        let used = f["records_used"].as_u64().unwrap();
        let rejected = f["records_rejected"].as_u64().unwrap();
        let skipped = f["records_skipped"].as_u64().unwrap_or(0);
        assert_eq!(read, used + rejected + skipped, "{}", f["path"]);
        let by_reason: u64 = f["rejections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["count"].as_u64().unwrap())
            .sum();
        assert_eq!(by_reason, rejected, "{}", f["path"]);
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    }
}

/// Every file under `dir`, in path order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}
