//! `jitaudit query` and `jitaudit queries`: every saved query on the sample, parameters bound
//! as literals, several statements, errors that list the tables, each output format.

use std::path::{Path, PathBuf};

use crate::util::*;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

fn query(args: &[&str]) -> std::process::Output {
    jitaudit().arg("query").args(args).output().unwrap()
}

#[test]
fn every_saved_query_runs_on_the_sample_and_returns_rows() {
    let (dir, out) = ingest(&[sample()], &[]);
    assert!(out.status.success());
    let d = dir.path().to_str().unwrap();
    let config = sample().join("jitaudit.toml");
    for q in jitaudit::queries::all() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("queries")
            .join(format!("{}.sql", q.name));
        let out = query(&[
            d,
            "--file",
            file.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "--param",
            "vm=web-01",
            "--param",
            "caller=bob@contoso.com",
        ]);
        assert!(out.status.success(), "{}: {}", q.name, stderr(&out));
        let rows: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: {e}", q.name));
        assert!(
            !rows.as_array().unwrap().is_empty(),
            "{} returned no rows on the sample",
            q.name
        );
    }
    let list = stdout(&jitaudit().arg("queries").output().unwrap());
    assert!(
        list.contains("vm_access_history") && list.contains("--param vm=..."),
        "{list}"
    );
}

#[test]
fn parameters_are_literals_not_sql() {
    let d = sample();
    let d = d.to_str().unwrap();
    let sql = "SELECT COUNT(*) AS n FROM requests WHERE requestor = :who";
    let ok = query(&[d, sql, "--param", "who=bob@contoso.com", "--format", "csv"]);
    assert!(
        stdout(&ok).lines().nth(1).unwrap().parse::<u32>().unwrap() > 0,
        "{}",
        stdout(&ok)
    );
    // An injection attempt is a string that matches nobody, not a widened WHERE clause.
    let evil = query(&[d, sql, "--param", "who=x' OR '1'='1", "--format", "csv"]);
    assert!(evil.status.success(), "{}", stderr(&evil));
    assert_eq!(stdout(&evil), "n\n0\n");
    let missing = query(&[d, sql]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("--param who=VALUE"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn several_statements_print_the_last_and_errors_list_the_tables() {
    let d = sample();
    let d = d.to_str().unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "-- two steps; the first makes a table\nCREATE TABLE ssh AS SELECT * FROM requests WHERE port = 22;\nSELECT COUNT(*) AS n FROM ssh;\n",
    )
    .unwrap();
    let out = query(&[
        d,
        "--file",
        file.path().to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("n\n"));
    let bad = query(&[d, "SELECT nope FROM requests"]);
    assert_eq!(bad.status.code(), Some(2));
    let text = stderr(&bad);
    assert!(
        text.contains("nope") && text.contains("requests (") && text.contains("nsg_rules ("),
        "{text}"
    );
}

#[test]
fn output_formats() {
    let d = sample();
    let d = d.to_str().unwrap();
    let sql =
        "SELECT requested_at, requestor, justification FROM requests ORDER BY requested_at LIMIT 3";
    let json = query(&[d, sql, "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert!(rows[0]["requested_at"].as_str().unwrap().ends_with('Z'));
    let table = query(&[d, sql]);
    assert!(stdout(&table).contains("(3 rows)"));
    let no_out = query(&[d, sql, "--format", "parquet"]);
    assert_eq!(no_out.status.code(), Some(2));
    let tmp = tempfile::tempdir().unwrap();
    let pq = tmp.path().join("r.parquet");
    let out = query(&[d, sql, "--format", "parquet", "--out", pq.to_str().unwrap()]);
    assert!(out.status.success());
    let f = std::fs::File::open(&pq).unwrap();
    use polars::prelude::SerReader;
    let df = polars::prelude::ParquetReader::new(f).finish().unwrap();
    assert_eq!(df.height(), 3);
    // A cell a spreadsheet would run is neutralised in CSV.
    let csv = query(&[d, "SELECT '=cmd()' AS x", "--format", "csv"]);
    assert_eq!(stdout(&csv), "x\n'=cmd()\n");
}
